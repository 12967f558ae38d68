/* .npy parsing: magic, version, header length, and the Python-literal dict with descr, fortran_order and
 * shape. Only little-endian (or byte-order-free) f4, f2, f8 and integer arrays in C order are accepted. */
#include "npy.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Finds 'key' in the dict text and returns a pointer just past the following ':' (or NULL). */
static const char *al_npy_key(const char *h, const char *end, const char *key) {
    size_t kl = strlen(key);
    for (const char *p = h; p + kl + 2 <= end; p++) {
        if ((*p == '\'' || *p == '"') && (size_t)(end - p) > kl + 1 && !memcmp(p + 1, key, kl) && p[kl + 1] == *p) {
            const char *q = p + kl + 2;
            while (q < end && isspace((unsigned char)*q)) q++;
            if (q < end && *q == ':') return q + 1;
        }
    }
    return NULL;
}

static const char *al_skip_ws(const char *p, const char *end) {
    while (p < end && isspace((unsigned char)*p)) p++;
    return p;
}

al_status al_npy_parse_header(const uint8_t *buf, size_t n, al_npy *out, const char *fname, al_error *e) {
    static const uint8_t magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    if (n < 10 || memcmp(buf, magic, 6) != 0) return al_fail(e, AL_EFORMAT, fname, NULL, "not an HDF5 or .npy file");
    int major = buf[6];
    size_t hlen, hstart;
    if (major == 1) {
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
        hstart = 10;
    } else if (major == 2 || major == 3) {
        if (n < 12) return al_fail(e, AL_EFORMAT, fname, NULL, "truncated .npy header");
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        hstart = 12;
    } else {
        return al_fail(e, AL_EFORMAT, fname, NULL, ".npy format version %d is not supported", major);
    }
    if (hlen > 1 << 20 || hstart + hlen > n) return al_fail(e, AL_EFORMAT, fname, NULL, "truncated .npy header");
    const char *h = (const char *)buf + hstart, *end = h + hlen;

    const char *p = al_npy_key(h, end, "descr");
    if (!p) return al_fail(e, AL_EFORMAT, fname, NULL, ".npy header has no 'descr'");
    p = al_skip_ws(p, end);
    if (p >= end || (*p != '\'' && *p != '"')) return al_fail(e, AL_EDTYPE, fname, NULL, "structured .npy dtypes are not supported");
    char q = *p++;
    const char *ds = p;
    while (p < end && *p != q) p++;
    if (p >= end) return al_fail(e, AL_EFORMAT, fname, NULL, "malformed .npy header");
    char descr[16];
    size_t dl = (size_t)(p - ds);
    if (dl >= sizeof descr) return al_fail(e, AL_EDTYPE, fname, NULL, "unsupported .npy dtype");
    memcpy(descr, ds, dl);
    descr[dl] = 0;
    const char *ty = descr;
    if (*ty == '<' || *ty == '|' || *ty == '=') ty++;
    else if (*ty == '>') return al_fail(e, AL_EDTYPE, fname, NULL, "big-endian .npy data ('%s') is not supported", descr);
    if (!strcmp(ty, "f4")) out->dtype = AL_DT_F32;
    else if (!strcmp(ty, "f2")) out->dtype = AL_DT_F16;
    else if (!strcmp(ty, "f8")) out->dtype = AL_DT_F64;
    else if (!strcmp(ty, "i4")) out->dtype = AL_DT_I32;
    else if (!strcmp(ty, "u1") || !strcmp(ty, "b1")) out->dtype = AL_DT_U8;
    else return al_fail(e, AL_EDTYPE, fname, NULL, ".npy dtype '%s' is not supported", descr);

    p = al_npy_key(h, end, "fortran_order");
    if (!p) return al_fail(e, AL_EFORMAT, fname, NULL, ".npy header has no 'fortran_order'");
    p = al_skip_ws(p, end);
    if ((size_t)(end - p) >= 4 && !memcmp(p, "True", 4))
        return al_fail(e, AL_EFORMAT, fname, NULL, "Fortran-order .npy arrays are not supported (save with np.ascontiguousarray)");
    if ((size_t)(end - p) < 5 || memcmp(p, "False", 5) != 0) return al_fail(e, AL_EFORMAT, fname, NULL, "malformed .npy header");

    p = al_npy_key(h, end, "shape");
    if (!p) return al_fail(e, AL_EFORMAT, fname, NULL, ".npy header has no 'shape'");
    p = al_skip_ws(p, end);
    if (p >= end || *p != '(') return al_fail(e, AL_EFORMAT, fname, NULL, "malformed .npy shape");
    p++;
    out->rank = 0;
    for (;;) {
        p = al_skip_ws(p, end);
        if (p < end && *p == ')') break;
        if (p >= end || !isdigit((unsigned char)*p)) return al_fail(e, AL_EFORMAT, fname, NULL, "malformed .npy shape");
        int64_t v = 0;
        while (p < end && isdigit((unsigned char)*p)) {
            if (v > (INT64_MAX - 9) / 10) return al_fail(e, AL_EFORMAT, fname, NULL, ".npy shape too large");
            v = v * 10 + (*p++ - '0');
        }
        if (p < end && *p == 'L') p++;
        if (out->rank >= AL_NPY_MAX_RANK) return al_fail(e, AL_ESHAPE, fname, NULL, ".npy rank above %d", AL_NPY_MAX_RANK);
        out->shape[out->rank++] = v;
        p = al_skip_ws(p, end);
        if (p < end && *p == ',') p++;
        else if (p < end && *p == ')') break;
        else return al_fail(e, AL_EFORMAT, fname, NULL, "malformed .npy shape");
    }
    out->data_offset = (int64_t)(hstart + hlen);
    return AL_OK;
}

