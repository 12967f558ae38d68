/* Flash-style statistics from queries and keys on tensor cores. Pass 1 streams key tiles past each query
 * tile with an online softmax (row max, normaliser, entropy and weighted sums); pass 2 streams query tiles past
 * each key tile to sum the normalised probabilities per key. Memory is linear in T; T x T is never formed.
 * bf16/f16 inputs use m16n8k16 MMA with float accumulation; float32 inputs use 3xTF32 (or one TF32 pass when
 * fast), which keeps them within 1e-5 of the float64 reference (METRICS.md section 8). Oracle: al_qk_probs_ref. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "al_cuda.h"
#include "common.cuh"

enum { QK_WARPS = 4, QK_THREADS = QK_WARPS * 32, QK_TILE = 64, QK_WTILE = QK_WARPS * 16 };
/* QK_WTILE: rows of the tile the warps own (16 each); QK_TILE: rows of the tiles streamed past them */

/* ---- tensor-core fragments ---- */

__device__ __forceinline__ void al_mma_bf16(float c[4], const uint32_t a[4], const uint32_t b[2]) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
__device__ __forceinline__ void al_mma_f16(float c[4], const uint32_t a[4], const uint32_t b[2]) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
__device__ __forceinline__ void al_mma_tf32(float c[4], const uint32_t a[4], const uint32_t b[2]) {
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
/* 2^x in one MUFU instruction (flush-to-zero: the smallest probabilities kept are ~1e-38) */
__device__ __forceinline__ float al_ex2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
}
__device__ __forceinline__ uint32_t al_tf32(float x) {
    uint32_t r;
    asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(x));
    return r;
}

/* Tiles in shared memory: rows of D elements with a padded stride so the fragment loads of the 8 row groups
 * of a warp fall in different banks. */
template <typename E> struct al_tile_stride { static constexpr int pad = 8; };
template <> struct al_tile_stride<float> { static constexpr int pad = 4; };

/* S[16 x 64] += X[16 rows of tile x at row xr0] . Y[64 rows of tile y]^T over D, for one warp.
 * c[nt][4]: the C fragments of the 8 n-tiles of 8 columns. */
template <typename E>
__device__ __forceinline__ void al_warp_gemm(const E *xs, int xr0, const E *ys, int D, int ld, int fast,
                                             float c[8][4]) {
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    if constexpr (sizeof(E) == 2) {
        /* ldmatrix.x4 loads the four 8x8 pieces of a fragment in one instruction (rows are 16-byte aligned) */
        const unsigned abase = (unsigned)__cvta_generic_to_shared(xs + (xr0 + (lane & 15)) * ld + (lane >> 4) * 8);
        const unsigned bbase =
            (unsigned)__cvta_generic_to_shared(ys + ((lane & 7) + ((lane >> 4) << 3)) * ld + ((lane >> 3) & 1) * 8);
        for (int k0 = 0; k0 < D; k0 += 16) {
            uint32_t a[4];
            asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                         : "=r"(a[0]), "=r"(a[1]), "=r"(a[2]), "=r"(a[3])
                         : "r"(abase + k0 * 2));
#pragma unroll
            for (int nt = 0; nt < 8; nt += 2) {
                uint32_t b[4];
                asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                             : "=r"(b[0]), "=r"(b[1]), "=r"(b[2]), "=r"(b[3])
                             : "r"(bbase + (nt * 8 * ld + k0) * 2));
                if constexpr (__is_same(E, __nv_bfloat16)) {
                    al_mma_bf16(c[nt], a, b);
                    al_mma_bf16(c[nt + 1], a, b + 2);
                } else {
                    al_mma_f16(c[nt], a, b);
                    al_mma_f16(c[nt + 1], a, b + 2);
                }
            }
        }
    } else {
        for (int k0 = 0; k0 < D; k0 += 8) {
            float af[4] = {xs[(xr0 + g) * ld + k0 + t], xs[(xr0 + g + 8) * ld + k0 + t], xs[(xr0 + g) * ld + k0 + t + 4],
                           xs[(xr0 + g + 8) * ld + k0 + t + 4]};
            uint32_t ah[4], al[4];
#pragma unroll
            for (int q = 0; q < 4; q++) {
                ah[q] = al_tf32(af[q]);
                al[q] = al_tf32(af[q] - __uint_as_float(ah[q]));
            }
#pragma unroll
            for (int nt = 0; nt < 8; nt++) {
                float bf[2] = {ys[(nt * 8 + g) * ld + k0 + t], ys[(nt * 8 + g) * ld + k0 + t + 4]};
                uint32_t bh[2] = {al_tf32(bf[0]), al_tf32(bf[1])};
                if (!fast) {
                    uint32_t bl[2] = {al_tf32(bf[0] - __uint_as_float(bh[0])), al_tf32(bf[1] - __uint_as_float(bh[1]))};
                    al_mma_tf32(c[nt], al, bh); /* small terms first */
                    al_mma_tf32(c[nt], ah, bl);
                }
                al_mma_tf32(c[nt], ah, bh);
            }
        }
    }
}

