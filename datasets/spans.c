/* Span loading for analyses that group keys by named spans (attention drift). Validation happens here so an
 * analysis never indexes a map with a span that points past the tokens the sample holds. */
#include "spans.h"

#include <string.h>

#include "../core/alloc.h"

int al_span_index(const al_rec *r, const char *name) {
    for (int s = 0; s < r->n_spans; s++)
        if (!strcmp(r->span_names[s], name)) return s;
    return -1;
}

al_status al_spans_load(al_rec *r, int32_t **out, al_error *e) {
    *out = NULL;
    if (!r->has_spans) return al_fail(e, AL_EFORMAT, r->path, "spans", "no /spans in this recording (named token ranges are needed)");
    int64_t S = r->n_spans;
    int32_t *sp = al_malloc((size_t)(r->N * S * 2), sizeof(int32_t)); /* [N, S, 2] */
    if (!sp) return al_fail(e, AL_ENOMEM, r->path, "spans", "out of memory");
    for (int64_t n = 0; n < r->N; n++) {
        int32_t *s = sp + n * S * 2;
        if (al_rec_read_spans(r, n, s, e) != AL_OK) {
            al_free(sp);
            return e->status;
        }
        for (int64_t k = 0; k < S; k++) {
            int32_t a = s[2 * k], b = s[2 * k + 1];
            if (a == -1 && b == -1) continue;
            if (a < 0 || b < a || b > r->lengths[n]) {
                al_fail(e, AL_ERANGE, r->path, "spans",
                        "sample %lld, span '%s': [%d, %d) is out of range (need 0 <= start <= end <= %lld valid tokens, or "
                        "[-1, -1] when absent)",
                        (long long)n, r->span_names[k], a, b, (long long)r->lengths[n]);
                al_free(sp);
                return e->status;
            }
        }
    }
    *out = sp;
    return AL_OK;
}
