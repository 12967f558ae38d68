/* GGUF reader: a bounded cursor walks the header, the metadata and the tensor table; nothing is read
 * past the end of the file, and each tensor's bytes are checked to lie inside the data section. */
#include "gguf.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/alloc.h"

#define AL_GGUF_MAGIC 0x46554747u /* "GGUF" little-endian */
#define AL_GGUF_MAX_COUNT (1ull << 40)

typedef struct {
    const uint8_t *p, *end;
    const char *path;
    char what[320]; /* the key or tensor being read, for messages */
} al_gcur;

static al_status al_gc_fail(al_gcur *c, al_error *e, const char *why) {
    return al_fail(e, AL_EFORMAT, c->path, c->what[0] ? c->what : NULL, "%s", why);
}

static al_status al_gc_take(al_gcur *c, uint64_t n, const uint8_t **out, al_error *e) {
    *out = NULL;
    if (n > (uint64_t)(c->end - c->p)) return al_gc_fail(c, e, "truncated: the file ends inside it");
    *out = c->p;
    c->p += n;
    return AL_OK;
}

static al_status al_gc_u32(al_gcur *c, uint32_t *v, al_error *e) {
    *v = 0;
    const uint8_t *b = NULL;
    if (al_gc_take(c, 4, &b, e) != AL_OK) return e->status;
    memcpy(v, b, 4);
    return AL_OK;
}

static al_status al_gc_u64(al_gcur *c, uint64_t *v, al_error *e) {
    *v = 0;
    const uint8_t *b = NULL;
    if (al_gc_take(c, 8, &b, e) != AL_OK) return e->status;
    memcpy(v, b, 8);
    return AL_OK;
}

static al_status al_gc_str(al_gcur *c, const uint8_t **s, uint64_t *len, al_error *e) {
    if (al_gc_u64(c, len, e) != AL_OK) return e->status;
    return al_gc_take(c, *len, s, e);
}

