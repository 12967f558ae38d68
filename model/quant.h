/* Dequantisation of GGUF tensor data (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K) into
 * float32, block by block as ggml lays the blocks out. Each tuned converter has a plain reference twin that
 * computes every element on its own from the format's definition. */
#ifndef AL_QUANT_H
#define AL_QUANT_H

#include <stdint.h>

/* dst [n] = the first n elements of src (type t, n a multiple of the block size). Tuned: whole blocks. */
void al_dequant(uint32_t t, const void *src, int64_t n, float *dst);
/* Reference: element i alone (block i / block size, position i % block size), for every i < n. */
void al_dequant_ref(uint32_t t, const void *src, int64_t n, float *dst);

/* Rows r0 .. r0 + nr - 1 of a [rows, cols] tensor of type t into dst [nr, cols]. */
void al_dequant_rows(uint32_t t, const void *src, int64_t cols, int64_t r0, int64_t nr, float *dst);

#endif