/* Asynchronous copy of rows [r0, r0 + 64) of X [T, D] into a tile with cp.async (rows past T are zero):
 * the next tile streams in while the warps compute on the current one. 16-byte pieces: rows of D elements are
 * 16-byte aligned in global memory (D * size is a multiple of 16) and in the tile (ld * size is too). */
template <typename E>
__device__ __forceinline__ void al_load_tile(E *tile, const E *__restrict__ X, int r0, int T, int D, int ld,
                                             int rows = QK_TILE) {
    constexpr int V = 16 / sizeof(E);
    const int per_row = D / V;
    for (int x = threadIdx.x; x < rows * per_row; x += QK_THREADS) {
        const int r = x / per_row, d = (x % per_row) * V;
        E *dst = tile + r * ld + d;
        if (r0 + r < T) {
            unsigned saddr = (unsigned)__cvta_generic_to_shared(dst);
            asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(saddr), "l"(X + (int64_t)(r0 + r) * D + d));
        } else {
            *(uint4 *)dst = make_uint4(0, 0, 0, 0);
        }
    }
    asm volatile("cp.async.commit_group;\n" ::);
}
__device__ __forceinline__ void al_wait_tiles(int pending) {
    if (pending) asm volatile("cp.async.wait_group 1;\n" ::);
    else asm volatile("cp.async.wait_group 0;\n" ::);
}

