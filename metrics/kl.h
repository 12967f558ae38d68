/* KL(q || p) of two next-token distributions (METRICS.md section 4): from dense logit rows by a streaming
 * log-sum-exp (one pass over each vocabulary row), and from top-k logprobs as hosted APIs return them. */
#ifndef AL_METRICS_KL_H
#define AL_METRICS_KL_H

#include <stddef.h>
#include <stdint.h>

/* q, p: [V] logits of the test and the reference model for one scored token; inv_t = 1 / temperature.
 * KL(softmax(q inv_t) || softmax(p inv_t)) in nats, accumulated in double. Single pass: running maxima
 * with rescaled sums, so a 150k vocabulary row is read once. */
double al_kl_logits(const double *q, const double *p, int64_t V, double inv_t);
/* Plain reference: max, log-sum-exp, then sum q (lq - lp), exactly as numpy's log_softmax would. */
double al_kl_logits_ref(const double *q, const double *p, int64_t V, double inv_t);

/* Top-k: qid/qlp [kq] and pid/plp [kp] (ids of one side distinct). The support is the union of both id sets;
 * an id missing on one side takes that side's smallest reported logprob; both are renormalised over the
 * union. ws: al_kl_topk_ws_bytes(kq, kp) bytes of scratch (sorted copies). */
size_t al_kl_topk_ws_bytes(int64_t kq, int64_t kp);
double al_kl_topk(const int32_t *qid, const double *qlp, int64_t kq, const int32_t *pid, const double *plp,
                  int64_t kp, double inv_t, void *ws);
/* Plain reference: quadratic look-ups, no sorting, no scratch. */
double al_kl_topk_ref(const int32_t *qid, const double *qlp, int64_t kq, const int32_t *pid, const double *plp,
                      int64_t kp, double inv_t);

#endif
