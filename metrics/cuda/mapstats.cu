/* Fused statistics of attention maps on the GPU: one read of each row block gives the column sums (key
 * importance) and every per-row statistic of `heads`. Sums are reduced in a fixed order (no atomics), so the
 * result is the same on every run. Oracle: al_colsum_ref and al_headstats_rows_ref on the CPU. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "al_cuda.h"
#include "common.cuh"

enum { MS_THREADS = 256, MS_WARPS = MS_THREADS / 32, MS_PER = 8, MS_STRIPE = MS_THREADS * MS_PER, MS_ROWS = 64 };

static char al_cu_err[512];
void al_cu_set_error(const char *what, cudaError_t err) {
    snprintf(al_cu_err, sizeof al_cu_err, "%s: %s", what, cudaGetErrorString(err));
}
extern "C" const char *al_cuda_last_error(void) { return al_cu_err; }

extern "C" int al_cuda_init(char *why, size_t n) {
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
        snprintf(why, n, "no CUDA device is available (%s)", e != cudaSuccess ? cudaGetErrorString(e) : "none found");
        return -1;
    }
    /* ATTNLAB_CUDA_DEVICE (set per rank by `run` under MPI: the rank's place on its node) picks the device,
     * modulo the visible count; device 0 otherwise */
    const char *pick = getenv("ATTNLAB_CUDA_DEVICE");
    int dev = pick ? (int)(strtol(pick, NULL, 10) % count) : 0;
    if (dev < 0) dev = 0;
    if ((e = cudaSetDevice(dev)) != cudaSuccess) {
        snprintf(why, n, "cannot use CUDA device %d: %s", dev, cudaGetErrorString(e));
        return -1;
    }
    return 0;
}

/* Sums 8 values over a warp with 9 shuffles instead of 40: each step halves the values a lane keeps. On
 * return, lane l holds the total of value ((l >> 4) & 1) * 4 + ((l >> 3) & 1) * 2 + ((l >> 2) & 1). */
__device__ __forceinline__ float al_warp_sum8(float v[8], int lane) {
    const unsigned full = 0xffffffffu;
    bool up = lane & 16;
#pragma unroll
    for (int k = 0; k < 4; k++) {
        float send = up ? v[k] : v[k + 4], keep = up ? v[k + 4] : v[k];
        v[k] = keep + __shfl_xor_sync(full, send, 16);
    }
    up = lane & 8;
#pragma unroll
    for (int k = 0; k < 2; k++) {
        float send = up ? v[k] : v[k + 2], keep = up ? v[k + 2] : v[k];
        v[k] = keep + __shfl_xor_sync(full, send, 8);
    }
    up = lane & 4;
    float send = up ? v[0] : v[1], keep = up ? v[1] : v[0];
    float x = keep + __shfl_xor_sync(full, send, 4);
    x += __shfl_xor_sync(full, x, 2);
    x += __shfl_xor_sync(full, x, 1);
    return x;
}

/* the reduced row sums, in the order of al_warp_sum8; single entries (first, self, prev, next) are stored by
 * the thread that holds them, without a reduction */
enum { R8_ENT, R8_CLARK, R8_DIST, R8_DISTANT, R8_SUM, R8_BAD, R8_FUT, R8_N = 8 };
static __device__ const int al_r8_slot[R8_N] = {AL_CQ_ENT, AL_CQ_CLARK, AL_CQ_DIST, AL_CQ_DISTANT, AL_CQ_SUM, AL_CQ_BAD, AL_CQ_FUT, -1};

/* grid (stripes, row tiles, heads); thread t owns columns stripe * MS_STRIPE + v * MS_THREADS + t, v < MS_PER,
 * so each load instruction of a warp reads 128 contiguous bytes of a row. Head z's rows start at A + z * hstride. */
