/* The `heads` analysis: Clark-style head profile (entropy, first, self, prev, next, distance), the
 * DuoAttention-style distant mass, class attention, role labels, and agreement with DuoAttention gates. */
#ifndef AL_ANALYSIS_HEADS_H
#define AL_ANALYSIS_HEADS_H

#include "../core/result.h"
#include "../datasets/gates.h"
#include "../datasets/recording.h"
#include "../datasets/tokenclass.h"
#include "stream.h"

typedef struct {
    int64_t tokens;      /* analysed tokens; <= 0: the recorded length */
    int64_t sink_tokens; /* s of distant_mass, default 4 */
    int64_t recent;      /* r of distant_mass, default 64 */
    int clark;           /* entropy with Clark's smoothing */
    al_strlist class_ids, class_masks; /* token classes (--class-tokens, --class-mask) */
    const char *duo_gates; /* DuoAttention gate TSV, or NULL */
    double threshold;      /* gate threshold, default 0.5 */
    double sparsity;       /* < 0: unset; else threshold = this quantile of the gates */
} al_heads_params;

void al_heads_defaults(al_heads_params *p);

/* Statistics reported per head, [L, H] each after streaming (mean over rows, then samples). */
typedef enum {
    AL_HEAD_ENTROPY, AL_HEAD_ENTROPY_NORM, AL_HEAD_FIRST, AL_HEAD_SELF, AL_HEAD_PREV, AL_HEAD_NEXT,
    AL_HEAD_DISTANCE, AL_HEAD_DISTANT, AL_HEAD_NSTATS
} al_head_stat;

/* Per-head accumulators, usable as a visitor of a shared streaming pass. cls may be NULL (no classes);
 * it must outlive the accumulator. */
typedef struct al_heads_acc al_heads_acc;
al_heads_acc *al_heads_acc_new(const al_rec *r, int64_t T, const al_heads_params *p, const al_token_classes *cls, al_error *e);
al_map_visitor al_heads_visitor(al_heads_acc *a);
void al_heads_acc_free(al_heads_acc *a);
/* What the accumulator was built for (reports read it back). */
typedef struct {
    int64_t N, L, H, Hkv, T, K; /* K token classes */
    int causal, clark;
    const al_token_classes *cls; /* NULL when K = 0 */
} al_heads_shape;
al_heads_shape al_heads_acc_shape(const al_heads_acc *a);
/* Finalises the means (after the stream): out [L, H] for stat, or class k's mass with stat = AL_HEAD_NSTATS + k. */
void al_heads_means(const al_heads_acc *a, int stat, double *out);
/* Adds the heads fields, tables and figures to res. */
al_status al_heads_report(const al_heads_acc *a, al_result *res, al_error *e);
/* Adds the `duo` object, tables and figure: gates (already shape-checked) against the distant_mass proxy. */
al_status al_heads_duo_report(const al_heads_acc *a, const al_gates *g, const al_heads_params *p, al_result *res, al_error *e);

/* Whole analysis: resolve tokens, read classes and gates, stream, report. */
al_status al_heads_run(al_rec *r, const al_heads_params *p, const al_exec *x, al_result *res, al_error *e);

#endif
