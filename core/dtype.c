/* float16 / bfloat16 <-> float32 conversion written out bit by bit, so no HDF5 converter is involved.
 * The bulk path uses a 64K-entry table for f16 built once (it is exact: it is filled by the reference). */
#include "dtype.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define AL_X86 1
#endif

static const char *const al_dt_names[AL_DT_COUNT] = {"float32", "float16", "bfloat16", "float64", "int32", "uint8"};
static const size_t al_dt_sizes[AL_DT_COUNT] = {4, 2, 2, 8, 4, 1};

const char *al_dtype_name(al_dtype t) { return (unsigned)t < AL_DT_COUNT ? al_dt_names[t] : "?"; }
size_t al_dtype_size(al_dtype t) { return (unsigned)t < AL_DT_COUNT ? al_dt_sizes[t] : 0; }

static float al_bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint32_t al_f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

float al_f16_to_f32_ref(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    if (exp == 0x1f) return al_bits_f32(sign | 0x7f800000u | (man << 13)); /* Inf or NaN, payload kept */
    if (exp != 0) return al_bits_f32(sign | ((exp + 112u) << 23) | (man << 13));
    if (man == 0) return al_bits_f32(sign);
    /* subnormal half: man * 2^-24, exactly representable in float32 */
    float v = (float)man * 0x1p-24f;
    return sign ? -v : v;
}

float al_bf16_to_f32_ref(uint16_t h) { return al_bits_f32((uint32_t)h << 16); }

uint16_t al_f32_to_bf16(float f) {
    uint32_t u = al_f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

uint16_t al_f32_to_f16(float f) {
    uint32_t u = al_f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return sign | 0x7e00u;
    if (a >= 0x477ff000u) return sign | 0x7c00u; /* rounds to >= 65520: Inf */
    if (a < 0x38800000u) {                         /* below the smallest normal half: subnormal or zero */
        float v = al_bits_f32(a) * 0x1p24f;        /* exact scaling; rint rounds to nearest even */
        return sign | (uint16_t)lrintf(v);
    }
    uint32_t r = a + 0x0fffu + ((a >> 13) & 1u) - 0x38000000u;
    return sign | (uint16_t)(r >> 13);
}

static float al_f16_table[65536];
static pthread_once_t al_f16_once = PTHREAD_ONCE_INIT;

static void al_f16_table_init(void) {
    for (uint32_t i = 0; i < 65536; i++) al_f16_table[i] = al_f16_to_f32_ref((uint16_t)i);
}

#ifdef AL_X86
/* F16C converts 8 halves per instruction, exactly (subnormals included); chosen at run time. */
__attribute__((target("avx,f16c"))) static void al_f16_f16c(const uint16_t *s, float *d, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(d + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + i))));
    for (; i < n; i++) d[i] = al_f16_table[s[i]];
}

__attribute__((target("avx2"))) static void al_bf16_avx2(const uint16_t *s, float *d, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i x = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(s + i)));
        _mm256_storeu_si256((__m256i *)(d + i), _mm256_slli_epi32(x, 16));
    }
    for (; i < n; i++) d[i] = al_bf16_to_f32_ref(s[i]);
}

static int al_has_f16c, al_has_avx2;
static pthread_once_t al_cpu_once = PTHREAD_ONCE_INIT;
static void al_cpu_init(void) {
    __builtin_cpu_init();
    unsigned a, b, c = 0, d;
    int f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C); /* clang 14's __builtin_cpu_supports lacks "f16c" */
    al_has_f16c = __builtin_cpu_supports("avx") && f16c && !getenv("ATTNLAB_NO_SIMD");
    al_has_avx2 = __builtin_cpu_supports("avx2") && !getenv("ATTNLAB_NO_SIMD");
}
#endif

void al_convert_to_f32(al_dtype t, const void *src, float *dst, size_t n) {
#ifdef AL_X86
    pthread_once(&al_cpu_once, al_cpu_init);
#endif
    switch (t) {
    case AL_DT_F32:
        if ((const void *)dst != src) memmove(dst, src, n * 4);
        break;
    case AL_DT_F16: {
        pthread_once(&al_f16_once, al_f16_table_init);
        const uint16_t *s = src;
#ifdef AL_X86
        if (al_has_f16c) {
            al_f16_f16c(s, dst, n);
            break;
        }
#endif
        for (size_t i = 0; i < n; i++) dst[i] = al_f16_table[s[i]];
        break;
    }
    case AL_DT_BF16: {
        const uint16_t *s = src;
#ifdef AL_X86
        if (al_has_avx2) {
            al_bf16_avx2(s, dst, n);
            break;
        }
#endif
        uint32_t *d = (uint32_t *)dst;
        for (size_t i = 0; i < n; i++) d[i] = (uint32_t)s[i] << 16;
        break;
    }
    case AL_DT_F64: {
        const double *s = src;
        for (size_t i = 0; i < n; i++) dst[i] = (float)s[i];
        break;
    }
    case AL_DT_I32: {
        const int32_t *s = src;
        for (size_t i = 0; i < n; i++) dst[i] = (float)s[i];
        break;
    }
    case AL_DT_U8: {
        const uint8_t *s = src;
        for (size_t i = 0; i < n; i++) dst[i] = (float)s[i];
        break;
    }
    default:
        break;
    }
}
