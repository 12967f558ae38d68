/* Element types of recorded tensors and their conversion to float32, done in attnlab's own code.
 * Scalar references here; the bulk converters are what readers call on whole blocks. */
#ifndef AL_DTYPE_H
#define AL_DTYPE_H

#include <stddef.h>
#include <stdint.h>

typedef enum { AL_DT_F32, AL_DT_F16, AL_DT_BF16, AL_DT_F64, AL_DT_I32, AL_DT_U8, AL_DT_COUNT } al_dtype;

const char *al_dtype_name(al_dtype t);
size_t al_dtype_size(al_dtype t);

/* Scalar reference conversions: exact, every bit pattern (subnormals, Inf, NaN) handled. */
float al_f16_to_f32_ref(uint16_t h);
float al_bf16_to_f32_ref(uint16_t h);
uint16_t al_f32_to_f16(float f);  /* round to nearest even */
uint16_t al_f32_to_bf16(float f); /* round to nearest even, NaN stays NaN */

/* Bulk: dst[i] = convert(src[i]) for i < n. src points at elements of type t. */
void al_convert_to_f32(al_dtype t, const void *src, float *dst, size_t n);

#endif