al_status al_npy_open(const char *path, al_npy *out, al_error *e) {
    memset(out, 0, sizeof *out);
    out->fd = open(path, O_RDONLY);
    if (out->fd < 0) return al_fail(e, errno == ENOENT ? AL_ENOENT : AL_EIO, path, NULL, "%s", strerror(errno));
    struct stat st;
    if (fstat(out->fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        al_npy_close(out);
        return al_fail(e, AL_EIO, path, NULL, "is a folder, not a file");
    }
    out->file_size = (int64_t)st.st_size;
    uint8_t head[4096];
    ssize_t got = pread(out->fd, head, sizeof head, 0);
    if (got < 0) {
        al_npy_close(out);
        return al_fail(e, AL_EIO, path, NULL, "%s", strerror(errno));
    }
    if (al_npy_parse_header(head, (size_t)got, out, path, e) != AL_OK) {
        al_npy_close(out);
        return e->status;
    }
    /* element count with overflow checks, then the size the data must have */
    int64_t count = 1;
    for (int i = 0; i < out->rank; i++) {
        if (out->shape[i] != 0 && count > INT64_MAX / 8 / out->shape[i]) {
            al_npy_close(out);
            return al_fail(e, AL_ESHAPE, path, NULL, ".npy shape too large");
        }
        count *= out->shape[i];
    }
    int64_t need = out->data_offset + count * (int64_t)al_dtype_size(out->dtype);
    if (out->file_size < need) {
        al_npy_close(out);
        return al_fail(e, AL_EFORMAT, path, NULL, "truncated .npy file: %lld bytes of data expected, %lld present",
                       (long long)(need - out->data_offset), (long long)(out->file_size - out->data_offset));
    }
    return AL_OK;
}

void al_npy_close(al_npy *f) {
    if (f->fd > 0) close(f->fd);
    f->fd = -1;
}

al_status al_npy_read(const al_npy *f, int64_t elem_off, int64_t n_elem, void *dst, const char *fname, al_error *e) {
    size_t es = al_dtype_size(f->dtype);
    int64_t off = f->data_offset + elem_off * (int64_t)es;
    size_t left = (size_t)n_elem * es;
    char *p = dst;
    while (left > 0) {
        ssize_t r = pread(f->fd, p, left, off);
        if (r <= 0) return al_fail(e, AL_EIO, fname, NULL, "read failed (truncated file?)");
        p += r;
        off += r;
        left -= (size_t)r;
    }
    return AL_OK;
}
