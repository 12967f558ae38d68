/* Drift-file creation: the root attributes only; layout and atomic finish are shared with the format-v1
 * writer, so both kinds of file are written (and cleaned up on failure) the same way. */
#include "drift_writer.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../core/h5.h"
#include "../core/outdir.h"

static herr_t al_driftw_attr_str(hid_t obj, const char *name, const char *v) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t r = a >= 0 ? H5Awrite(a, t, &v) : -1;
    if (a >= 0) H5Aclose(a);
    H5Tclose(t);
    H5Sclose(sp);
    return r;
}

al_status al_driftw_create(al_v1_writer *w, const char *path, const char *model, const char *source, const char *note,
                          al_error *e) {
    if (al_v1_open_tmp(w, path, AL_DT_F32, e) != AL_OK) return e->status;
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(w->file, "format_version", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    long long one = 1;
    herr_t r = a >= 0 ? H5Awrite(a, H5T_NATIVE_LLONG, &one) : -1;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    r |= al_driftw_attr_str(w->file, "attnlab_format", "drift");
    r |= al_driftw_attr_str(w->file, "model", model ? model : "unknown");
    r |= al_driftw_attr_str(w->file, "source", source ? source : "attnlab");
    if (note) r |= al_driftw_attr_str(w->file, "note", note);
    if (r < 0) {
        al_v1_abort(w);
        return al_fail(e, AL_EWRITE, path, NULL, "cannot write the root attributes");
    }
    return AL_OK;
}
