/* Attention probabilities recomputed from recorded queries and keys, one block of query rows at a time:
 * P = softmax(scale * Q_blk K^T) under the causal mask. The T x T map is never held. */
#ifndef AL_METRICS_QK_H
#define AL_METRICS_QK_H

#include <stdint.h>

/* Q: [nrows, D] rows row0.. of one head's queries; K: [T, D] its keys; P: [nrows, ldp] (ldp >= T).
 * Causal: entries j > row0 + r are set to 0. Reference: logits and softmax in double. */
void al_qk_probs_ref(const float *Q, const float *K, int64_t nrows, int64_t T, int64_t D, int64_t row0, double scale,
                     int causal, float *P, int64_t ldp);
/* Tuned: sgemm per tile of AL_QK_TILE rows aligned to absolute row numbers (float32 FMA), softmax with max
 * subtraction and a double row sum. Callers pass blocks that start at multiples of AL_QK_TILE, so each row is
 * computed by the same BLAS call whatever the block size: results do not depend on --mem or --threads. */
#define AL_QK_TILE 64
void al_qk_probs(const float *Q, const float *K, int64_t nrows, int64_t T, int64_t D, int64_t row0, double scale,
                 int causal, float *P, int64_t ldp);

/* In place: each row r of S [nrows, lds] becomes softmax(S[r, 0..vis-1]), vis = min(row0 + r + 1, ncols)
 * when causal, ncols otherwise; entries from vis to ncols-1 become 0. */
void al_softmax_rows(float *S, int64_t nrows, int64_t ncols, int64_t lds, int64_t row0, int causal);

#endif