template <typename E, bool CLARK>
__global__ void __launch_bounds__(MS_THREADS) al_mapstats_kernel(const E *__restrict__ A, int64_t nrows, int64_t lda,
                                                                 int64_t hstride, int64_t row0, al_cu_mapcfg cfg,
                                                                 float *__restrict__ colpart,
                                                                 double *__restrict__ rowpart) {
    __shared__ float sm[MS_ROWS][MS_WARPS][R8_N];
    __shared__ float single[MS_ROWS][4]; /* first, self, prev, next */
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int stripe = blockIdx.x, tile = blockIdx.y, nstripes = gridDim.x;
    const int T = (int)cfg.T;
    const int ntiles = gridDim.y;
    A += (int64_t)blockIdx.z * hstride;
    colpart += (int64_t)blockIdx.z * ntiles * T;
    rowpart += (int64_t)blockIdx.z * nrows * nstripes * AL_CQ;
    const float cs = (float)(1e-4 / (double)T);
    float col[MS_PER]; /* a tile's column sums in float (64 terms), folded in double afterwards */
#pragma unroll
    for (int v = 0; v < MS_PER; v++) col[v] = 0.f;
    const int r_end = (tile + 1) * MS_ROWS < nrows ? (tile + 1) * MS_ROWS : (int)nrows;
    const int rows_here = r_end - tile * MS_ROWS;
    /* A causal map's masked keys are read too, as the CPU engine does: mass or bad values there mean the map
     * is not what the recording says it is. Their cost is the load alone: the row reductions run anyway. */
    float fj[MS_PER];
#pragma unroll
    for (int v = 0; v < MS_PER; v++) fj[v] = (float)(stripe * MS_STRIPE + v * MS_THREADS + tid);
    for (int x = tid; x < MS_ROWS * 4; x += MS_THREADS) single[x / 4][x % 4] = 0.f;
    __syncthreads();
    /* rows are software-pipelined two deep: the values of rows rr + 1 and rr + 2 are in flight while row rr is
     * reduced, so the loads' latency overlaps the arithmetic and the shuffles */
    float xa[MS_PER], xb[MS_PER];
#pragma unroll
    for (int ahead = 0; ahead < 2; ahead++) {
        const int i = (int)row0 + tile * MS_ROWS + ahead, vis = cfg.causal ? (i + 1 < T ? i + 1 : T) : T;
        const E *a = A + (int64_t)(tile * MS_ROWS + ahead) * lda;
#pragma unroll
        for (int v = 0; v < MS_PER; v++) {
            const int j = stripe * MS_STRIPE + v * MS_THREADS + tid;
            const float x = (ahead < rows_here && j < T) ? al_ld(a + j) : 0.f;
            if (ahead == 0) xa[v] = x;
            else xb[v] = x;
        }
    }
    for (int rr = 0; rr < rows_here; rr++) {
        const int r = tile * MS_ROWS + rr, i = (int)row0 + r;
        const int vis = cfg.causal ? (i + 1 < T ? i + 1 : T) : T;
        float q[R8_N], xc[MS_PER];
#pragma unroll
        for (int k = 0; k < R8_N; k++) q[k] = 0.f;
#pragma unroll
        for (int v = 0; v < MS_PER; v++) {
            xc[v] = xa[v];
            xa[v] = xb[v];
        }
        if (rr + 2 < rows_here) {
            const E *a2 = A + (int64_t)(r + 2) * lda;
#pragma unroll
            for (int v = 0; v < MS_PER; v++) {
                const int j = stripe * MS_STRIPE + v * MS_THREADS + tid;
                xb[v] = j < T ? al_ld(a2 + j) : 0.f;
            }
        }
        const E *a = A + (int64_t)r * lda;
        const float fi = (float)i;
        const int far_hi = i - (int)cfg.recent;
#pragma unroll
        for (int v = 0; v < MS_PER; v++) {
            const int j = stripe * MS_STRIPE + v * MS_THREADS + tid;
            const float x = xc[v];
            q[R8_BAD] += fabsf(x - 0.5f) <= 0.501f ? 0.f : 1.f; /* outside [-1e-3, 1.001], or NaN */
            if (j >= vis) {
                q[R8_FUT] += x; /* j >= T loaded 0 */
            } else {
                col[v] += x;
                /* x log2 x, with 0 log 0 = 0 through the clamp; the factor -ln 2 is applied once per row */
                const float xp = fmaxf(x, 0.f); /* negative rounding noise counts as 0, as on the CPU */
                q[R8_ENT] += xp * __log2f(fmaxf(xp, 1e-38f));
                if (CLARK) {
                    float y = 0.9999f * x + cs;
                    q[R8_CLARK] += y * __log2f(y);
                }
                q[R8_DIST] += x * fabsf(fi - fj[v]);
                q[R8_DISTANT] += (j >= (int)cfg.sink_tokens && j <= far_hi) ? x : 0.f;
                q[R8_SUM] += x;
            }
        }
        const float tot = al_warp_sum8(q, lane);
        if ((lane & 3) == 0) sm[rr][warp][((lane >> 4) & 1) * 4 + ((lane >> 3) & 1) * 2 + ((lane >> 2) & 1)] = tot;
        /* single entries, read once per row by the stripe that holds them */
        if (warp == 0 && lane < 4) {
            const int j = lane == 0 ? 0 : lane == 1 ? i : lane == 2 ? i - 1 : i + 1;
            if (j >= 0 && j < vis && j / MS_STRIPE == stripe) single[rr][lane] = al_ld(a + j);
        }
    }
    __syncthreads();
    for (int t = tid; t < rows_here * AL_CQ; t += MS_THREADS) {
        const int rr = t / AL_CQ, k = t % AL_CQ;
        double s = 0;
        if (k == AL_CQ_FIRST || k == AL_CQ_SELF || k == AL_CQ_PREV || k == AL_CQ_NEXT) {
            s = single[rr][k == AL_CQ_FIRST ? 0 : k == AL_CQ_SELF ? 1 : k == AL_CQ_PREV ? 2 : 3];
        } else {
            int slot = 0;
            for (int z = 0; z < R8_N; z++)
                if (al_r8_slot[z] == k) slot = z;
            for (int w = 0; w < MS_WARPS; w++) s += (double)sm[rr][w][slot];
            if (k == AL_CQ_ENT || k == AL_CQ_CLARK) s *= -0.6931471805599453; /* -ln 2: from x log2 x to -x ln x */
        }
        rowpart[((int64_t)(tile * MS_ROWS + rr) * nstripes + stripe) * AL_CQ + k] = s;
    }
#pragma unroll
    for (int v = 0; v < MS_PER; v++) {
        const int j = stripe * MS_STRIPE + v * MS_THREADS + tid;
        if (j < T) colpart[(int64_t)tile * T + j] = col[v];
    }
}

