/* KL divergence of logit rows on the GPU: one block per row, log-sum-exp with max subtraction for both
 * distributions, then sum q (ln q - ln p). Block reductions in a fixed order. Oracle: metrics/kl.c. */
#include <math.h>

#include "al_cuda.h"
#include "common.cuh"

enum { KL_THREADS = 256 };

__device__ double al_block_sum(double v, double *sh) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if ((threadIdx.x & 31) == 0) sh[threadIdx.x >> 5] = v;
    __syncthreads();
    double s = 0;
    for (int w = 0; w < KL_THREADS / 32; w++) s += sh[w];
    __syncthreads();
    return s;
}

__device__ float al_block_max(float v, float *sh) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    if ((threadIdx.x & 31) == 0) sh[threadIdx.x >> 5] = v;
    __syncthreads();
    float m = -INFINITY;
    for (int w = 0; w < KL_THREADS / 32; w++) m = fmaxf(m, sh[w]);
    __syncthreads();
    return m;
}

__global__ void __launch_bounds__(KL_THREADS) al_kl_kernel(const float *__restrict__ test, const float *__restrict__ ref,
                                                          int64_t V, float inv_temp, double *__restrict__ out) {
    __shared__ double shd[KL_THREADS / 32];
    __shared__ float shf[KL_THREADS / 32];
    const float *a = test + (int64_t)blockIdx.x * V, *b = ref + (int64_t)blockIdx.x * V;
    float ma = -INFINITY, mb = -INFINITY;
    for (int64_t j = threadIdx.x; j < V; j += KL_THREADS) {
        ma = fmaxf(ma, a[j] * inv_temp);
        mb = fmaxf(mb, b[j] * inv_temp);
    }
    ma = al_block_max(ma, shf);
    mb = al_block_max(mb, shf);
    double za = 0, zb = 0;
    for (int64_t j = threadIdx.x; j < V; j += KL_THREADS) {
        za += exp((double)(a[j] * inv_temp - ma));
        zb += exp((double)(b[j] * inv_temp - mb));
    }
    double lza = log(al_block_sum(za, shd)), lzb = log(al_block_sum(zb, shd));
    double kl = 0;
    for (int64_t j = threadIdx.x; j < V; j += KL_THREADS) {
        double lq = (double)(a[j] * inv_temp - ma) - lza, lp = (double)(b[j] * inv_temp - mb) - lzb;
        kl += exp(lq) * (lq - lp);
    }
    kl = al_block_sum(kl, shd);
    if (threadIdx.x == 0) out[blockIdx.x] = kl;
}

extern "C" int al_cu_kl_rows(const float *test, const float *ref, int64_t R, int64_t V, double temperature,
                             double *out) {
    float *dt = NULL, *dr = NULL;
    double *dout = NULL;
    int rc = -1;
    size_t bytes = sizeof(float) * (size_t)(R * V);
    AL_CU_TRY(cudaMalloc((void **)&dt, bytes));
    AL_CU_TRY(cudaMalloc((void **)&dr, bytes));
    AL_CU_TRY(cudaMalloc((void **)&dout, sizeof(double) * (size_t)R));
    AL_CU_TRY(cudaMemcpy(dt, test, bytes, cudaMemcpyHostToDevice));
    AL_CU_TRY(cudaMemcpy(dr, ref, bytes, cudaMemcpyHostToDevice));
    al_kl_kernel<<<(unsigned)R, KL_THREADS>>>(dt, dr, V, (float)(1.0 / temperature), dout);
    AL_CU_TRY(cudaGetLastError());
    AL_CU_TRY(cudaMemcpy(out, dout, sizeof(double) * (size_t)R, cudaMemcpyDeviceToHost));
    rc = 0;
fail:
    cudaFree(dt);
    cudaFree(dr);
    cudaFree(dout);
    return rc;
}
