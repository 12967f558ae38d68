/* `attnlab record --drift`: each conversation is run twice, as is (test) and with a goal-restating prefix
 * before its first turn (reference); the logits that predict each turn token are written side by side. */
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/progress.h"
#include "../core/provenance.h"
#include "../datasets/drift_writer.h"
#include "llama_run.h"
#include "record.h"

/* Writes the logits rows lo..hi-1 of the running sequence to file rows base.. of dataset name. */
typedef struct {
    al_v1_writer *w;
    const char *name;
    int64_t lo, hi, base, V;
} al_rdrift_ctx;

static al_status al_obs_rdrift(void *ctx, int64_t t0, int64_t nt, const float *lg, al_error *e) {
    al_rdrift_ctx *x = ctx;
    int64_t a = t0 > x->lo ? t0 : x->lo, b = t0 + nt < x->hi ? t0 + nt : x->hi;
    if (a >= b) return AL_OK;
    int64_t st[2] = {x->base + a - x->lo, 0}, ct[2] = {b - a, x->V};
    return al_v1_write(x->w, x->name, st, ct, lg + (a - t0) * x->V, e);
}

/* Sequence length of conversation k without prefix (BOS included). */
static int64_t al_conv_len(const al_convs *cv, int64_t k, int bos) {
    return bos + cv->turn_start[cv->conv_turn[k + 1]] - cv->turn_start[cv->conv_turn[k]];
}

/* Checks every conversation against seq_len; returns the longest reference length, or -1. */
static int64_t al_rdrift_plan(const al_llama *m, const al_convs *cv, const al_record_drift_params *p, const char *path,
                             int64_t *rows, al_error *e) {
    int64_t Tmax = 0;
    *rows = 0;
    for (int64_t k = 0; k < cv->n_conv; k++) {
        int64_t t0 = cv->conv_turn[k], len = al_conv_len(cv, k, p->bos);
        long long line = (long long)cv->turn_line[t0];
        if (len + p->n_prefix > m->c.seq_len) {
            al_fail(e, AL_EVALUE, path, NULL,
                    "line %lld: conversation %lld has %lld tokens with %s the %lld-token prefix, more than the model's seq_len %lld",
                    line, (long long)k, (long long)(len + p->n_prefix), p->bos ? "BOS and" : "", (long long)p->n_prefix,
                    (long long)m->c.seq_len);
            return -1;
        }
        if (!p->bos && cv->turn_start[t0 + 1] - cv->turn_start[t0] < 2) {
            al_fail(e, AL_EVALUE, path, NULL,
                    "line %lld: with --no-bos the first turn of a conversation needs two tokens (nothing predicts its first one)",
                    line);
            return -1;
        }
        *rows += len - 1;
        Tmax = len + p->n_prefix > Tmax ? len + p->n_prefix : Tmax;
    }
    return Tmax;
}

/* row_conversation and row_turn: row p of conversation k scores token p + 1 of its test sequence. */
static void al_rdrift_rows(const al_convs *cv, int bos, int32_t *rc, int32_t *rt) {
    int64_t r = 0;
    for (int64_t k = 0; k < cv->n_conv; k++) {
        int64_t first = cv->turn_start[cv->conv_turn[k]], len = al_conv_len(cv, k, bos), turn = cv->conv_turn[k];
        for (int64_t p = 0; p + 1 < len; p++, r++) {
            int64_t id = first + p + 1 - bos; /* index of the scored token in cv->ids */
            while (id >= cv->turn_start[turn + 1]) turn++;
            rc[r] = (int32_t)k;
            rt[r] = (int32_t)(turn - cv->conv_turn[k]);
        }
    }
}

al_status al_record_drift(const al_llama *m, const al_convs *cv, const al_record_drift_params *p, const char *conv_path,
                          const char *out, al_error *e) {
    int64_t R, V = m->c.vocab_size, P = p->n_prefix;
    int64_t Tmax = al_rdrift_plan(m, cv, p, conv_path, &R, e);
    if (Tmax < 0) return e->status;
    int32_t *rc = al_malloc((size_t)R, sizeof(int32_t)), *rt = al_malloc((size_t)R, sizeof(int32_t)); /* [R] */
    int32_t *seq = al_malloc((size_t)Tmax, sizeof(int32_t));                                           /* [Tmax] */
    al_llm s;
    memset(&s, 0, sizeof s);
    al_v1_writer w;
    int open = 0;
    al_status st = AL_OK;
    if (!rc || !rt || !seq) st = al_fail(e, AL_ENOMEM, out, NULL, "out of memory");
    if (st == AL_OK) st = al_llm_init(&s, m, Tmax, e);
    char model[256], source[128], note[160];
    al_record_model_name(m->path, p->model_name, model, sizeof model);
    snprintf(source, sizeof source, "attnlab %s (%s) record --drift", al_version(), al_git_hash());
    snprintf(note, sizeof note, "test: %sconversation; ref: %s%lld-token prefix + conversation", p->bos ? "BOS + " : "",
             p->bos ? "BOS + " : "", (long long)P);
    if (st == AL_OK && (st = al_driftw_create(&w, out, model, source, note, e)) == AL_OK) open = 1;
    if (st == AL_OK) {
        al_rdrift_rows(cv, p->bos, rc, rt);
        int64_t ld[2] = {R, V};
        int64_t chunk = V < 262144 ? 262144 / V : 1;
        if ((st = al_v1_write_i32(&w, "row_conversation", 1, &R, rc, e)) == AL_OK &&
            (st = al_v1_write_i32(&w, "row_turn", 1, &R, rt, e)) == AL_OK &&
            (st = al_v1_dataset(&w, "test/logits", 2, ld, chunk, e)) == AL_OK)
            st = al_v1_dataset(&w, "ref/logits", 2, ld, chunk, e);
    }
    al_progress pg;
    al_progress_begin(&pg, "attnlab record --drift", cv->n_conv, p->quiet);
    int64_t row_base = 0;
    for (int64_t k = 0; st == AL_OK && k < cv->n_conv; k++) {
        int64_t len = al_conv_len(cv, k, p->bos), nid = len - p->bos;
        const int32_t *ids = cv->ids + cv->turn_start[cv->conv_turn[k]];
        seq[0] = 1;
        memcpy(seq + p->bos, ids, sizeof(int32_t) * (size_t)nid);
        al_rdrift_ctx tx = {&w, "test/logits", 0, len - 1, row_base, V};
        al_llm_observer to = {&tx, NULL, NULL, NULL, al_obs_rdrift};
        st = al_llm_prefill(&s, seq, 0, len, &to, NULL, e);
        memcpy(seq + p->bos, p->prefix, sizeof(int32_t) * (size_t)P);
        memcpy(seq + p->bos + P, ids, sizeof(int32_t) * (size_t)nid);
        al_rdrift_ctx rx = {&w, "ref/logits", P, P + len - 1, row_base, V};
        al_llm_observer ro = {&rx, NULL, NULL, NULL, al_obs_rdrift};
        if (st == AL_OK) st = al_llm_prefill(&s, seq, 0, len + P, &ro, NULL, e);
        row_base += len - 1;
        al_progress_add(&pg, 1);
    }
    al_progress_end(&pg);
    if (st == AL_OK) {
        st = al_v1_finish(&w, e);
        open = 0;
    }
    if (open) al_v1_abort(&w);
    al_llm_free(&s);
    al_free(rc);
    al_free(rt);
    al_free(seq);
    return st;
}