/* Folds the partial sums in a fixed order: column sums over row tiles into the head's sums, row totals over
 * stripes into rowtot [nrows, AL_CQ]. */
__global__ void al_mapstats_fold(const float *__restrict__ colpart, const double *__restrict__ rowpart, int64_t T,
                                 int64_t ntiles, int64_t nstripes, int64_t nrows, double *__restrict__ colsum,
                                 double *__restrict__ rowtot) {
    int64_t x = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, z = blockIdx.y;
    colpart += z * ntiles * T;
    rowpart += z * nrows * nstripes * AL_CQ;
    colsum += z * T;
    rowtot += z * nrows * AL_CQ;
    if (x < T) {
        double s = 0;
        for (int64_t t = 0; t < ntiles; t++) s += (double)colpart[t * T + x];
        colsum[x] += s;
    }
    if (x < nrows * AL_CQ) {
        int64_t r = x / AL_CQ, k = x % AL_CQ;
        double s = 0;
        for (int64_t st = 0; st < nstripes; st++) s += rowpart[(r * nstripes + st) * AL_CQ + k];
        rowtot[x] = s;
    }
}

static size_t al_cu_esize(int elem) { return elem == AL_CU_F32 ? 4 : 2; }

template <typename E>
static void al_mapstats_go(dim3 grid, cudaStream_t st, const void *dA, int64_t nrows, int64_t lda, int64_t hstride,
                           int64_t row0, const al_cu_mapcfg *cfg, float *colpart, double *rowpart) {
    if (cfg->clark)
        al_mapstats_kernel<E, true><<<grid, MS_THREADS, 0, st>>>((const E *)dA, nrows, lda, hstride, row0, *cfg, colpart, rowpart);
    else
        al_mapstats_kernel<E, false><<<grid, MS_THREADS, 0, st>>>((const E *)dA, nrows, lda, hstride, row0, *cfg, colpart, rowpart);
}

