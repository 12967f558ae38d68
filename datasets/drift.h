/* The multi-turn drift file (RECORDING.md "Other inputs", attnlab_format = "drift"): per scored token the
 * conversation, the turn and either dense logits or top-k logprobs of the test and the reference model. */
#ifndef AL_DRIFT_H
#define AL_DRIFT_H

#include <stdint.h>

#include "../core/h5.h"
#include "../core/status.h"

typedef enum { AL_DRIFT_DENSE, AL_DRIFT_TOPK } al_drift_kind;
enum { AL_DRIFT_TEST = 0, AL_DRIFT_REF = 1 };

typedef struct {
    char path[4096];
    hid_t file;
    int64_t R;             /* scored token rows */
    al_drift_kind kind;
    int64_t V;             /* dense: vocabulary size (equal on both sides) */
    int64_t k[2];          /* top-k: width of test and ref */
    int64_t *conv, *turn;  /* [R] */
    uint8_t *intervention; /* [R] or NULL when absent */
    al_h5_dset logits[2];  /* dense: test/logits, ref/logits [R, V] */
    al_h5_dset ids[2];     /* top-k: test/topk_ids, ref/topk_ids [R, k] */
    al_h5_dset lps[2];     /* top-k: test/topk_logprobs, ref/topk_logprobs [R, k] */
    int32_t *dup_ws;       /* [max k] scratch for the duplicate-id check */
} al_drift;

/* Opens and validates structure: attributes, ranks, equal row counts, equal vocabularies, dtypes,
 * conversation and turn ids, intervention flags (0/1). */
al_status al_drift_open(const char *path, al_drift **out, al_error *e);
void al_drift_close(al_drift *d);

/* Dense rows [row0, row0 + n) of one side as double: dst [n, V]. Non-finite logits are errors naming the row. */
al_status al_drift_read_logits(al_drift *d, int side, int64_t row0, int64_t n, double *dst, al_error *e);
/* Top-k rows [row0, row0 + n) of one side: ids [n, k], lp [n, k]. Repeated ids within a row and non-finite
 * logprobs are errors naming the row. */
al_status al_drift_read_topk(al_drift *d, int side, int64_t row0, int64_t n, int32_t *ids, double *lp, al_error *e);

#endif
