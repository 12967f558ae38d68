/* libFuzzer target: whole recording files opened and streamed through the sinks analysis with a small memory
 * budget, from the maps and (when recorded) from q and k. An input starting with the .npy magic is the file
 * itself; any other input is a recipe (h5recipe.h) for an HDF5 recording. With ATTNLAB_FUZZ_RAW_HDF5=1 an
 * input with the HDF5 signature is also taken as the file itself: that explores HDF5's own decoder too,
 * whose hangs and crashes on corrupt metadata (HDF5 1.10.8) are outside attnlab's reach. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyses/sinks.h"
#include "core/alloc.h"
#include "fuzzutil.h"
#include "h5recipe.h"

static int al_verbose = -1; /* ATTNLAB_FUZZ_VERBOSE=1: print what each input led to (for checking seeds) */

static void al_fuzz_say(const char *what, const al_error *e) {
    if (al_verbose > 0) fprintf(stderr, "fuzz_recording: %s: %s %s: %s\n", what, al_status_name(e->status), e->where, e->msg);
}

static void al_fuzz_sinks(al_rec *r, int from_qk) {
    al_error e;
    al_error_clear(&e);
    al_exec x;
    al_exec_defaults(&x);
    x.mem = 16 << 10; /* a few rows per block: exercises block boundaries */
    x.threads = 2;
    x.from_qk = from_qk;
    al_sinks_params p;
    al_sinks_defaults(&p);
    p.tokens = r->T;
    p.positions = r->T < 10 ? r->T : 10;
    al_sinks_out out;
    if (al_sinks_compute(r, &p, &x, &out, &e) == AL_OK) { /* the derived numbers, as the emitter takes them */
        double rate[10], mean[64];
        al_sinks_rates(&out, rate, NULL);
        if (out.T <= 64) al_sinks_head_alpha(&out, out.L - 1, out.H - 1, mean);
    }
    al_sinks_out_free(&out);
    al_fuzz_say(from_qk ? "sinks from q/k" : "sinks", &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    al_fuzz_init();
    static const uint8_t h5sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    static int raw_h5 = -1;
    if (raw_h5 < 0) raw_h5 = getenv("ATTNLAB_FUZZ_RAW_HDF5") && atoi(getenv("ATTNLAB_FUZZ_RAW_HDF5")) > 0;
    const char *path;
    if (size >= 6 && !memcmp(data, "\x93NUMPY", 6)) {
        path = al_fuzz_file(data, size, ".npy");
    } else if (raw_h5 && size >= 8 && !memcmp(data, h5sig, 8)) {
        path = al_fuzz_file(data, size, ".h5");
    } else {
        path = al_fuzz_file(NULL, 0, ".h5");
        if (al_h5_recipe_write(data, size, path) != 0) return 0;
    }
    al_error e;
    al_error_clear(&e);
    al_rec *r = NULL;
    if (al_verbose < 0) al_verbose = getenv("ATTNLAB_FUZZ_VERBOSE") && atoi(getenv("ATTNLAB_FUZZ_VERBOSE")) > 0;
    if (al_rec_open(path, &r, &e) != AL_OK) {
        al_fuzz_say("open", &e);
        return 0;
    }
    al_fuzz_sinks(r, 0);
    if (r->has[AL_T_Q] && r->has[AL_T_K] && r->has[AL_T_ATT]) al_fuzz_sinks(r, 1);
    al_rec_close(r);
    return 0;
}
