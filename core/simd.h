/* Function multi-versioning for hot kernels: an AVX2+FMA clone chosen at load time where the processor has
 * it, the baseline x86-64 (or portable) code elsewhere. Results must not depend on the clone chosen. */
#ifndef AL_SIMD_H
#define AL_SIMD_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define AL_TARGET_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define AL_TARGET_CLONES
#endif

#endif
