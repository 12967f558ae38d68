/* Kernels of a Llama-architecture forward pass (llama2.c's run.c semantics): linear layers, RMSNorm, rotary
 * embedding on consecutive pairs, causal attention rows, SwiGLU, and next-token choice. No I/O. */
#ifndef AL_LLAMA_FORWARD_H
#define AL_LLAMA_FORWARD_H

#include <stdint.h>

#define AL_LLAMA_RMS_EPS 1e-5
#define AL_LLAMA_ROPE_BASE 10000.0

/* out[t, o] = sum_i x[t, i] W[o, i]. x: [T, k] (row stride ldx), W: [n, k], out: [T, n] (row stride ldo).
 * Tuned: OpenBLAS sgemm (sgemv when T = 1). */
void al_linear(const float *x, int64_t T, int64_t k, int64_t ldx, const float *W, int64_t n, float *out, int64_t ldo);
/* Reference: the same product accumulated in double. */
void al_linear_ref(const float *x, int64_t T, int64_t k, int64_t ldx, const float *W, int64_t n, float *out,
                   int64_t ldo);

/* out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * g; x, out: [T, d] (strides ldx, ldo; may alias), g: [d].
 * Accumulates in double. */
void al_rmsnorm(const float *x, int64_t T, int64_t d, int64_t ldx, const float *g, double eps, float *out, int64_t ldo);

/* In place on x: [T, nh * hs] (row stride ldx), row t at position pos0 + t. Pair (x[2m], x[2m+1]) of each
 * head turns by angle pos * base^(-(2m mod hs) / hs), angles and rotation in double. */
void al_rope(float *x, int64_t T, int64_t nh, int64_t hs, int64_t ldx, int64_t pos0, double base);

/* Causal attention of one head for query rows at positions row0 .. row0 + nrows - 1 over keys 0 .. row0 + nrows - 1.
 * q: [nrows, hs] (stride ldq), k, v: [row0 + nrows, hs] (strides ldk, ldv).
 * att: [nrows, ldatt] receives softmax(q k^T * scale) per row, zero for keys after the query;
 * out: [nrows, hs] (stride ldo) = att v. Softmax in double. Tuned: sgemm for q k^T and att v. */
void al_attention_rows(const float *q, int64_t ldq, const float *k, int64_t ldk, const float *v, int64_t ldv,
                       int64_t row0, int64_t nrows, int64_t hs, double scale, float *att, int64_t ldatt, float *out,
                       int64_t ldo);
/* Reference: every dot product and sum in double. */
void al_attention_rows_ref(const float *q, int64_t ldq, const float *k, int64_t ldk, const float *v, int64_t ldv,
                           int64_t row0, int64_t nrows, int64_t hs, double scale, float *att, int64_t ldatt,
                           float *out, int64_t ldo);

/* h1[i] = silu(h1[i]) * h3[i], i < n (in double). */
void al_swiglu(float *h1, const float *h3, int64_t n);
/* out[i] = a[i] + b[i]. */
void al_add(float *a, const float *b, int64_t n);

/* Index of the largest logit, the first one on ties (run.c's argmax). */
int64_t al_argmax(const float *x, int64_t n);
/* Draws from softmax(x / temperature) by inverting the cumulative sum at coin in [0, 1) (run.c's sample_mult);
 * ws: [n] doubles. */
int64_t al_sample_softmax(const float *x, int64_t n, double temperature, double coin, double *ws);

#endif