/* Launches the statistics of device rows dA [heads][nrows, lda] (heads hstride elements apart) into colsum
 * [heads, T] (added) and rowtot [heads, nrows, AL_CQ]; colpart and rowpart hold heads' partials. */
static cudaError_t al_mapstats_launch(const void *dA, int elem, int64_t heads, int64_t nrows, int64_t lda,
                                      int64_t hstride, int64_t row0, const al_cu_mapcfg *cfg, float *colpart,
                                      double *rowpart, double *colsum, double *rowtot, cudaStream_t st) {
    int64_t nstripes = (cfg->T + MS_STRIPE - 1) / MS_STRIPE, ntiles = (nrows + MS_ROWS - 1) / MS_ROWS;
    dim3 grid((unsigned)nstripes, (unsigned)ntiles, (unsigned)heads);
    if (elem == AL_CU_F32) al_mapstats_go<float>(grid, st, dA, nrows, lda, hstride, row0, cfg, colpart, rowpart);
    else if (elem == AL_CU_F16) al_mapstats_go<__half>(grid, st, dA, nrows, lda, hstride, row0, cfg, colpart, rowpart);
    else al_mapstats_go<__nv_bfloat16>(grid, st, dA, nrows, lda, hstride, row0, cfg, colpart, rowpart);
    int64_t n = cfg->T > nrows * AL_CQ ? cfg->T : nrows * AL_CQ;
    al_mapstats_fold<<<dim3((unsigned)((n + 255) / 256), (unsigned)heads), 256, 0, st>>>(colpart, rowpart, cfg->T, ntiles,
                                                                                        nstripes, nrows, colsum, rowtot);
    return cudaGetLastError();
}

struct al_cu_maps {
    int64_t T, max_rows;
    int elem;
    void *staging[2], *dA[2];
    double *rowtot_h[2], *rowtot_d[2], *rowpart, *colsum;
    float *colpart;
    int64_t nrows[2];
    cudaStream_t stream;
    cudaEvent_t done[2];
};

extern "C" void al_cu_maps_free(al_cu_maps *m) {
    if (!m) return;
    if (m->stream) cudaStreamSynchronize(m->stream);
    for (int s = 0; s < 2; s++) {
        cudaFreeHost(m->staging[s]);
        cudaFreeHost(m->rowtot_h[s]);
        cudaFree(m->dA[s]);
        cudaFree(m->rowtot_d[s]);
        if (m->done[s]) cudaEventDestroy(m->done[s]);
    }
    cudaFree(m->colpart);
    cudaFree(m->rowpart);
    cudaFree(m->colsum);
    if (m->stream) cudaStreamDestroy(m->stream);
    free(m);
}

