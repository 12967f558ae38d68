/* The fused map pass (analyses/stats.h): per-head visitors of the analyses asked for on one stream; with
 * similarity, the all-heads row-block stream wrapped by analyses/fused.c so the per-head ones see it too. */
#include "stats.h"

#include <string.h>

#include "fused.h"

/* the all-heads stream: similarity's pairwise sums, the per-head visitors mv [nmv] fed from the same blocks */
static al_status al_stats_rows(al_rec *r, int64_t T, const al_exec *x, const al_map_visitor *mv, int nmv,
                               al_similarity_out *jo, al_error *e) {
    int64_t B = al_stream_rows_all(r, T, x->mem, sizeof(double) + al_fused_extra_bytes(r, T, mv, nmv));
    al_similarity_acc *ja = al_similarity_acc_new(r, T, B, e);
    if (!ja) return e->status;
    al_rows_visitor jv = al_similarity_visitor(ja);
    al_fused *f = al_fused_new(r, T, mv, nmv, &jv, e);
    al_status st = f ? AL_OK : e->status;
    if (st == AL_OK) {
        al_rows_visitor fv = al_fused_visitor(f);
        st = al_stream_all_heads(r, T, B, x, &fv, e);
    }
    al_fused_free(f);
    if (st != AL_OK) {
        al_similarity_acc_free(ja);
        return st;
    }
    return al_similarity_acc_finish(ja, jo, e);
}

al_status al_stats_compute(al_rec *r, int64_t T, const al_sinks_params *sp, const al_heads_params *hp, const al_exec *x,
                           al_sinks_out *so, al_heads_out *ho, al_similarity_out *jo, al_error *e) {
    if (so) memset(so, 0, sizeof *so);
    if (ho) memset(ho, 0, sizeof *ho);
    if (jo) memset(jo, 0, sizeof *jo);
    al_sinks_acc *sa = so ? al_sinks_acc_new(r, T, sp, e) : NULL;
    al_heads_acc *ha = ho && (!so || sa) ? al_heads_acc_new(r, T, hp, NULL, e) : NULL;
    if ((so && !sa) || (ho && !ha)) {
        al_sinks_acc_free(sa);
        return e->status;
    }
    al_map_visitor mv[2]; /* [nmv] the per-head visitors */
    int nmv = 0;
    if (sa) mv[nmv++] = al_sinks_visitor(sa);
    if (ha) mv[nmv++] = al_heads_visitor(ha);
    al_status st = jo ? al_stats_rows(r, T, x, mv, nmv, jo, e) : al_stream_maps(r, T, x, mv, nmv, e);
    if (sa) al_sinks_acc_take(sa, so);
    if (ha) al_heads_acc_take(ha, ho);
    return st;
}