/* Pass 1: one block per 64-query tile, heavy (late) tiles first, one head per grid row. rows: [T, AL_QQ]. */
template <typename E>
__global__ void __launch_bounds__(QK_THREADS) al_qk_rows_kernel(const E *__restrict__ Q, const E *__restrict__ K,
                                                                al_cu_qkcfg cfg, float *__restrict__ rows) {
    extern __shared__ __align__(16) unsigned char smem_raw[];
    Q += (int64_t)blockIdx.y * cfg.T * cfg.D;
    K += (int64_t)blockIdx.y * cfg.T * cfg.D;
    rows += (int64_t)blockIdx.y * cfg.T * AL_QQ;
    const int D = (int)cfg.D, ld = D + al_tile_stride<E>::pad, T = (int)cfg.T;
    E *qs = (E *)smem_raw, *kb0 = qs + QK_WTILE * ld, *kb1 = kb0 + QK_TILE * ld;
    const int nqt = (T + QK_WTILE - 1) / QK_WTILE;
    const int qt = nqt - 1 - (int)blockIdx.x, q0 = qt * QK_WTILE;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const float sc = (float)cfg.scale;
    const int S = (int)cfg.sink_tokens, R = (int)cfg.recent;
    /* per thread: rows i0 = q0 + warp*16 + g and i1 = i0 + 8 */
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0, 0}, es[2] = {0, 0}, dist[2] = {0, 0}, far[2] = {0, 0};
    float s_first[2] = {-INFINITY, -INFINITY}, s_self[2] = {-INFINITY, -INFINITY}, s_prev[2] = {-INFINITY, -INFINITY};
    const int ir[2] = {q0 + warp * 16 + g, q0 + warp * 16 + g + 8};
    const int last = (cfg.causal ? (q0 + QK_WTILE < T ? q0 + QK_WTILE : T) : T) - 1;
    const int nkt = last / QK_TILE + 1;
    al_load_tile(qs, Q, q0, T, D, ld, QK_WTILE);
    al_load_tile(kb0, K, 0, T, D, ld);
    for (int kt = 0; kt < nkt; kt++) {
        const int k0 = kt * QK_TILE;
        E *ks = (kt & 1) ? kb1 : kb0;
        if (kt + 1 < nkt) al_load_tile((kt & 1) ? kb0 : kb1, K, k0 + QK_TILE, T, D, ld);
        al_wait_tiles(kt + 1 < nkt);
        __syncthreads();
        float c[8][4];
#pragma unroll
        for (int nt = 0; nt < 8; nt++) c[nt][0] = c[nt][1] = c[nt][2] = c[nt][3] = 0.f;
        al_warp_gemm<E>(qs, warp * 16, ks, D, ld, cfg.fast, c);
        /* a tile needs per-key masks only on the diagonal (causal) or past T; distant keys are decided per tile
         * when the whole tile is inside or outside the window of every row of the warp */
        const bool full = (cfg.causal ? k0 + QK_TILE - 1 < q0 + warp * 16 : true) && k0 + QK_TILE <= T;
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const int i = ir[h];
            /* the common case, taken by almost every tile of a long row: every key visible and before i - 1, none
             * on the edge of the distant window, not the first tile. It runs without masks or selects; the
             * general path below is about twice the instructions per key. */
            const bool all_far = k0 >= S && k0 + QK_TILE - 1 <= i - R, none_far = k0 + QK_TILE - 1 < S || k0 > i - R;
            if (full && k0 > 0 && k0 + QK_TILE < i && (all_far || none_far)) {
                /* raw products c: the scale goes into the max once and into the FMAs that need it */
                float cmax = -INFINITY;
#pragma unroll
                for (int x = 0; x < 16; x++) cmax = fmaxf(cmax, c[x >> 1][2 * h + (x & 1)]);
                cmax = fmaxf(cmax, __shfl_xor_sync(0xffffffffu, cmax, 1));
                cmax = fmaxf(cmax, __shfl_xor_sync(0xffffffffu, cmax, 2));
                const float mn = fmaxf(m[h], cmax * sc); /* m[h] is finite: the earlier tiles held visible keys */
                const float alpha = __expf(m[h] - mn), delta = mn - m[h];
                es[h] = alpha * (es[h] - delta * l[h]);
                l[h] *= alpha;
                dist[h] *= alpha;
                far[h] *= alpha;
                float tl = 0, tes = 0, td = 0;
                const float fi = (float)(i - k0 - 2 * t), m2 = mn * 1.4426950408889634f;
                const float sc2 = sc * 1.4426950408889634f;
#pragma unroll
                for (int x = 0; x < 16; x++) {
                    const float cx = c[x >> 1][2 * h + (x & 1)];
                    const float e = al_ex2(fmaf(cx, sc2, -m2));
                    tl += e;
                    tes += e * fmaf(cx, sc, -mn);
                    td += e * (fi - (float)((x >> 1) * 8 + (x & 1))); /* i - j > 0 here */
                }
                l[h] += tl;
                es[h] += tes;
                dist[h] += td;
                far[h] += all_far ? tl : 0.f;
                m[h] = mn;
                continue;
            }
            float s[16], tmax = -INFINITY;
#pragma unroll
            for (int x = 0; x < 16; x++) {
                const int j = k0 + (x >> 1) * 8 + 2 * t + (x & 1);
                float v = c[x >> 1][2 * h + (x & 1)] * sc;
                if (!full) v = (j < T && i < T && (!cfg.causal || j <= i)) ? v : -INFINITY;
                s[x] = v;
                tmax = fmaxf(tmax, v);
            }
            if (k0 == 0 && t == 0) s_first[h] = s[0];
            if (i + 1 >= k0 && i - 1 < k0 + QK_TILE) { /* the tile holds key i or i - 1 */
#pragma unroll
                for (int x = 0; x < 16; x++) {
                    const int j = k0 + (x >> 1) * 8 + 2 * t + (x & 1);
                    s_self[h] = j == i ? s[x] : s_self[h];
                    s_prev[h] = j == i - 1 ? s[x] : s_prev[h];
                }
            }
            tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 1));
            tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 2));
            const float mn = fmaxf(m[h], tmax);
            if (mn == -INFINITY) continue; /* nothing visible yet in this row */
            const float alpha = m[h] == -INFINITY ? 0.f : __expf(m[h] - mn), delta = m[h] == -INFINITY ? 0.f : mn - m[h];
            /* sum e^{s-m} (s-m) rescaled to the new max: e^{-delta} (es - delta l) */
            es[h] = alpha * (es[h] - delta * l[h]);
            l[h] *= alpha;
            dist[h] *= alpha;
            far[h] *= alpha;
            float tl = 0, tes = 0, td = 0, tf = 0;
            const float fi = (float)(i - k0 - 2 * t), m2 = mn * 1.4426950408889634f;
