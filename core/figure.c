/* Figure storage, writing and rendering through an external gnuplot process.
 * gnuplot runs with the output folder as its working directory so scripts use plain relative names. */
#include "figure.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc.h"

static al_figfmt al_figfmt_cur = AL_FIGFMT_PNG;
static const char *const al_figfmt_names[] = {"png", "svg", "pdf"};

int al_figfmt_parse(const char *s) {
    for (int i = 0; s && i < 3; i++)
        if (!strcmp(s, al_figfmt_names[i])) return i;
    return -1;
}

void al_figure_format_set(al_figfmt f) {
    al_figfmt_cur = f;
}
al_figfmt al_figure_format_get(void) {
    return al_figfmt_cur;
}
const char *al_figure_ext(void) {
    return al_figfmt_names[al_figfmt_cur];
}

/* Terminal and output lines before the plot commands, and what follows them, per format. The fonts: pngcairo and
 * pdfcairo render with fontconfig's 'sans'; the PDF embeds the subset it uses, and the SVG converted from it by
 * pdftocairo carries the glyphs as paths, so both look the same on any machine. noenhanced: labels are literal. */
static void al_figure_terminal(al_buf *gp, const char *name) {
    const char *ext = al_figure_ext();
    if (al_figfmt_cur == AL_FIGFMT_PNG) {
        al_buf_printf(gp, "set terminal pngcairo size 1000,700 noenhanced font 'sans,11'\nset output '%s.png'\n", name);
        return;
    }
    al_buf_printf(gp, "set terminal pdfcairo size 7in,4.9in noenhanced font 'sans,11'\nset output '%s%s'\n", name,
                  al_figfmt_cur == AL_FIGFMT_SVG ? ".svg.pdf" : ".pdf");
    (void)ext;
}

static void al_figure_footer(al_buf *gp, const char *name) {
    if (al_figfmt_cur != AL_FIGFMT_SVG) return;
    al_buf_printf(gp,
                  "unset output\n# SVG from the PDF through cairo (poppler-utils' pdftocairo): glyphs embedded\n"
                  "system(\"pdftocairo -svg '%s.svg.pdf' '%s.svg' && rm -f '%s.svg.pdf'\")\n",
                  name, name, name);
}

al_figure *al_figure_new(const char *name) {
    al_figure *f = al_calloc(1, sizeof *f);
    if (f) snprintf(f->name, sizeof f->name, "%s", name);
    return f;
}

al_buf *al_figure_data(al_figure *f, const char *suffix) {
    if (f->ndata >= AL_FIG_MAX_DATA) return NULL;
    char *dst = f->data_name[f->ndata];
    size_t nl = strlen(f->name), sl = strlen(suffix);
    if (nl + sl >= sizeof f->data_name[0]) return NULL;
    memcpy(dst, f->name, nl);
    memcpy(dst + nl, suffix, sl + 1);
    return &f->data[f->ndata++];
}

void al_figure_free(al_figure *f) {
    if (!f) return;
    al_buf_free(&f->script);
    for (int i = 0; i < f->ndata; i++) al_buf_free(&f->data[i]);
    al_free(f);
}

int al_gnuplot_available(void) {
    const char *path = getenv("PATH");
    if (getenv("ATTNLAB_NO_GNUPLOT")) return 0;
    if (!path) return 0;
    char buf[4096];
    const char *p = path;
    while (*p) {
        const char *c = strchr(p, ':');
        size_t l = c ? (size_t)(c - p) : strlen(p);
        snprintf(buf, sizeof buf, "%.*s/gnuplot", (int)l, p);
        if (access(buf, X_OK) == 0) return 1;
        if (!c) break;
        p = c + 1;
    }
    return 0;
}

static al_status al_write_text(const char *dir, const char *name, const al_buf *b, al_error *e) {
    char p[4600];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f) return al_fail(e, AL_EWRITE, p, NULL, "cannot write: %s", strerror(errno));
    if (b->len) fwrite(b->s, 1, b->len, f);
    int bad = ferror(f) | (fclose(f) != 0);
    return bad ? al_fail(e, AL_EWRITE, p, NULL, "write failed") : AL_OK;
}

al_status al_figure_write(const al_figure *f, const char *dir, int render, al_error *e) {
    if (f->script.failed) return al_fail(e, AL_ENOMEM, f->name, NULL, "out of memory building figure");
    for (int i = 0; i < f->ndata; i++) {
        if (f->data[i].failed) return al_fail(e, AL_ENOMEM, f->name, NULL, "out of memory building figure");
        if (al_write_text(dir, f->data_name[i], &f->data[i], e) != AL_OK) return e->status;
    }
    al_buf gp = {0};
    const char *ext = al_figure_ext();
    al_buf_printf(&gp, "# %s.gp: written by attnlab; run `gnuplot %s.gp` in this folder to redraw %s.%s\n", f->name,
                  f->name, f->name, ext);
    al_figure_terminal(&gp, f->name);
    al_buf_printf(&gp, "%s", f->script.s ? f->script.s : "");
    al_figure_footer(&gp, f->name);
    char gpname[200];
    snprintf(gpname, sizeof gpname, "%s.gp", f->name);
    al_status st = gp.failed ? al_fail(e, AL_ENOMEM, f->name, NULL, "out of memory") : al_write_text(dir, gpname, &gp, e);
    al_buf_free(&gp);
    if (st != AL_OK || !render) return st;
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(dir) != 0) _exit(127);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, STDOUT_FILENO);
            dup2(devnull, STDERR_FILENO);
        }
        execlp("gnuplot", "gnuplot", gpname, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    char out[4600];
    snprintf(out, sizeof out, "%s/%s.%s", dir, f->name, ext);
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        access(out, F_OK) != 0) {
        fprintf(stderr, "attnlab: warning: gnuplot could not render %s.%s (the script %s is written%s)\n", f->name, ext,
                gpname, al_figfmt_cur == AL_FIGFMT_SVG ? "; SVG needs pdftocairo, Debian's poppler-utils" : "");
        unlink(out);
        snprintf(out, sizeof out, "%s/%s.svg.pdf", dir, f->name);
        unlink(out);
    }
    return AL_OK;
}