extern "C" al_cu_maps *al_cu_maps_new(int64_t T, int64_t max_rows, int elem, char *why, size_t n) {
    al_cu_maps *m = (al_cu_maps *)calloc(1, sizeof *m);
    if (!m) {
        snprintf(why, n, "out of memory");
        return NULL;
    }
    m->T = T;
    m->max_rows = max_rows;
    m->elem = elem;
    size_t blk = (size_t)(max_rows * T) * al_cu_esize(elem);
    int64_t nstripes = (T + MS_STRIPE - 1) / MS_STRIPE, ntiles = (max_rows + MS_ROWS - 1) / MS_ROWS;
    AL_CU_TRY(cudaStreamCreateWithFlags(&m->stream, cudaStreamNonBlocking));
    for (int s = 0; s < 2; s++) {
        AL_CU_TRY(cudaMallocHost(&m->staging[s], blk));
        AL_CU_TRY(cudaMalloc(&m->dA[s], blk));
        AL_CU_TRY(cudaMallocHost((void **)&m->rowtot_h[s], sizeof(double) * (size_t)(max_rows * AL_CQ)));
        AL_CU_TRY(cudaMalloc((void **)&m->rowtot_d[s], sizeof(double) * (size_t)(max_rows * AL_CQ)));
        AL_CU_TRY(cudaEventCreateWithFlags(&m->done[s], cudaEventDisableTiming));
    }
    AL_CU_TRY(cudaMalloc((void **)&m->colpart, sizeof(float) * (size_t)(ntiles * T)));
    AL_CU_TRY(cudaMalloc((void **)&m->rowpart, sizeof(double) * (size_t)(max_rows * nstripes * AL_CQ)));
    AL_CU_TRY(cudaMalloc((void **)&m->colsum, sizeof(double) * (size_t)T));
    return m;
fail:
    snprintf(why, n, "CUDA: %s", al_cu_err);
    al_cu_maps_free(m);
    return NULL;
}

extern "C" void *al_cu_maps_staging(al_cu_maps *m, int slot) { return m->staging[slot]; }

extern "C" int al_cu_maps_head_begin(al_cu_maps *m) {
    AL_CU_TRY(cudaMemsetAsync(m->colsum, 0, sizeof(double) * (size_t)m->T, m->stream));
    return 0;
fail:
    return -1;
}

extern "C" int al_cu_maps_submit(al_cu_maps *m, int slot, int64_t row0, int64_t nrows, const al_cu_mapcfg *cfg) {
    size_t bytes = (size_t)(nrows * m->T) * al_cu_esize(m->elem);
    m->nrows[slot] = nrows;
    AL_CU_TRY(cudaMemcpyAsync(m->dA[slot], m->staging[slot], bytes, cudaMemcpyHostToDevice, m->stream));
    AL_CU_TRY(al_mapstats_launch(m->dA[slot], m->elem, 1, nrows, m->T, 0, row0, cfg, m->colpart, m->rowpart, m->colsum,
                                 m->rowtot_d[slot], m->stream));
    AL_CU_TRY(cudaMemcpyAsync(m->rowtot_h[slot], m->rowtot_d[slot], sizeof(double) * (size_t)(nrows * AL_CQ),
                              cudaMemcpyDeviceToHost, m->stream));
    AL_CU_TRY(cudaEventRecord(m->done[slot], m->stream));
    return 0;
fail:
    return -1;
}

extern "C" int al_cu_maps_wait(al_cu_maps *m, int slot, double *rowtot) {
    AL_CU_TRY(cudaEventSynchronize(m->done[slot]));
    if (rowtot) memcpy(rowtot, m->rowtot_h[slot], sizeof(double) * (size_t)(m->nrows[slot] * AL_CQ));
    return 0;
fail:
    return -1;
}

extern "C" int al_cu_maps_colsum(al_cu_maps *m, double *colsum) {
    AL_CU_TRY(cudaMemcpyAsync(colsum, m->colsum, sizeof(double) * (size_t)m->T, cudaMemcpyDeviceToHost, m->stream));
    AL_CU_TRY(cudaStreamSynchronize(m->stream));
    return 0;
fail:
    return -1;
}

