/* model/: the tuned dequantisers against their element-by-element references on random bytes (every bit
 * pattern of the scales), the dequantising linear layer against its reference (with and without the q/k row
 * reordering), rotary embedding worked values, and the GGUF parser on random corruptions of a valid image. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "model/gguf.h"
#include "model/llama_gguf.h"
#include "model/quant.h"
#include "testutil.h"

static const uint32_t types[] = {AL_GT_F32,  AL_GT_F16,  AL_GT_BF16, AL_GT_Q4_0, AL_GT_Q4_1, AL_GT_Q5_0,
                                 AL_GT_Q5_1, AL_GT_Q8_0, AL_GT_Q4_K, AL_GT_Q5_K, AL_GT_Q6_K};

static void random_bytes(al_rng *g, uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)al_rng_below(g, 256);
}

Test(model, dequant_tuned_matches_reference_bit_for_bit) {
    al_rng g;
    al_rng_seed(&g, 16, 0);
    for (size_t k = 0; k < sizeof types / sizeof *types; k++) {
        int64_t n = 4 * 256, bytes = n / al_gguf_block_elems(types[k]) * al_gguf_block_bytes(types[k]);
        uint8_t *src = malloc((size_t)bytes);
        float *a = malloc(sizeof(float) * (size_t)n), *b = malloc(sizeof(float) * (size_t)n);
        for (int trial = 0; trial < 20; trial++) {
            random_bytes(&g, src, (size_t)bytes);
            al_dequant(types[k], src, n, a);
            al_dequant_ref(types[k], src, n, b);
            for (int64_t i = 0; i < n; i++)
                cr_assert(memcmp(&a[i], &b[i], 4) == 0 || (isnan(a[i]) && isnan(b[i])), "%s element %lld: %g vs %g",
                          al_gguf_type_name(types[k]), (long long)i, a[i], b[i]);
        }
        free(src), free(a), free(b);
    }
}

Test(model, dequant_rows_picks_the_rows) {
    al_rng g;
    al_rng_seed(&g, 16, 1);
    int64_t cols = 512, rows = 5, rb = cols / 256 * 210;
    uint8_t *src = malloc((size_t)(rows * rb));
    random_bytes(&g, src, (size_t)(rows * rb));
    float *all = malloc(sizeof(float) * (size_t)(rows * cols)), *two = malloc(sizeof(float) * (size_t)(2 * cols));
    al_dequant(AL_GT_Q6_K, src, rows * cols, all);
    al_dequant_rows(AL_GT_Q6_K, src, cols, 2, 2, two);
    cr_assert(memcmp(two, all + 2 * cols, sizeof(float) * (size_t)(2 * cols)) == 0);
    free(src), free(all), free(two);
}

/* A Q4_K weight [n, k] with finite scales. */
static uint8_t *q4k_weight(al_rng *g, int64_t n, int64_t k, al_gguf_tensor *t) {
    int64_t nb = n * k / 256;
    uint8_t *w = malloc((size_t)(nb * 144));
    random_bytes(g, w, (size_t)(nb * 144));
    for (int64_t b = 0; b < nb; b++) {
        uint16_t d = (uint16_t)(0x2000 + al_rng_below(g, 0x400)), dm = (uint16_t)(0x1c00 + al_rng_below(g, 0x400));
        memcpy(w + b * 144, &d, 2);
        memcpy(w + b * 144 + 2, &dm, 2);
    }
    memset(t, 0, sizeof *t);
    t->n_dims = 2;
    t->ne[0] = k;
    t->ne[1] = n;
    t->ne[2] = t->ne[3] = 1;
    t->type = AL_GT_Q4_K;
    t->data = w;
    return w;
}

Test(model, dequantising_linear_matches_reference) {
    al_rng g;
    al_rng_seed(&g, 16, 2);
    al_gl_model m;
    memset(&m, 0, sizeof m);
    m.dim = 256;
    m.hidden = 512;
    al_gl_run s;
    memset(&s, 0, sizeof s);
    s.m = &m;
    s.n_ws = omp_get_max_threads();
    s.ws = malloc(sizeof(float) * (size_t)(s.n_ws * 2 * AL_GL_SLICE * 512));
    int64_t shapes[3][3] = {{1, 256, 320}, {7, 512, 256}, {33, 256, 384}}; /* T, k, n */
    for (int c = 0; c < 3; c++) {
        int64_t T = shapes[c][0], k = shapes[c][1], n = shapes[c][2];
        al_gguf_tensor W;
        uint8_t *w = q4k_weight(&g, n, k, &W);
        float *x = malloc(sizeof(float) * (size_t)(T * k)), *y = malloc(sizeof(float) * (size_t)(T * n)),
              *r = malloc(sizeof(float) * (size_t)(T * n));
        for (int64_t i = 0; i < T * k; i++)
            x[i] = (float)al_rng_normal(&g);
        for (int64_t perm = 0; perm <= 64; perm += 64) {
            al_gl_linear(&s, x, T, &W, perm, y);
            al_gl_linear_ref(x, T, &W, perm, r);
            for (int64_t i = 0; i < T * n; i++)
                cr_assert(al_close_rel(y[i], r[i], 1e-4, 1e-4), "case %d perm %lld entry %lld: %g vs %g", c,
                          (long long)perm, (long long)i, y[i], r[i]);
        }
        free(w), free(x), free(y), free(r);
    }
    free(s.ws);
}