static const int al_gv_size[AL_GV_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

/* Skips one value of type t (nested arrays up to depth 3). */
static al_status al_gc_skip(al_gcur *c, uint32_t t, int depth, al_error *e) {
    const uint8_t *b = NULL;
    uint64_t n = 0;
    if (t >= AL_GV_COUNT) return al_gc_fail(c, e, "unknown value type");
    if (t == AL_GV_STRING) return al_gc_str(c, &b, &n, e);
    if (t != AL_GV_ARRAY) return al_gc_take(c, (uint64_t)al_gv_size[t], &b, e);
    uint32_t et = 0;
    if (depth > 3) return al_gc_fail(c, e, "arrays nested deeper than 3");
    if (al_gc_u32(c, &et, e) != AL_OK || al_gc_u64(c, &n, e) != AL_OK) return e->status;
    if (et >= AL_GV_COUNT) return al_gc_fail(c, e, "array of an unknown value type");
    if (et != AL_GV_STRING && et != AL_GV_ARRAY) {
        if (n > (uint64_t)(c->end - c->p) / (uint64_t)al_gv_size[et])
            return al_gc_fail(c, e, "truncated: the array runs past the end of the file");
        return al_gc_take(c, n * (uint64_t)al_gv_size[et], &b, e);
    }
    for (uint64_t i = 0; i < n; i++)
        if (al_gc_skip(c, et, depth + 1, e) != AL_OK) return e->status;
    return AL_OK;
}

static al_status al_gguf_read_kv(al_gcur *c, al_gguf_kv *kv, int64_t i, al_error *e) {
    const uint8_t *k = NULL;
    snprintf(c->what, sizeof c->what, "metadata entry %lld", (long long)i);
    if (al_gc_str(c, &k, &kv->key_len, e) != AL_OK) return e->status;
    kv->key = (const char *)k;
    snprintf(c->what, sizeof c->what, "%.*s", (int)(kv->key_len < 256 ? kv->key_len : 256), kv->key);
    uint32_t t = 0;
    if (al_gc_u32(c, &t, e) != AL_OK) return e->status;
    if (t >= AL_GV_COUNT) return al_gc_fail(c, e, "unknown value type");
    kv->type = (al_gguf_vtype)t;
    const uint8_t *start = c->p;
    if (t == AL_GV_ARRAY) {
        uint32_t et = 0;
        if (al_gc_u32(c, &et, e) != AL_OK || al_gc_u64(c, &kv->count, e) != AL_OK) return e->status;
        kv->elem = (al_gguf_vtype)et;
        c->p = start;
        kv->val = start + 12;
    } else if (t == AL_GV_STRING) {
        kv->val = start + 8;
    } else {
        kv->val = start;
    }
    if (al_gc_skip(c, t, 0, e) != AL_OK) return e->status;
    if (t == AL_GV_STRING) memcpy(&kv->count, start, 8);
    if (t == AL_GV_BOOL && *kv->val > 1) return al_gc_fail(c, e, "a bool that is neither 0 nor 1");
    return AL_OK;
}

static const struct {
    uint32_t t;
    const char *name;
    int64_t elems, bytes;
} al_gt_table[] = {
    {AL_GT_F32, "F32", 1, 4},       {AL_GT_F16, "F16", 1, 2},       {AL_GT_BF16, "BF16", 1, 2},
    {AL_GT_Q4_0, "Q4_0", 32, 18},   {AL_GT_Q4_1, "Q4_1", 32, 20},   {AL_GT_Q5_0, "Q5_0", 32, 22},
    {AL_GT_Q5_1, "Q5_1", 32, 24},   {AL_GT_Q8_0, "Q8_0", 32, 34},   {AL_GT_Q4_K, "Q4_K", 256, 144},
    {AL_GT_Q5_K, "Q5_K", 256, 176}, {AL_GT_Q6_K, "Q6_K", 256, 210},
};
#define AL_GT_N (sizeof al_gt_table / sizeof *al_gt_table)

static int al_gt_index(uint32_t t) {
    for (size_t i = 0; i < AL_GT_N; i++)
        if (al_gt_table[i].t == t) return (int)i;
    return -1;
}

const char *al_gguf_type_name(uint32_t t) {
    int i = al_gt_index(t);
    return i < 0 ? NULL : al_gt_table[i].name;
}
int64_t al_gguf_block_elems(uint32_t t) {
    int i = al_gt_index(t);
    return i < 0 ? 0 : al_gt_table[i].elems;
}
int64_t al_gguf_block_bytes(uint32_t t) {
    int i = al_gt_index(t);
    return i < 0 ? 0 : al_gt_table[i].bytes;
}

static al_status al_gguf_read_tinfo(al_gcur *c, al_gguf_tensor *t, int64_t i, al_error *e) {
    const uint8_t *nm = NULL;
    uint64_t nl = 0;
    snprintf(c->what, sizeof c->what, "tensor %lld", (long long)i);
    if (al_gc_str(c, &nm, &nl, e) != AL_OK) return e->status;
    if (nl == 0 || nl >= AL_GGUF_MAX_NAME || memchr(nm, 0, nl))
        return al_gc_fail(c, e, "tensor name empty, too long or with a NUL byte");
    memcpy(t->name, nm, nl);
    t->name[nl] = 0;
    snprintf(c->what, sizeof c->what, "tensor %s", t->name);
    uint32_t nd = 0, ty = 0;
    if (al_gc_u32(c, &nd, e) != AL_OK) return e->status;
    if (nd < 1 || nd > AL_GGUF_MAX_DIMS) return al_gc_fail(c, e, "number of dimensions outside 1..4");
    t->n_dims = (int)nd;
    uint64_t elems = 1;
    for (int d = 0; d < AL_GGUF_MAX_DIMS; d++) {
        uint64_t ne = 1;
        if (d < (int)nd && al_gc_u64(c, &ne, e) != AL_OK) return e->status;
        if (ne == 0 || ne > (1ull << 40) || elems > (1ull << 48) / ne)
            return al_gc_fail(c, e, "a dimension is 0 or the shape is absurdly large");
        t->ne[d] = (int64_t)ne;
        elems *= ne;
    }
    if (al_gc_u32(c, &ty, e) != AL_OK || al_gc_u64(c, &t->offset, e) != AL_OK) return e->status;
    int k = al_gt_index(ty);
    if (k < 0) {
        char why[160];
        snprintf(why, sizeof why,
                 "tensor type %u is not supported (F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q4_K Q5_K Q6_K are)", ty);
        return al_gc_fail(c, e, why);
    }
    t->type = (al_gguf_ttype)ty;
    if (t->ne[0] % al_gt_table[k].elems)
        return al_gc_fail(c, e, "row length is not a multiple of the type's block size");
    t->nbytes = elems / (uint64_t)al_gt_table[k].elems * (uint64_t)al_gt_table[k].bytes;
    return AL_OK;
}

/* Places every tensor in the data section: aligned, inside the file, no two overlapping names. */
static al_status al_gguf_place(al_gguf *g, al_gcur *c, al_error *e) {
    uint64_t hdr = (uint64_t)(c->p - g->map);
    uint64_t data = (hdr + g->alignment - 1) / g->alignment * g->alignment;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        al_gguf_tensor *t = &g->tensor[i];
        snprintf(c->what, sizeof c->what, "tensor %s", t->name);
        if (t->offset % g->alignment) return al_gc_fail(c, e, "data offset is not aligned to general.alignment");
        if (data > g->size || t->offset > g->size - data || t->nbytes > g->size - data - t->offset)
            return al_gc_fail(c, e, "truncated: its data runs past the end of the file");
        t->data = g->map + data + t->offset;
        for (int64_t j = 0; j < i; j++)
            if (!strcmp(g->tensor[j].name, t->name)) return al_gc_fail(c, e, "tensor name appears twice");
    }
    return AL_OK;
}