#pragma unroll
            for (int x = 0; x < 16; x++) {
                /* e = exp(s - m) as exp2(s log2 e - m log2 e): one FMA and one MUFU */
                const float e = al_ex2(fmaf(s[x], 1.4426950408889634f, -m2)), tt = s[x] - mn; /* exp(-inf) = 0 */
                tl += e;
                tes += full ? e * tt : (s[x] == -INFINITY ? 0.f : e * tt);
                td += e * fabsf(fi - (float)((x >> 1) * 8 + (x & 1))); /* |i - j| without an integer conversion */
                if (!all_far && !none_far) {
                    const int j = k0 + (x >> 1) * 8 + 2 * t + (x & 1);
                    tf += (j >= S && j <= i - R) ? e : 0.f;
                }
            }
            l[h] += tl;
            es[h] += tes;
            dist[h] += td;
            far[h] += all_far ? tl : tf;
            m[h] = mn;
        }
        __syncthreads(); /* the buffer just used is refilled two steps later */
    }
    /* the four threads of a row group hold partial sums of the same rows, all relative to the same max */
#pragma unroll
    for (int h = 0; h < 2; h++) {
#pragma unroll
        for (int o = 1; o <= 2; o <<= 1) {
            l[h] += __shfl_xor_sync(0xffffffffu, l[h], o);
            es[h] += __shfl_xor_sync(0xffffffffu, es[h], o);
            dist[h] += __shfl_xor_sync(0xffffffffu, dist[h], o);
            far[h] += __shfl_xor_sync(0xffffffffu, far[h], o);
            s_first[h] = fmaxf(s_first[h], __shfl_xor_sync(0xffffffffu, s_first[h], o));
            s_self[h] = fmaxf(s_self[h], __shfl_xor_sync(0xffffffffu, s_self[h], o));
            s_prev[h] = fmaxf(s_prev[h], __shfl_xor_sync(0xffffffffu, s_prev[h], o));
        }
        const int i = ir[h];
        if (t == 0 && i < T) {
            float *o = rows + (int64_t)i * AL_QQ;
            const float inv = 1.f / l[h];
            o[AL_QQ_M] = m[h];
            o[AL_QQ_L] = l[h];
            o[AL_QQ_ENT] = logf(l[h]) - es[h] * inv;
            o[AL_QQ_FIRST] = __expf(s_first[h] - m[h]) * inv;
            o[AL_QQ_SELF] = __expf(s_self[h] - m[h]) * inv;
            o[AL_QQ_PREV] = i >= 1 ? __expf(s_prev[h] - m[h]) * inv : 0.f;
            o[AL_QQ_DIST] = dist[h] * inv;
            o[AL_QQ_DISTANT] = far[h] * inv;
        }
    }
}

