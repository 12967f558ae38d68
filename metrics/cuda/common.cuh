/* Shared helpers of attnlab's CUDA kernels: error capture (the C interface reports, never aborts), element
 * loads of the three stored types, and warp reductions. */
#ifndef AL_CUDA_COMMON_CUH
#define AL_CUDA_COMMON_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdio.h>

/* The first error of the last failing call, for al_cuda_last_error(). */
void al_cu_set_error(const char *what, cudaError_t err);

#define AL_CU_TRY(call)                                                                                              \
    do {                                                                                                             \
        cudaError_t al_e_ = (call);                                                                                  \
        if (al_e_ != cudaSuccess) {                                                                                  \
            al_cu_set_error(#call, al_e_);                                                                           \
            goto fail;                                                                                               \
        }                                                                                                            \
    } while (0)

template <typename E> __device__ __forceinline__ float al_ld(const E *p);
template <> __device__ __forceinline__ float al_ld<float>(const float *p) { return __ldg(p); }
template <> __device__ __forceinline__ float al_ld<__half>(const __half *p) { return __half2float(__ldg(p)); }
template <> __device__ __forceinline__ float al_ld<__nv_bfloat16>(const __nv_bfloat16 *p) {
    return __bfloat162float(__ldg(p));
}

__device__ __forceinline__ float al_warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

#endif