static al_status al_gguf_header(al_gguf *g, al_gcur *c, al_error *e) {
    uint32_t magic = 0;
    uint64_t nt = 0, nkv = 0;
    snprintf(c->what, sizeof c->what, "header");
    if (al_gc_u32(c, &magic, e) != AL_OK) return e->status;
    if (magic != AL_GGUF_MAGIC) return al_gc_fail(c, e, "not a GGUF file (no GGUF magic)");
    if (al_gc_u32(c, &g->version, e) != AL_OK) return e->status;
    if (g->version != 2 && g->version != 3) {
        char why[96];
        snprintf(why, sizeof why, "GGUF version %u is not supported (2 and 3 are)", g->version);
        return al_gc_fail(c, e, why);
    }
    if (al_gc_u64(c, &nt, e) != AL_OK || al_gc_u64(c, &nkv, e) != AL_OK) return e->status;
    /* every tensor info takes at least 28 bytes and every entry 13: larger counts cannot fit in the file */
    if (nt > g->size / 28 || nkv > g->size / 13)
        return al_gc_fail(c, e, "tensor or metadata count larger than the file can hold");
    g->n_tensors = (int64_t)nt;
    g->n_kv = (int64_t)nkv;
    return AL_OK;
}

al_status al_gguf_parse(const uint8_t *buf, size_t n, const char *path, al_gguf *g, al_error *e) {
    memset(g, 0, sizeof *g);
    snprintf(g->path, sizeof g->path, "%s", path);
    g->map = buf;
    g->size = n;
    al_gcur c = {buf, buf + n, g->path, ""};
    if (al_gguf_header(g, &c, e) != AL_OK) return e->status;
    g->kv = al_calloc((size_t)g->n_kv + 1, sizeof *g->kv);
    g->tensor = al_calloc((size_t)g->n_tensors + 1, sizeof *g->tensor);
    if (!g->kv || !g->tensor) {
        al_gguf_free(g);
        return al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
    }
    al_status st = AL_OK;
    for (int64_t i = 0; st == AL_OK && i < g->n_kv; i++)
        st = al_gguf_read_kv(&c, &g->kv[i], i, e);
    g->alignment = 32;
    const al_gguf_kv *al = st == AL_OK ? al_gguf_find(g, "general.alignment") : NULL;
    if (al) {
        uint32_t a = 0;
        if (al->type == AL_GV_U32) memcpy(&a, al->val, 4);
        if (a == 0 || (a & (a - 1)))
            st = al_fail(e, AL_EFORMAT, path, "general.alignment", "must be a power of two (uint32)");
        g->alignment = a;
    }
    for (int64_t i = 0; st == AL_OK && i < g->n_tensors; i++)
        st = al_gguf_read_tinfo(&c, &g->tensor[i], i, e);
    if (st == AL_OK) st = al_gguf_place(g, &c, e);
    if (st != AL_OK) al_gguf_free(g);
    return st;
}

