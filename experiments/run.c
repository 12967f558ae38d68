/* The driver's plan and main loop: units of work, shards, the output folder's lock and clean-up, and the
 * execution of one item's units as a group (the steps that share its streaming pass). */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/provenance.h"
#include "runfs.h"
#include "runown.h"

void al_run_say(const al_run *r, const char *fmt, ...) {
    if (r->common.quiet || r->tty) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "attnlab run: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void al_item_path(const al_run *r, int item, int f, char *out, size_t n) {
    const al_item *it = &r->spec->items[item];
    if (it->generated)
        snprintf(out, n, "%s/%s", r->out, it->files[f]);
    else
        snprintf(out, n, "%s", it->files[f]);
}

al_status al_file_ident(const char *path, int full, char out[AL_IDENT_MAX], al_error *e) {
    cJSON *j = al_input_json(path, full, e);
    if (!j) return e->status;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, full ? "sha256" : "fingerprint");
    snprintf(out, AL_IDENT_MAX, "%s:%s", full ? "sha256" : "fingerprint", cJSON_IsString(v) ? v->valuestring : "?");
    cJSON_Delete(j);
    return AL_OK;
}

al_status al_run_plan(al_run *r, al_error *e) {
    al_spec *s = r->spec;
    int n = 0;
    for (int i = 0; i < s->nsteps; i++)
        n += s->inputs[s->steps[i].input].nitems;
    r->units = al_calloc((size_t)(n ? n : 1), sizeof *r->units);
    r->ident = al_calloc((size_t)(s->nitems ? s->nitems : 1), sizeof *r->ident);
    if (!r->units || !r->ident) return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    for (int i = 0; i < s->nsteps; i++) {
        const al_input *in = &s->inputs[s->steps[i].input];
        for (int k = 0; k < in->nitems; k++) {
            al_unit *u = &r->units[r->nunits++];
            u->step = i;
            u->item = in->item0 + k;
            if (u->item % r->nshards != r->shard)
                u->state = AL_U_ELSEWHERE;
            else if (s->steps[i].skip[0]) {
                u->state = AL_U_SKIPPED;
                snprintf(u->reason, sizeof u->reason, "%s", s->steps[i].skip);
            }
        }
    }
    return AL_OK;
}