extern "C" int al_cu_mapstats(const void *A, int elem, int64_t nrows, int64_t lda, int64_t row0,
                              const al_cu_mapcfg *cfg, double *colsum, double *rowtot) {
    size_t es = al_cu_esize(elem);
    void *dA = NULL;
    float *colpart = NULL;
    double *rowpart = NULL, *dcol = NULL, *drow = NULL;
    int64_t nstripes = (cfg->T + MS_STRIPE - 1) / MS_STRIPE, ntiles = (nrows + MS_ROWS - 1) / MS_ROWS;
    int rc = -1;
    AL_CU_TRY(cudaMalloc(&dA, (size_t)(nrows * lda) * es));
    AL_CU_TRY(cudaMemcpy(dA, A, (size_t)(nrows * lda) * es, cudaMemcpyHostToDevice));
    AL_CU_TRY(cudaMalloc((void **)&colpart, sizeof(float) * (size_t)(ntiles * cfg->T)));
    AL_CU_TRY(cudaMalloc((void **)&rowpart, sizeof(double) * (size_t)(nrows * nstripes * AL_CQ)));
    AL_CU_TRY(cudaMalloc((void **)&dcol, sizeof(double) * (size_t)cfg->T));
    AL_CU_TRY(cudaMalloc((void **)&drow, sizeof(double) * (size_t)(nrows * AL_CQ)));
    AL_CU_TRY(cudaMemcpy(dcol, colsum, sizeof(double) * (size_t)cfg->T, cudaMemcpyHostToDevice));
    AL_CU_TRY(al_mapstats_launch(dA, elem, 1, nrows, lda, 0, row0, cfg, colpart, rowpart, dcol, drow, 0));
    AL_CU_TRY(cudaMemcpy(colsum, dcol, sizeof(double) * (size_t)cfg->T, cudaMemcpyDeviceToHost));
    AL_CU_TRY(cudaMemcpy(rowtot, drow, sizeof(double) * (size_t)(nrows * AL_CQ), cudaMemcpyDeviceToHost));
    rc = 0;
fail:
    cudaFree(dA);
    cudaFree(colpart);
    cudaFree(rowpart);
    cudaFree(dcol);
    cudaFree(drow);
    return rc;
}

/* ---- benchmarks on device-resident data ---- */

static int al_cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static __global__ void al_fill_rows(float *A, int64_t rows, int64_t T, uint32_t seed) {
    int64_t r = (int64_t)blockIdx.x;
    if (r >= rows) return;
    int64_t i = r % T;
    /* a valid causal distribution per row, with structure: half the mass on key 0, the rest spread */
    for (int64_t j = threadIdx.x; j < T; j += blockDim.x) {
        uint32_t h = (uint32_t)(j * 2654435761u) ^ (uint32_t)(r * 40503u) ^ seed;
        float u = (float)(h & 0xffff) / 65536.f;
        A[r * T + j] = j > i ? 0.f : (j == 0 ? 0.5f : (0.5f / (float)(i > 0 ? i : 1)) * (0.5f + u) / 1.0f);
    }
}

template <typename E> static __global__ void al_narrow(const float *in, E *out, int64_t n);
template <> __global__ void al_narrow<__half>(const float *in, __half *out, int64_t n) {
    for (int64_t x = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; x < n; x += (int64_t)gridDim.x * blockDim.x)
        out[x] = __float2half(in[x]);
}
template <> __global__ void al_narrow<__nv_bfloat16>(const float *in, __nv_bfloat16 *out, int64_t n) {
    for (int64_t x = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; x < n; x += (int64_t)gridDim.x * blockDim.x)
        out[x] = __float2bfloat16(in[x]);
}