/* Pass 2: one block per 64-key tile; S^T = K Q^T, p = exp(s - m_i) / l_i summed over queries per key. */
template <typename E>
__global__ void __launch_bounds__(QK_THREADS) al_qk_cols_kernel(const E *__restrict__ Q, const E *__restrict__ K,
                                                                al_cu_qkcfg cfg, const float *__restrict__ rows,
                                                                double *__restrict__ colsum) {
    extern __shared__ __align__(16) unsigned char smem_raw[];
    Q += (int64_t)blockIdx.y * cfg.T * cfg.D;
    K += (int64_t)blockIdx.y * cfg.T * cfg.D;
    rows += (int64_t)blockIdx.y * cfg.T * AL_QQ;
    colsum += (int64_t)blockIdx.y * cfg.T;
    const int D = (int)cfg.D, ld = D + al_tile_stride<E>::pad, T = (int)cfg.T;
    E *ks = (E *)smem_raw, *qb0 = ks + QK_WTILE * ld, *qb1 = qb0 + QK_TILE * ld;
    float *mlg = (float *)(qb1 + QK_TILE * ld); /* [2][64]: m_i log2 e + log2 l_i of the query tiles */
    const int ntiles = (T + QK_TILE - 1) / QK_TILE;
    const int kt = (int)blockIdx.x, k0 = kt * QK_WTILE;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const float sc = (float)cfg.scale;
    const int jr[2] = {k0 + warp * 16 + g, k0 + warp * 16 + g + 8};
    const float sc2 = sc * 1.4426950408889634f; /* scale and log2(e): exp(s - m) = exp2(s sc2 - m log2 e) */
    double acc[2] = {0, 0};
    const int qt0 = cfg.causal ? k0 / QK_TILE : 0;
    al_load_tile(ks, K, k0, T, D, ld, QK_WTILE);
    al_load_tile((qt0 & 1) ? qb1 : qb0, Q, qt0 * QK_TILE, T, D, ld);
    for (int qt = qt0; qt < ntiles; qt++) {
        const int q0 = qt * QK_TILE, b = qt & 1;
        if (qt + 1 < ntiles) al_load_tile(b ? qb0 : qb1, Q, q0 + QK_TILE, T, D, ld);
        /* p = exp(s - m) / l = exp2(s log2 e - (m log2 e + log2 l)): one FMA and one MUFU per key; log2 l in
         * float moves p by at most 17 ulp of the exponent, about 1e-6 relative */
        for (int x = threadIdx.x; x < QK_TILE; x += QK_THREADS) {
            const int i = q0 + x;
            mlg[b * QK_TILE + x] = i < T ? rows[(int64_t)i * AL_QQ + AL_QQ_M] * 1.4426950408889634f +
                                               __log2f(rows[(int64_t)i * AL_QQ + AL_QQ_L])
                                         : 0.f;
        }
        al_wait_tiles(qt + 1 < ntiles);
        __syncthreads();
        float c[8][4];
#pragma unroll
        for (int nt = 0; nt < 8; nt++) c[nt][0] = c[nt][1] = c[nt][2] = c[nt][3] = 0.f;
        al_warp_gemm<E>(ks, warp * 16, b ? qb1 : qb0, D, ld, cfg.fast, c);
        const bool full = (cfg.causal ? q0 > k0 + warp * 16 + 15 : true) && q0 + QK_TILE <= T && k0 + QK_WTILE <= T;
        float mq[16];
#pragma unroll
        for (int x = 0; x < 16; x++) mq[x] = mlg[b * QK_TILE + (x >> 1) * 8 + 2 * t + (x & 1)];
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const int j = jr[h];
            float part = 0.f;
            if (full) { /* every query of the tile sees this warp's keys: no masks */
#pragma unroll
                for (int x = 0; x < 16; x++) part += al_ex2(fmaf(c[x >> 1][2 * h + (x & 1)], sc2, -mq[x]));
            } else {
#pragma unroll
                for (int x = 0; x < 16; x++) {
                    const int i = q0 + (x >> 1) * 8 + 2 * t + (x & 1);
                    const float p = al_ex2(fmaf(c[x >> 1][2 * h + (x & 1)], sc2, -mq[x]));
                    part += (i < T && j < T && (!cfg.causal || j <= i)) ? p : 0.f;
                }
            }
            acc[h] += (double)part;
        }
        __syncthreads();
    }