void al_gguf_free(al_gguf *g) {
    al_free(g->kv);
    al_free(g->tensor);
    g->kv = NULL;
    g->tensor = NULL;
}

int al_gguf_is_gguf(const char *path) {
    FILE *f = fopen(path, "rb");
    uint32_t m = 0;
    if (!f) return 0;
    size_t got = fread(&m, 4, 1, f);
    fclose(f);
    return got == 1 && m == AL_GGUF_MAGIC;
}

al_status al_gguf_open(const char *path, al_gguf **out, al_error *e) {
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return al_fail(e, AL_ENOENT, path, NULL, "cannot open the model file");
    struct stat sb;
    if (fstat(fd, &sb) != 0 || sb.st_size < 24) {
        close(fd);
        return al_fail(e, AL_EFORMAT, path, "header", "truncated: shorter than a GGUF header");
    }
    void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return al_fail(e, AL_EIO, path, NULL, "cannot map the file");
    al_gguf *g = al_calloc(1, sizeof *g);
    if (!g) {
        munmap(map, (size_t)sb.st_size);
        return al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
    }
    if (al_gguf_parse(map, (size_t)sb.st_size, path, g, e) != AL_OK) {
        munmap(map, (size_t)sb.st_size);
        al_free(g);
        return e->status;
    }
    *out = g;
    return AL_OK;
}

void al_gguf_close(al_gguf *g) {
    if (!g) return;
    if (g->map) munmap((void *)g->map, g->size);
    al_gguf_free(g);
    al_free(g);
}

const al_gguf_kv *al_gguf_find(const al_gguf *g, const char *key) {
    size_t l = strlen(key);
    for (int64_t i = 0; i < g->n_kv; i++)
        if (g->kv[i].key_len == l && !memcmp(g->kv[i].key, key, l)) return &g->kv[i];
    return NULL;
}

const al_gguf_tensor *al_gguf_tensor_find(const al_gguf *g, const char *name) {
    for (int64_t i = 0; i < g->n_tensors; i++)
        if (!strcmp(g->tensor[i].name, name)) return &g->tensor[i];
    return NULL;
}

/* Numeric value at p of type t as double; *is_int says whether t is an integer type. */
static double al_gv_num(al_gguf_vtype t, const uint8_t *p, int *is_int) {
    union {
        uint8_t u8;
        int8_t i8;
        uint16_t u16;
        int16_t i16;
        uint32_t u32;
        int32_t i32;
        float f;
        uint64_t u64;
        int64_t i64;
        double d;
    } v;
    memcpy(&v, p, t < AL_GV_COUNT && al_gv_size[t] ? (size_t)al_gv_size[t] : 0);
    *is_int = t != AL_GV_F32 && t != AL_GV_F64;
    switch (t) {
    case AL_GV_U8:
    case AL_GV_BOOL: return v.u8;
    case AL_GV_I8: return v.i8;
    case AL_GV_U16: return v.u16;
    case AL_GV_I16: return v.i16;
    case AL_GV_U32: return v.u32;
    case AL_GV_I32: return v.i32;
    case AL_GV_F32: return v.f;
    case AL_GV_U64: return (double)v.u64;
    case AL_GV_I64: return (double)v.i64;
    case AL_GV_F64: return v.d;
    default: *is_int = 0; return 0;
    }
}