al_status al_run_prepare_dir(al_run *r, al_error *e) {
    if (al_own_accept(r, e) != AL_OK) return e->status;
    char p[4300];
    snprintf(p, sizeof p, "%s/.attnlab-lock", r->out);
    r->lockfd = open(p, O_CREAT | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (r->lockfd < 0) return al_fail(e, AL_EWRITE, p, NULL, "cannot create the lock file: %s", strerror(errno));
    if (flock(r->lockfd, LOCK_EX | LOCK_NB) != 0)
        return al_fail(e, AL_EUSAGE, r->out, NULL, "another attnlab run or merge is writing to this folder");
    return al_own_open(r, e);
}

void al_run_reason(char *reason, size_t n, const al_error *e) {
    if (!e->where[0] || !strcmp(e->where, "attnlab"))
        snprintf(reason, n, "%.1000s", e->msg);
    else
        snprintf(reason, n, "%.500s: %.500s", e->where, e->msg);
}

/* A unit's key, and whether its folder already holds it: 1 when that settles it (up to date, or the key could
 * not be made), 0 when it is to be computed. */
static int al_run_check(al_run *r, al_unit *u) {
    const al_spec *s = r->spec;
    const char *step = s->steps[u->step].name, *item = s->items[u->item].id;
    al_error e;
    al_error_clear(&e);
    char stored[65];
    if (al_unit_key(r, u, &e) != AL_OK) {
        u->state = AL_U_FAILED;
        u->status = al_exit_code(e.status);
        al_run_reason(u->reason, sizeof u->reason, &e);
        al_run_say(r, "%s [%s]: failed: %s", step, item, u->reason);
    } else if (al_unit_stored_key(r, u, stored), !strcmp(stored, u->key)) {
        u->state = AL_U_DONE;
        al_run_say(r, "%s [%s]: up to date (key %.12s)", step, item, u->key);
    } else
        return 0;
    if (r->tty) al_progress_add(&r->prog, 1);
    return 1;
}

/* Computes one unit on its own. */
static void al_run_one(al_run *r, al_unit *u) {
    const al_spec *s = r->spec;
    const char *step = s->steps[u->step].name, *item = s->items[u->item].id;
    snprintf(r->label, sizeof r->label, "attnlab run: %-16.16s %-16.16s", step, item);
    al_error e;
    al_error_clear(&e);
    double t0 = al_now();
    if (al_unit_run(r, u, &e) != AL_OK) {
        u->state = AL_U_FAILED;
        if (!u->status) u->status = al_exit_code(e.status);
        if (!u->reason[0]) al_run_reason(u->reason, sizeof u->reason, &e);
        if (r->tty && !r->common.quiet) fprintf(stderr, "\rattnlab run: %s [%s]: failed: %s\n", step, item, u->reason);
        al_run_say(r, "%s [%s]: failed: %s", step, item, u->reason);
    } else {
        u->state = AL_U_DONE;
        u->ran = 1;
        al_run_say(r, "%s [%s]: done in %.1fs (key %.12s)", step, item, al_now() - t0, u->key);
    }
    if (r->tty) al_progress_add(&r->prog, 1);
}

/* The units of one item. The map analyses that `attnlab stats` can serve together share one streaming pass
 * (run_fused.c; which ones is decided from the spec and the recording, and is part of their keys); the units
 * already up to date are settled; what the pass does not take runs on its own, map analyses first, back to
 * back while the recording is in the page cache. */
void al_run_group(al_run *r, al_unit **g, int n) {
    al_unit *maps[AL_SPEC_MAX_STEPS], *f[3];
    int nm = 0;
    for (int i = 0; i < n; i++)
        if (r->spec->steps[g[i]->step].def->maps) maps[nm++] = g[i];
    int64_t T = 0, K = 0;
    int nf = nm > 1 ? al_fuse_plan(r, maps, nm, f, &T, &K) : 0, pending = 0;
    for (int i = 0; i < n; i++)
        al_run_check(r, g[i]);
    for (int i = 0; i < nf; i++)
        pending += f[i]->state == AL_U_PENDING;
    if (pending) {
        snprintf(r->label, sizeof r->label, "attnlab run: %-16.16s %-16.16s", "(one pass)",
                 r->spec->items[g[0]->item].id);
        if (al_fuse_exec(r, f, nf, T, K) != 0)
            for (int i = 0; i < nf; i++) /* the pass failed: these run on their own, under their own keys */
                if (f[i]->state == AL_U_PENDING) f[i]->pass[0] = 0, al_run_check(r, f[i]);
    }
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++)
            if (g[i]->state == AL_U_PENDING && (pass == 0) == (r->spec->steps[g[i]->step].def->maps != 0))
                al_run_one(r, g[i]);
}

al_status al_run_item_prepare(al_run *r, int item, al_error *ge) {
    const al_spec *s = r->spec;
    al_status st = AL_OK;
    if (s->items[item].generated) return al_gen_item(r, item, ge);
    char id[AL_ITEM_MAXF][AL_IDENT_MAX], path[4096], cat[200] = "";
    for (int f = 0; f < s->items[item].nfiles && st == AL_OK; f++) {
        al_item_path(r, item, f, path, sizeof path);
        st = al_file_ident(path, r->spec->full_hash || !strcmp(r->common.hash, "full"), id[f], ge);
        if (st == AL_OK) strncat(cat, id[f], sizeof cat - strlen(cat) - 2), strcat(cat, "\n");
    }
    if (st == AL_OK && s->items[item].nfiles == 1)
        snprintf(r->ident[item], sizeof r->ident[item], "%s", id[0]);
    else if (st == AL_OK) {
        char hex[65];
        al_sha256_text(cat, hex);
        snprintf(r->ident[item], sizeof r->ident[item], "files:%s", hex);
    }
    return st;
}

void al_run_item_failed(al_run *r, al_unit **g, int n, al_status st, const al_error *ge) {
    for (int i = 0; i < n; i++) {
        g[i]->state = AL_U_FAILED;
        g[i]->status = al_exit_code(st);
        al_run_reason(g[i]->reason, sizeof g[i]->reason, ge);
        if (r->tty) al_progress_add(&r->prog, 1);
    }
    al_run_say(r, "input %s: failed: %s: %s", r->spec->items[g[0]->item].id, ge->where, ge->msg);
}