Test(model, rope_split_half_worked_values) {
    /* one head of 4: pairs (0, 2) and (1, 3); position 1, base 100: angles 1 and 1/10 */
    float x[4] = {1, 2, 3, 4};
    al_gl_rope(x, 1, 1, 4, 4, 4, 1, 100.0, 1.0, NULL);
    double c0 = cos(1.0), s0 = sin(1.0), c1 = cos(0.1), s1 = sin(0.1);
    cr_assert(al_close_rel(x[0], 1 * c0 - 3 * s0, 1e-6, 1e-7) && al_close_rel(x[2], 1 * s0 + 3 * c0, 1e-6, 1e-7));
    cr_assert(al_close_rel(x[1], 2 * c1 - 4 * s1, 1e-6, 1e-7) && al_close_rel(x[3], 2 * s1 + 4 * c1, 1e-6, 1e-7));
    float y[4] = {1, 2, 3, 4}, ff[2] = {1, 4};
    al_gl_rope(y, 1, 1, 4, 4, 4, 2, 100.0, 0.5, ff); /* linear scale 1/2, second frequency divided by 4 */
    cr_assert(al_close_rel(y[1], 2 * cos(0.025) - 4 * sin(0.025), 1e-6, 1e-7));
}

/* A small valid GGUF image: two metadata entries and two tensors. */
static size_t small_image(uint8_t *b) {
    size_t o = 0;
#define PUT(v, n) (memcpy(b + o, &(v), n), o += n)
    uint32_t u32;
    uint64_t u64;
    u32 = 0x46554747u, PUT(u32, 4);
    u32 = 3, PUT(u32, 4);
    u64 = 2, PUT(u64, 8); /* tensors */
    u64 = 2, PUT(u64, 8); /* entries */
    u64 = 4, PUT(u64, 8), memcpy(b + o, "a.bc", 4), o += 4, u32 = 4, PUT(u32, 4), u32 = 7, PUT(u32, 4);
    u64 = 3, PUT(u64, 8), memcpy(b + o, "arr", 3), o += 3, u32 = 9, PUT(u32, 4), u32 = 8, PUT(u32, 4), u64 = 2,
    PUT(u64, 8);
    u64 = 1, PUT(u64, 8), b[o++] = 'x', u64 = 2, PUT(u64, 8), b[o++] = 'y', b[o++] = 'z';
    u64 = 1, PUT(u64, 8), b[o++] = 't', u32 = 2, PUT(u32, 4), u64 = 32, PUT(u64, 8), u64 = 2, PUT(u64, 8);
    u32 = AL_GT_Q8_0, PUT(u32, 4), u64 = 0, PUT(u64, 8);
    u64 = 1, PUT(u64, 8), b[o++] = 'f', u32 = 1, PUT(u32, 4), u64 = 8, PUT(u64, 8), u32 = 0, PUT(u32, 4), u64 = 96,
    PUT(u64, 8);
#undef PUT
    o = (o + 31) / 32 * 32;
    memset(b + o, 0, 128);
    return o + 128;
}

Test(model, gguf_parser_survives_random_corruption) {
    uint8_t good[512], bad[512];
    size_t n = small_image(good);
    al_gguf g;
    al_error e;
    cr_assert(al_gguf_parse(good, n, "mem", &g, &e) == AL_OK, "%s: %s", e.where, e.msg);
    cr_assert(g.n_tensors == 2 && g.tensor[0].nbytes == 68 && g.tensor[1].data == good + (n - 128) + 96);
    const al_gguf_kv *kv = al_gguf_find(&g, "arr");
    cr_assert(kv && kv->count == 2);
    const char *p[2];
    uint64_t l[2];
    al_gguf_arr_strs(kv, p, l);
    cr_assert(l[0] == 1 && l[1] == 2 && !memcmp(p[1], "yz", 2));
    al_gguf_free(&g);
    al_rng r;
    al_rng_seed(&r, 16, 3);
    int ok = 0;
    for (int trial = 0; trial < 3000; trial++) {
        memcpy(bad, good, n);
        int flips = 1 + (int)al_rng_below(&r, 4);
        for (int f = 0; f < flips; f++)
            bad[al_rng_below(&r, n)] = (uint8_t)al_rng_below(&r, 256);
        size_t len = trial % 3 ? n : (size_t)al_rng_below(&r, n + 1);
        al_error_clear(&e);
        if (al_gguf_parse(bad, len, "mem", &g, &e) == AL_OK) { /* then everything it points at is inside */
            for (int64_t i = 0; i < g.n_tensors; i++)
                cr_assert(g.tensor[i].data + g.tensor[i].nbytes <= bad + len);
            al_gguf_free(&g);
            ok++;
        } else {
            cr_assert(e.status == AL_EFORMAT || e.status == AL_ENOMEM);
        }
    }
    cr_assert(ok > 0 && ok < 3000);
}