#pragma unroll
    for (int h = 0; h < 2; h++) {
        acc[h] += __shfl_xor_sync(0xffffffffu, acc[h], 1);
        acc[h] += __shfl_xor_sync(0xffffffffu, acc[h], 2);
        if (t == 0 && jr[h] < T) colsum[jr[h]] = acc[h];
    }
}

/* heads consecutive heads: q, k [heads, T, D], rows [heads, T, AL_QQ], colsum [heads, T] */
template <typename E>
static cudaError_t al_qk_launch(const void *q, const void *k, int heads, const al_cu_qkcfg *cfg, float *rows,
                                double *colsum, cudaStream_t st) {
    const int ld = (int)cfg->D + al_tile_stride<E>::pad;
    size_t sm1 = (size_t)(QK_WTILE + 2 * QK_TILE) * ld * sizeof(E), sm2 = sm1 + 2 * QK_TILE * sizeof(float);
    unsigned nt = (unsigned)((cfg->T + QK_WTILE - 1) / QK_WTILE);
    cudaFuncSetAttribute(al_qk_rows_kernel<E>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)sm1);
    cudaFuncSetAttribute(al_qk_cols_kernel<E>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)sm2);
    al_qk_rows_kernel<E><<<dim3(nt, heads), QK_THREADS, sm1, st>>>((const E *)q, (const E *)k, *cfg, rows);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;
    al_qk_cols_kernel<E><<<dim3(nt, heads), QK_THREADS, sm2, st>>>((const E *)q, (const E *)k, *cfg, rows, colsum);
    return cudaGetLastError();
}

static cudaError_t al_qk_dispatch(const void *q, const void *k, int heads, int elem, const al_cu_qkcfg *cfg,
                                  float *rows, double *colsum, cudaStream_t st) {
    if (elem == AL_CU_F32) return al_qk_launch<float>(q, k, heads, cfg, rows, colsum, st);
    if (elem == AL_CU_F16) return al_qk_launch<__half>(q, k, heads, cfg, rows, colsum, st);
    return al_qk_launch<__nv_bfloat16>(q, k, heads, cfg, rows, colsum, st);
}

extern "C" int al_cu_qkstats(const void *q, const void *k, int elem, const al_cu_qkcfg *cfg, double *rows,
                             double *colsum) {
    size_t es = elem == AL_CU_F32 ? 4 : 2, bytes = (size_t)(cfg->T * cfg->D) * es;
    void *dq = NULL, *dk = NULL;
    float *drows = NULL, *hrows = NULL;
    double *dcol = NULL;
    int rc = -1;
    if (cfg->D % 16 != 0 || cfg->D > 256) {
        al_cu_set_error("al_cu_qkstats: head_dim must be a multiple of 16, at most 256", cudaErrorInvalidValue);
        return -1;
    }
    AL_CU_TRY(cudaMalloc(&dq, bytes));
    AL_CU_TRY(cudaMalloc(&dk, bytes));
    AL_CU_TRY(cudaMalloc((void **)&drows, sizeof(float) * (size_t)(cfg->T * AL_QQ)));
    AL_CU_TRY(cudaMalloc((void **)&dcol, sizeof(double) * (size_t)cfg->T));
    AL_CU_TRY(cudaMemcpy(dq, q, bytes, cudaMemcpyHostToDevice));
    AL_CU_TRY(cudaMemcpy(dk, k, bytes, cudaMemcpyHostToDevice));
    AL_CU_TRY(al_qk_dispatch(dq, dk, 1, elem, cfg, drows, dcol, 0));
    hrows = (float *)malloc(sizeof(float) * (size_t)(cfg->T * AL_QQ));
    if (!hrows) goto fail;
    AL_CU_TRY(cudaMemcpy(hrows, drows, sizeof(float) * (size_t)(cfg->T * AL_QQ), cudaMemcpyDeviceToHost));
    AL_CU_TRY(cudaMemcpy(colsum, dcol, sizeof(double) * (size_t)cfg->T, cudaMemcpyDeviceToHost));
    for (int64_t x = 0; x < cfg->T * AL_QQ; x++) rows[x] = hrows[x];
    rc = 0;
fail:
    free(hrows);
    cudaFree(dq);
    cudaFree(dk);
    cudaFree(drows);
    cudaFree(dcol);
    return rc;
}

