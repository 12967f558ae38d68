/* Categorical heatmaps, e.g. the role of every (layer, head): a discrete palette with one named colour per
 * category and the category names on the colour box. */
#include <stdio.h>

#include "kinds.h"

al_figure *al_plot_categories(const char *name, const int *M, int64_t R, int64_t C, const char *const *names,
                              const char *const *colors, int ncat, const al_plot_opts *o) {
    al_figure *f = al_figure_new(name);
    if (!f) return NULL;
    al_buf *d = al_figure_data(f, ".dat");
    for (int64_t r = 0; r < R; r++) {
        for (int64_t c = 0; c < C; c++) {
            int v = M[r * C + c];
            if (v >= 0) al_buf_printf(d, "%s%d", c ? " " : "", v);
            else al_buf_printf(d, "%sNaN", c ? " " : "");
        }
        al_buf_printf(d, "\n");
    }
    al_buf *s = &f->script;
    al_gp_set_labels(s, o);
    char q[256];
    al_buf_printf(s, "set yrange [%g:-0.5]\nset xrange [-0.5:%g]\nunset key\n", R - 0.5, C - 0.5); /* row 0 on top */
    al_buf_printf(s, "set cbrange [-0.5:%g]\nset palette maxcolors %d\nset palette defined (", ncat - 0.5, ncat);
    for (int k = 0; k < ncat; k++) al_buf_printf(s, "%s%d '%s'", k ? ", " : "", k, colors[k]);
    al_buf_printf(s, ")\nset cbtics (");
    for (int k = 0; k < ncat; k++) {
        al_gp_quote(names[k], q, sizeof q);
        al_buf_printf(s, "%s'%s' %d", k ? ", " : "", q, k);
    }
    al_buf_printf(s, ")\n");
    if (R <= 40 && C <= 40) al_buf_printf(s, "set size ratio -1\n");
    al_buf_printf(s, "plot '%s' matrix with image\n", f->data_name[0]);
    return f;
}