double al_gguf_arr_num(const al_gguf_kv *kv, uint64_t i) {
    int is_int;
    return al_gv_num(kv->elem, kv->val + i * (uint64_t)al_gv_size[kv->elem < AL_GV_COUNT ? kv->elem : 0], &is_int);
}

static const al_gguf_kv *al_gguf_need(const al_gguf *g, const char *key, int required, al_error *e) {
    const al_gguf_kv *kv = al_gguf_find(g, key);
    if (!kv && required) al_fail(e, AL_EFORMAT, g->path, key, "required metadata key is missing");
    return kv;
}

al_status al_gguf_get_int(const al_gguf *g, const char *key, int required, int64_t *v, al_error *e) {
    const al_gguf_kv *kv = al_gguf_need(g, key, required, e);
    if (!kv) return required ? e->status : AL_OK;
    if (kv->type == AL_GV_U64 || kv->type == AL_GV_I64) {
        uint64_t u;
        memcpy(&u, kv->val, 8);
        if (kv->type == AL_GV_U64 && u > (uint64_t)INT64_MAX)
            return al_fail(e, AL_EFORMAT, g->path, key, "integer out of range");
        *v = (int64_t)u;
        return AL_OK;
    }
    int is_int;
    double x = al_gv_num(kv->type, kv->val, &is_int);
    if (!is_int || kv->type == AL_GV_BOOL) return al_fail(e, AL_EFORMAT, g->path, key, "expected an integer");
    *v = (int64_t)x;
    return AL_OK;
}

al_status al_gguf_get_float(const al_gguf *g, const char *key, int required, double *v, al_error *e) {
    const al_gguf_kv *kv = al_gguf_need(g, key, required, e);
    if (!kv) return required ? e->status : AL_OK;
    int is_int;
    double x = al_gv_num(kv->type, kv->val, &is_int);
    if (is_int) return al_fail(e, AL_EFORMAT, g->path, key, "expected a float");
    *v = x;
    return AL_OK;
}

al_status al_gguf_get_bool(const al_gguf *g, const char *key, int required, int *v, al_error *e) {
    const al_gguf_kv *kv = al_gguf_need(g, key, required, e);
    if (!kv) return required ? e->status : AL_OK;
    if (kv->type != AL_GV_BOOL) return al_fail(e, AL_EFORMAT, g->path, key, "expected a bool");
    *v = kv->val[0];
    return AL_OK;
}

al_status al_gguf_get_str(const al_gguf *g, const char *key, int required, char *buf, size_t n, al_error *e) {
    buf[0] = 0;
    const al_gguf_kv *kv = al_gguf_need(g, key, required, e);
    if (!kv) return required ? e->status : AL_OK;
    if (kv->type != AL_GV_STRING) return al_fail(e, AL_EFORMAT, g->path, key, "expected a string");
    size_t l = kv->count < n - 1 ? (size_t)kv->count : n - 1;
    memcpy(buf, kv->val, l);
    buf[l] = 0;
    return AL_OK;
}

void al_gguf_arr_strs(const al_gguf_kv *kv, const char **ptr, uint64_t *len) {
    const uint8_t *p = kv->val;
    for (uint64_t i = 0; i < kv->count; i++) {
        memcpy(&len[i], p, 8);
        ptr[i] = (const char *)p + 8;
        p += 8 + len[i];
    }
}
