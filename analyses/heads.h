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
    int64_t tokens;                    /* analysed tokens; <= 0: the recorded length */
    int64_t sink_tokens;               /* s of distant_mass, default 4 */
    int64_t recent;                    /* r of distant_mass, default 64 */
    int clark;                         /* entropy with Clark's smoothing */
    al_strlist class_ids, class_masks; /* token classes (--class-tokens, --class-mask) */
    const char *duo_gates;             /* DuoAttention gate TSV, or NULL */
    double threshold;                  /* gate threshold, default 0.5 */
    double sparsity;                   /* < 0: unset; else threshold = this quantile of the gates */
} al_heads_params;

void al_heads_defaults(al_heads_params *p);

/* Statistics reported per head, [L, H] each after streaming (mean over rows, then samples). */
typedef enum {
    AL_HEAD_ENTROPY,
    AL_HEAD_ENTROPY_NORM,
    AL_HEAD_FIRST,
    AL_HEAD_SELF,
    AL_HEAD_PREV,
    AL_HEAD_NEXT,
    AL_HEAD_DISTANCE,
    AL_HEAD_DISTANT,
    AL_HEAD_NSTATS
} al_head_stat;

/* The heads statistics of a recording: per head and slot (metrics/headstats.h: AL_HS_COUNT statistics, then K
 * token classes) the sum over samples of the per-sample means; every reported number follows from it. */
typedef struct {
    al_heads_params params;        /* as resolved: tokens = T */
    int64_t N, L, H, Hkv, T, K, S; /* S = AL_HS_COUNT + K slots per head */
    int causal;
    al_token_classes *cls; /* NULL when K = 0 */
    al_gates *gates;       /* the --duo-gates file read, or NULL */
    double *sum;           /* [L, H, S] */
} al_heads_out;

/* Whole analysis: resolve tokens, read classes and gates, stream the maps; release out with al_heads_out_free
 * (also after a failure). */
al_status al_heads_compute(al_rec *r, const al_heads_params *p, const al_exec *x, al_heads_out *out, al_error *e);
void al_heads_out_free(al_heads_out *o);
/* mean: [L, H] for stat, or class k's mass with stat = AL_HEAD_NSTATS + k, averaged over samples. */
void al_heads_means(const al_heads_out *o, int stat, double *mean);

/* Accumulator, usable as a visitor of a shared streaming pass. cls may be NULL (no classes); it must outlive
 * the accumulator, which does not own it. */
typedef struct al_heads_acc al_heads_acc;
al_heads_acc *al_heads_acc_new(const al_rec *r, int64_t T, const al_heads_params *p, const al_token_classes *cls,
                               al_error *e);
al_map_visitor al_heads_visitor(al_heads_acc *a);
/* The statistics gathered so far; the accumulator keeps them. */
const al_heads_out *al_heads_acc_out(const al_heads_acc *a);
/* Moves the statistics into out (the classes stay the caller's: out->cls is NULL) and frees the accumulator. */
void al_heads_acc_take(al_heads_acc *a, al_heads_out *out);
void al_heads_acc_free(al_heads_acc *a);

/* Presentation (analyses/heads_report.c, heads_duo.c): the heads fields, tables and figures of res, and the
 * `duo` object when o->gates is set. */
al_status al_heads_emit(const al_heads_out *o, al_result *res, al_error *e);
al_status al_heads_duo_report(const al_heads_out *o, al_result *res, al_error *e);

#endif