al_status al_run_execute(al_run *r, al_error *e) {
    const al_spec *s = r->spec;
    int64_t total = 0;
    for (int i = 0; i < r->nunits; i++)
        total += r->units[i].state == AL_U_PENDING;
    al_unit **g = al_calloc((size_t)(s->nsteps ? s->nsteps : 1), sizeof *g);
    if (!g) return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    snprintf(r->label, sizeof r->label, "attnlab run");
    if (r->tty) al_progress_begin(&r->prog, r->label, total, r->common.quiet);
    for (int item = 0; item < s->nitems; item++) {
        int n = 0;
        for (int i = 0; i < r->nunits; i++)
            if (r->units[i].item == item && r->units[i].state == AL_U_PENDING) g[n++] = &r->units[i];
        if (!n) continue;
        al_error ge;
        al_error_clear(&ge);
        al_status st = al_run_item_prepare(r, item, &ge);
        if (st != AL_OK)
            al_run_item_failed(r, g, n, st, &ge);
        else
            al_run_group(r, g, n);
    }
    if (r->tty) al_progress_end(&r->prog);
    al_free(g);
    return AL_OK;
}

/* Removes the recorded entries under OUT/steps and OUT/inputs that no unit or generated item of the spec claims
 * (steps renamed or removed, inputs changed); what the record does not name stays (runown.h). */
void al_run_prune(al_run *r) {
    const al_spec *s = r->spec;
    char dir[4200], rel[4400];
    snprintf(dir, sizeof dir, "%s/steps", r->out);
    char **sn;
    int ns = al_fs_list_all(dir, &sn);
    for (int a = 0; a < ns; a++) {
        int step = -1;
        for (int i = 0; i < s->nsteps; i++)
            if (!strcmp(s->steps[i].name, sn[a])) step = i;
        snprintf(rel, sizeof rel, "steps/%s", sn[a]);
        if (step < 0) {
            al_own_remove(r, rel);
            continue;
        }
        char p[4600], **in;
        snprintf(p, sizeof p, "%s/%s", dir, sn[a]);
        int ni = al_fs_list_all(p, &in);
        for (int b = 0; b < ni; b++) {
            int claimed = 0;
            for (int i = 0; i < r->nunits && !claimed; i++)
                claimed = r->units[i].step == step && !strcmp(s->items[r->units[i].item].id, in[b]);
            snprintf(rel, sizeof rel, "steps/%s/%s", sn[a], in[b]);
            if (!claimed) al_own_remove(r, rel);
        }
        al_fs_names_free(in, ni);
    }
    al_fs_names_free(sn, ns);
    snprintf(dir, sizeof dir, "%s/inputs", r->out);
    ns = al_fs_list_all(dir, &sn);
    for (int a = 0; a < ns; a++) {
        int claimed = 0;
        for (int i = 0; i < s->nitems && !claimed; i++)
            claimed = s->items[i].generated && !strcmp(s->items[i].id, sn[a]);
        snprintf(rel, sizeof rel, "inputs/%s", sn[a]);
        if (!claimed) al_own_remove(r, rel);
    }
    al_fs_names_free(sn, ns);
}

void al_run_free(al_run *r, int ok) {
    al_own_close(r, ok);
    al_free(r->units);
    al_free(r->ident);
    if (r->lockfd > 0) close(r->lockfd);
    r->units = NULL;
    r->ident = NULL;
    r->lockfd = -1;
}

/* the exit status and one error line of a run whose units failed */
int al_run_outcome(const al_run *r, const char *who) {
    int failed = 0, done = 0, ran = 0, skipped = 0;
    const al_unit *first = NULL;
    for (int i = 0; i < r->nunits; i++) {
        const al_unit *u = &r->units[i];
        done += u->state == AL_U_DONE, ran += u->ran, skipped += u->state == AL_U_SKIPPED;
        if (u->state == AL_U_FAILED && !failed++) first = u;
    }
    if (!r->common.quiet)
        fprintf(
            stderr,
            "attnlab %s: %d unit%s done (%d computed, %d up to date), %d failed, %d skipped; report: %s/report.md\n",
            who, done, done == 1 ? "" : "s", ran, done - ran, failed, skipped, r->out);
    if (!first) return 0;
    fprintf(stderr, "attnlab: error: %s (step %s, input %s; %d unit%s failed, see %s/report.md)\n", first->reason,
            r->spec->steps[first->step].name, r->spec->items[first->item].id, failed, failed == 1 ? "" : "s", r->out);
    return first->status ? first->status : 1;
}