static __global__ void al_fill_normal(float *x, int64_t n, uint32_t seed) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        uint32_t h = (uint32_t)i * 747796405u + seed;
        h = ((h >> ((h >> 28) + 4)) ^ h) * 277803737u;
        uint32_t h2 = (h ^ (h >> 22)) * 2654435761u + 12345u;
        float u1 = ((h >> 8) + 1) / 16777217.f, u2 = (h2 >> 8) / 16777216.f;
        x[i] = sqrtf(-2.f * logf(u1)) * cosf(6.2831853f * u2);
    }
}
static __global__ void al_to_bf16(const float *x, __nv_bfloat16 *y, int64_t n) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        y[i] = __float2bfloat16(x[i]);
}
static __global__ void al_to_f16(const float *x, __half *y, int64_t n) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        y[i] = __float2half(x[i]);
}

static int al_cmpf(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* ms per head (median of reps of one launch over all heads), q and k of every head resident on the device. */
extern "C" double al_cu_bench_qk(int64_t heads, int64_t T, int64_t D, int elem, int fast, int reps) {
    size_t es = elem == AL_CU_F32 ? 4 : 2, per = (size_t)(T * D);
    float *f = NULL, *rows = NULL;
    void *q = NULL, *k = NULL;
    double *col = NULL, med = -1;
    cudaEvent_t e0 = NULL, e1 = NULL;
    float *ms = (float *)calloc((size_t)reps, sizeof(float));
    al_cu_qkcfg cfg = {T, D, 1.0 / sqrt((double)D), 1, 4, 64, fast};
    AL_CU_TRY(cudaMalloc((void **)&f, sizeof(float) * per * (size_t)heads * 2));
    al_fill_normal<<<4096, 256>>>(f, (int64_t)per * heads * 2, 99u);
    AL_CU_TRY(cudaGetLastError());
    if (elem == AL_CU_F32) {
        q = f;
        k = f + per * (size_t)heads;
    } else {
        AL_CU_TRY(cudaMalloc(&q, es * per * (size_t)heads * 2));
        if (elem == AL_CU_BF16) al_to_bf16<<<4096, 256>>>(f, (__nv_bfloat16 *)q, (int64_t)per * heads * 2);
        else al_to_f16<<<4096, 256>>>(f, (__half *)q, (int64_t)per * heads * 2);
        AL_CU_TRY(cudaGetLastError());
        k = (char *)q + es * per * (size_t)heads;
    }
    AL_CU_TRY(cudaMalloc((void **)&rows, sizeof(float) * (size_t)(T * AL_QQ * heads)));
    AL_CU_TRY(cudaMalloc((void **)&col, sizeof(double) * (size_t)(T * heads)));
    AL_CU_TRY(cudaEventCreate(&e0));
    AL_CU_TRY(cudaEventCreate(&e1));
    for (int rep = -1; rep < reps; rep++) {
        AL_CU_TRY(cudaEventRecord(e0));
        AL_CU_TRY(al_qk_dispatch(q, k, (int)heads, elem, &cfg, rows, col, 0));
        AL_CU_TRY(cudaEventRecord(e1));
        AL_CU_TRY(cudaEventSynchronize(e1));
        if (rep >= 0) {
            AL_CU_TRY(cudaEventElapsedTime(&ms[rep], e0, e1));
            ms[rep] /= (float)heads;
        }
    }
    qsort(ms, (size_t)reps, sizeof(float), al_cmpf);
    med = ms[reps / 2];
fail:
    if (elem != AL_CU_F32) cudaFree(q);
    cudaFree(f);
    cudaFree(rows);
    cudaFree(col);
    if (e0) cudaEventDestroy(e0);
    if (e1) cudaEventDestroy(e1);
    free(ms);
    return med;
}