extern "C" double al_cu_bench_mapstats(int64_t heads, int64_t T, int elem, int reps, double *gbs) {
    /* heads maps of T x T, processed as blocks of `rows` rows each, as the streaming engine submits them */
    int64_t rows = T, total = heads * T * T;
    size_t es = al_cu_esize(elem);
    float *f = NULL;
    void *A = NULL;
    float *colpart = NULL;
    double *rowpart = NULL, *colsum = NULL, *rowtot = NULL;
    cudaEvent_t e0 = NULL, e1 = NULL;
    float *ms = (float *)calloc((size_t)reps, sizeof(float));
    double med = -1;
    int64_t nstripes = (T + MS_STRIPE - 1) / MS_STRIPE, ntiles = (rows + MS_ROWS - 1) / MS_ROWS;
    al_cu_mapcfg cfg = {T, 1, 4, 64, 0};
    AL_CU_TRY(cudaMalloc((void **)&f, sizeof(float) * (size_t)total));
    al_fill_rows<<<(unsigned)(heads * T), 256>>>(f, heads * T, T, 12345u);
    AL_CU_TRY(cudaGetLastError());
    if (elem == AL_CU_F32) {
        A = f;
        f = NULL;
    } else {
        AL_CU_TRY(cudaMalloc(&A, es * (size_t)total));
        if (elem == AL_CU_F16) al_narrow<__half><<<4096, 256>>>(f, (__half *)A, total);
        else al_narrow<__nv_bfloat16><<<4096, 256>>>(f, (__nv_bfloat16 *)A, total);
        AL_CU_TRY(cudaGetLastError());
    }
    AL_CU_TRY(cudaMalloc((void **)&colpart, sizeof(float) * (size_t)(ntiles * T * heads)));
    AL_CU_TRY(cudaMalloc((void **)&rowpart, sizeof(double) * (size_t)(rows * nstripes * AL_CQ * heads)));
    AL_CU_TRY(cudaMalloc((void **)&colsum, sizeof(double) * (size_t)(T * heads)));
    AL_CU_TRY(cudaMalloc((void **)&rowtot, sizeof(double) * (size_t)(rows * AL_CQ * heads)));
    AL_CU_TRY(cudaEventCreate(&e0));
    AL_CU_TRY(cudaEventCreate(&e1));
    for (int rep = -2; rep < reps; rep++) {
        AL_CU_TRY(cudaEventRecord(e0));
        AL_CU_TRY(al_mapstats_launch(A, elem, heads, rows, T, T * T, 0, &cfg, colpart, rowpart, colsum, rowtot, 0));
        AL_CU_TRY(cudaEventRecord(e1));
        AL_CU_TRY(cudaEventSynchronize(e1));
        if (rep >= 0) AL_CU_TRY(cudaEventElapsedTime(&ms[rep], e0, e1));
    }
    qsort(ms, (size_t)reps, sizeof(float), al_cmp_float);
    med = ms[reps / 2];
    if (gbs) *gbs = (double)total * (double)es / (med * 1e-3) / 1e9;
fail:
    cudaFree(f);
    cudaFree(A);
    cudaFree(colpart);
    cudaFree(rowpart);
    cudaFree(colsum);
    cudaFree(rowtot);
    if (e0) cudaEventDestroy(e0);
    if (e1) cudaEventDestroy(e1);
    free(ms);
    return med;
}

extern "C" double al_cu_bench_copy(size_t bytes, int reps, double *gbs) {
    void *a = NULL, *b = NULL;
    cudaEvent_t e0 = NULL, e1 = NULL;
    float *ms = (float *)calloc((size_t)reps, sizeof(float));
    double med = -1;
    AL_CU_TRY(cudaMalloc(&a, bytes));
    AL_CU_TRY(cudaMalloc(&b, bytes));
    AL_CU_TRY(cudaMemset(a, 1, bytes));
    AL_CU_TRY(cudaEventCreate(&e0));
    AL_CU_TRY(cudaEventCreate(&e1));
    for (int rep = -2; rep < reps; rep++) {
        AL_CU_TRY(cudaEventRecord(e0));
        AL_CU_TRY(cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice));
        AL_CU_TRY(cudaEventRecord(e1));
        AL_CU_TRY(cudaEventSynchronize(e1));
        if (rep >= 0) AL_CU_TRY(cudaEventElapsedTime(&ms[rep], e0, e1));
    }
    qsort(ms, (size_t)reps, sizeof(float), al_cmp_float);
    med = ms[reps / 2];
    if (gbs) *gbs = 2.0 * (double)bytes / (med * 1e-3) / 1e9; /* bytes read plus bytes written */
fail:
    cudaFree(a);
    cudaFree(b);
    if (e0) cudaEventDestroy(e0);
    if (e1) cudaEventDestroy(e1);
    free(ms);
    return med;
}
