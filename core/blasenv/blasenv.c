/* A constructor that runs before OpenBLAS's (this library is linked after OpenBLAS, so the dynamic loader
 * initialises it first): when OPENBLAS_CORETYPE is unset, it names the kernel family the processor supports.
 * OpenBLAS 0.3.21 (Debian 12) does not know recent Xeons (family 6, model 207) and falls back to its SSE3
 * "Prescott" kernels, 4.5 times slower at sgemm than the AVX-512 ones on the same core (bench/README.md).
 * A variable set by the user wins. */
#include <stdlib.h>

__attribute__((constructor)) static void al_blas_coretype(void) {
    if (getenv("OPENBLAS_CORETYPE")) return;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq"))
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 0);
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        setenv("OPENBLAS_CORETYPE", "Haswell", 0);
}
