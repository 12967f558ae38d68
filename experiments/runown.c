/* The driver's ownership of its output folder (runown.h): the record OUT/.attnlab.owned, kept in memory as a
 * hash set of relative paths, and the create / replace / remove operations that consult it. */
#include "runown.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/outdir.h"
#include "runfs.h"

#define AL_OWN_FILE ".attnlab.owned"
#define AL_OWN_TMP ".attnlab-tmp"

struct al_own_set {
    char **slot; /* [cap] open addressing; NULL = empty */
    size_t cap, n;
    int fd;            /* the record, opened for appending */
    int joined;        /* al_own_join: another process of the run rewrites the record */
    struct stat *prot; /* [nprot] files spec inputs resolve to (and the links naming them) */
    int nprot;
};

static uint64_t al_own_hash(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static size_t al_own_find(const struct al_own_set *o, const char *rel) {
    size_t i = al_own_hash(rel) & (o->cap - 1);
    while (o->slot[i] && strcmp(o->slot[i], rel) != 0)
        i = (i + 1) & (o->cap - 1);
    return i;
}

static int al_own_insert(struct al_own_set *o, const char *rel) {
    if (2 * (o->n + 1) > o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 1024;
        char **old = o->slot, **v = al_calloc(cap, sizeof *v);
        if (!v) return -1;
        size_t oc = o->cap;
        o->slot = v, o->cap = cap;
        for (size_t i = 0; i < oc; i++)
            if (old[i]) o->slot[al_own_find(o, old[i])] = old[i];
        al_free(old);
    }
    size_t i = al_own_find(o, rel);
    if (o->slot[i]) return 0;
    if (!(o->slot[i] = al_strdup(rel))) return -1;
    o->n++;
    return 0;
}

int al_own_has(const al_run *r, const char *rel) {
    return r->own && r->own->cap && r->own->slot[al_own_find(r->own, rel)] != NULL;
}

/* 1 when st is a file a spec input resolved to. */
static int al_own_protected(const al_run *r, const struct stat *st) {
    for (int i = 0; r->own && i < r->own->nprot; i++)
        if (r->own->prot[i].st_dev == st->st_dev && r->own->prot[i].st_ino == st->st_ino) return 1;
    return 0;
}

static al_status al_own_link(const char *path, al_error *e) {
    return al_fail(e, AL_EUSAGE, path, NULL,
                   "is a symbolic link: refused, nothing was changed (attnlab never follows links inside its output "
                   "folder)");
}

/* Appends rel to the record (not yet fsynced). */
static al_status al_own_put(al_run *r, const char *rel, al_error *e) {
    if (al_own_has(r, rel)) return AL_OK;
    char line[4400];
    int n = snprintf(line, sizeof line, "%s\n", rel);
    if (n >= (int)sizeof line || strchr(rel, '\n')) return al_fail(e, AL_EUSAGE, rel, NULL, "name not recordable");
    if (write(r->own->fd, line, (size_t)n) != n)
        return al_fail(e, AL_EWRITE, r->out, AL_OWN_FILE, "cannot record: %s", strerror(errno));
    if (al_own_insert(r->own, rel) != 0) return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    return AL_OK;
}

static al_status al_own_sync(al_run *r, al_error *e) {
    if (fsync(r->own->fd) != 0) return al_fail(e, AL_EWRITE, r->out, AL_OWN_FILE, "fsync: %s", strerror(errno));
    return AL_OK;
}

al_status al_own_add(al_run *r, const char *rel, al_error *e) {
    if (al_own_has(r, rel)) return AL_OK;
    if (al_own_put(r, rel, e) != AL_OK) return e->status;
    return al_own_sync(r, e);
}

/* The first entry of path (OUT/rel) that sits where a folder or file of the run is expected as a link. */
static al_status al_own_no_links(const al_run *r, const char *rel, int depth, al_error *e) {
    char p[4600];
    snprintf(p, sizeof p, "%s/%s", r->out, rel);
    struct stat st;
    if (lstat(p, &st) != 0) return AL_OK;
    if (S_ISLNK(st.st_mode)) return al_own_link(p, e);
    if (!S_ISDIR(st.st_mode) || depth == 0) return AL_OK;
    char **v;
    int n = al_fs_list_all(p, &v);
    al_status res = AL_OK;
    for (int i = 0; i < n && res == AL_OK; i++) {
        char q[4600];
        snprintf(q, sizeof q, "%s/%s", rel, v[i]);
        res = al_own_no_links(r, q, depth - 1, e);
    }
    al_fs_names_free(v, n);
    return res;
}

al_status al_own_accept(al_run *r, al_error *e) {
    struct stat st;
    if (stat(r->out, &st) != 0) {
        if (errno != ENOENT) return al_fail(e, AL_EWRITE, r->out, NULL, "%s", strerror(errno));
        return al_fs_mkdirs(r->out, e); /* a new folder: everything in it will be ours */
    }
    if (!S_ISDIR(st.st_mode)) return al_fail(e, AL_EUSAGE, r->out, NULL, "exists and is not a folder");
    static const char *fixed[] = {AL_OWN_FILE, ".attnlab-lock", AL_OWN_TMP, "run.json",
                                  "report.md", "tables",        "figures"};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        if (al_own_no_links(r, fixed[i], 0, e) != AL_OK) return e->status;
    if (al_own_no_links(r, "steps", 2, e) != AL_OK || al_own_no_links(r, "inputs", 1, e) != AL_OK) return e->status;
    DIR *d = opendir(r->out);
    if (!d) return al_fail(e, AL_EWRITE, r->out, NULL, "cannot list: %s", strerror(errno));
    int own = 0, run = 0, other = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *nm = de->d_name;
        if (!strcmp(nm, ".") || !strcmp(nm, "..") || !strcmp(nm, ".attnlab-lock") || !strcmp(nm, AL_OWN_TMP)) continue;
        if (!strcmp(nm, AL_OWN_FILE))
            own = 1;
        else
            other++, run |= !strcmp(nm, "run.json");
    }
    closedir(d);
    if (own || !other) return AL_OK;
    if (run)
        return al_fail(e, AL_EUSAGE, r->out, NULL,
                       "a run by an older attnlab, without the record of what it wrote (" AL_OWN_FILE
                       "): nothing was changed; run into a new folder");
    return al_fail(e, AL_EUSAGE, r->out, NULL,
                   "not empty and not an attnlab run (no run.json): nothing was changed; give a new or empty folder");
}

/* Adds the record's complete lines to the set; *torn: its last line lacks its newline (cut by a crash: dropped);
 * *absent: there is no record. */
static al_status al_own_read(al_run *r, int *torn, int *absent, al_error *e) {
    char p[4300];
    snprintf(p, sizeof p, "%s/" AL_OWN_FILE, r->out);
    size_t len = 0;
    al_error re;
    al_error_clear(&re);
    char *text = al_fs_read(p, &len, &re);
    *absent = !text && re.status == AL_ENOENT, *torn = 0;
    if (!text && !*absent) return *e = re, e->status;
    for (char *s = text, *nl; s && (nl = strchr(s, '\n')); s = nl + 1) {
        *nl = 0;
        if (*s && al_own_insert(r->own, s) != 0) {
            al_free(text);
            return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
        }
    }
    *torn = len && text[len - 1] != 0; /* the last newline became NUL above */
    al_free(text);
    return AL_OK;
}

/* Loads the record and opens it for appending (it then ends with a newline). */
static al_status al_own_load(al_run *r, al_error *e) {
    char p[4300];
    snprintf(p, sizeof p, "%s/" AL_OWN_FILE, r->out);
    int torn, created;
    if (al_own_read(r, &torn, &created, e) != AL_OK) return e->status;
    r->own->fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (r->own->fd < 0) return al_fail(e, AL_EWRITE, p, NULL, "cannot write: %s", strerror(errno));
    if (torn && write(r->own->fd, "\n", 1) != 1) return al_fail(e, AL_EWRITE, p, NULL, "%s", strerror(errno));
    if (created && (fsync(r->own->fd) != 0 || al_fsync_path(r->out) != 0))
        return al_fail(e, AL_EWRITE, p, NULL, "fsync: %s", strerror(errno));
    return AL_OK;
}

/* The files of the spec's own inputs (not generated ones), which no clean-up may ever remove. */
static al_status al_own_protect(al_run *r, al_error *e) {
    const al_spec *s = r->spec;
    int cap = 0;
    for (int i = 0; i < s->nitems; i++)
        cap += s->items[i].generated ? 0 : 2 * s->items[i].nfiles;
    r->own->prot = al_calloc((size_t)(cap ? cap : 1), sizeof *r->own->prot);
    if (!r->own->prot) return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    char path[4096];
    for (int i = 0; i < s->nitems; i++)
        for (int f = 0; !s->items[i].generated && f < s->items[i].nfiles; f++) {
            al_item_path(r, i, f, path, sizeof path);
            if (stat(path, &r->own->prot[r->own->nprot]) == 0) r->own->nprot++;
            if (lstat(path, &r->own->prot[r->own->nprot]) == 0) r->own->nprot++;
        }
    return AL_OK;
}

al_status al_own_join(al_run *r, al_error *e) {
    if (!(r->own = al_calloc(1, sizeof *r->own))) return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    r->own->fd = -1;
    r->own->joined = 1;
    return al_own_load(r, e) != AL_OK ? e->status : al_own_protect(r, e);
}

al_status al_own_open(al_run *r, al_error *e) {
    if (!(r->own = al_calloc(1, sizeof *r->own))) return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    r->own->fd = -1;
    if (al_own_load(r, e) != AL_OK || al_own_protect(r, e) != AL_OK) return e->status;
    char p[4300];
    snprintf(p, sizeof p, "%s/" AL_OWN_TMP, r->out);
    struct stat st;
    if (lstat(p, &st) == 0 && !al_own_has(r, AL_OWN_TMP))
        return al_fail(e, AL_EUSAGE, p, NULL, "not made by attnlab: nothing was changed; move it away");
    if (al_own_mkdirs(r, AL_OWN_TMP, e) != AL_OK) return e->status;
    /* what killed drivers left: ours (the folder is recorded and only a driver holding OUT's lock writes there) */
    char **v;
    int n = al_fs_list_all(p, &v);
    for (int i = 0; i < n; i++) {
        char q[4600];
        snprintf(q, sizeof q, "%s/%s", p, v[i]);
        al_fs_rmtree(q);
    }
    al_fs_names_free(v, n);
    return AL_OK;
}

/* Rewrites the record with the entries that still exist (through a temporary, fsynced, renamed); what other
 * processes of the run appended meanwhile is read first. */
static void al_own_compact(al_run *r) {
    char p[4300], tmp[4400], path[4600];
    int torn, absent;
    al_error e;
    if (al_own_read(r, &torn, &absent, &e) != AL_OK || absent) return;
    snprintf(p, sizeof p, "%s/" AL_OWN_FILE, r->out);
    al_own_tmp(r, "owned", tmp, sizeof tmp);
    FILE *f = fopen(tmp, "w");
    if (!f) return;
    struct stat st;
    for (size_t i = 0; i < r->own->cap; i++) {
        if (!r->own->slot[i]) continue;
        snprintf(path, sizeof path, "%s/%s", r->out, r->own->slot[i]);
        if (lstat(path, &st) == 0) fprintf(f, "%s\n", r->own->slot[i]);
    }
    int bad = ferror(f) | (fflush(f) != 0) | (fsync(fileno(f)) != 0);
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, p) != 0)
        unlink(tmp);
    else
        al_fsync_path(r->out);
}

void al_own_close(al_run *r, int ok) {
    if (!r->own) return;
    if (ok && r->own->fd >= 0 && !r->own->joined) al_own_compact(r);
    if (r->own->fd >= 0) close(r->own->fd);
    for (size_t i = 0; i < r->own->cap; i++)
        al_free(r->own->slot[i]);
    al_free(r->own->slot);
    al_free(r->own->prot);
    int joined = r->own->joined;
    al_free(r->own);
    r->own = NULL;
    if (joined) return;
    char p[4300];
    snprintf(p, sizeof p, "%s/" AL_OWN_TMP, r->out);
    rmdir(p); /* empty unless a kill left something: then the next driver empties it */
}

al_status al_own_mkdirs(al_run *r, const char *rel, al_error *e) {
    char sub[4096], p[8400];
    if (snprintf(sub, sizeof sub, "%s", rel) >= (int)sizeof sub)
        return al_fail(e, AL_EUSAGE, rel, NULL, "path too long");
    for (char *s = sub;; s++) {
        if (*s && *s != '/') continue;
        char c = *s;
        *s = 0;
        snprintf(p, sizeof p, "%s/%s", r->out, sub);
        struct stat st;
        if (lstat(p, &st) == 0) {
            if (S_ISLNK(st.st_mode)) return al_own_link(p, e);
            if (!S_ISDIR(st.st_mode)) return al_fail(e, AL_EUSAGE, p, NULL, "exists and is not a folder");
        } else if (al_own_add(r, sub, e) != AL_OK)
            return e->status;
        else if ((mkdir(p, 0777) != 0 && errno != EEXIST) || al_fsync_parent(p) != 0)
            return al_fail(e, AL_EWRITE, p, NULL, "cannot create folder: %s", strerror(errno));
        else if (lstat(p, &st) != 0 || !S_ISDIR(st.st_mode)) /* made meanwhile by another process: as above */
            return al_fail(e, AL_EUSAGE, p, NULL, "exists and is not a folder");
        if (!(*s = c)) break;
    }
    return AL_OK;
}

void al_own_tmp(const al_run *r, const char *what, char *out, size_t n) {
    static int counter;
    snprintf(out, n, "%s/" AL_OWN_TMP "/%s-%ld-%d", r->out, what, (long)getpid(), counter++);
}

/* The first entry at or below path (OUT/rel) that is not recorded, or is a spec input: its path in bad. */
static int al_own_foreign(const al_run *r, const char *path, const char *rel, char *bad, size_t n) {
    struct stat st;
    if (lstat(path, &st) != 0) return 0;
    if (!al_own_has(r, rel) || al_own_protected(r, &st) || S_ISLNK(st.st_mode)) {
        snprintf(bad, n, "%s", path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) return 0;
    char **v;
    int k = al_fs_list_all(path, &v), hit = 0;
    if (k < 0) {
        snprintf(bad, n, "%s", path);
        return 1;
    }
    for (int i = 0; i < k && !hit; i++) {
        char p[4600], q[4600];
        snprintf(p, sizeof p, "%s/%s", path, v[i]);
        snprintf(q, sizeof q, "%s/%s", rel, v[i]);
        hit = al_own_foreign(r, p, q, bad, n);
    }
    al_fs_names_free(v, k);
    return hit;
}

/* Records stage's entries under rel and fsyncs each of them (files' data, folders' names). */
static al_status al_own_record(al_run *r, const char *stage, const char *rel, al_error *e) {
    if (al_own_put(r, rel, e) != AL_OK) return e->status;
    DIR *d = opendir(stage);
    if (!d) return al_fail(e, AL_EWRITE, stage, NULL, "cannot list: %s", strerror(errno));
    struct dirent *de;
    al_status res = AL_OK;
    while (res == AL_OK && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char p[4600], q[4600];
        snprintf(p, sizeof p, "%s/%s", stage, de->d_name);
        snprintf(q, sizeof q, "%s/%s", rel, de->d_name);
        struct stat st;
        if (lstat(p, &st) != 0 || S_ISLNK(st.st_mode))
            res = al_fail(e, AL_EINTERNAL, p, NULL, "not a file or folder");
        else if (S_ISDIR(st.st_mode))
            res = al_own_record(r, p, q, e);
        else if ((res = al_own_put(r, q, e)) == AL_OK && al_fsync_path(p) != 0)
            res = al_fail(e, AL_EWRITE, p, NULL, "fsync: %s", strerror(errno));
    }
    closedir(d);
    if (res == AL_OK && al_fsync_path(stage) != 0)
        res = al_fail(e, AL_EWRITE, stage, NULL, "fsync: %s", strerror(errno));
    return res;
}

al_status al_own_swap(al_run *r, const char *stage, const char *rel, al_error *e) {
    char dst[4600], parent[4096], bad[4600], old[4400];
    snprintf(dst, sizeof dst, "%s/%s", r->out, rel);
    const char *slash = strrchr(rel, '/');
    if (slash) {
        snprintf(parent, sizeof parent, "%.*s", (int)(slash - rel), rel);
        if (al_own_mkdirs(r, parent, e) != AL_OK) return e->status;
    }
    struct stat st;
    int had = lstat(dst, &st) == 0;
    if (had && S_ISLNK(st.st_mode)) return al_own_link(dst, e);
    if (had && !S_ISDIR(st.st_mode)) return al_fail(e, AL_EUSAGE, dst, NULL, "exists and is not a folder");
    if (had && al_own_foreign(r, dst, rel, bad, sizeof bad))
        return al_fail(e, AL_EUSAGE, bad, NULL, "not written by attnlab: nothing was replaced; move it out of %s", dst);
    if (al_own_record(r, stage, rel, e) != AL_OK || al_own_sync(r, e) != AL_OK) return e->status;
    al_own_tmp(r, "old", old, sizeof old);
    if (had && rename(dst, old) != 0) return al_fail(e, AL_EWRITE, dst, NULL, "cannot move aside: %s", strerror(errno));
    if (rename(stage, dst) != 0) {
        al_status res = al_fail(e, AL_EWRITE, dst, NULL, "cannot rename into place: %s", strerror(errno));
        if (had) rename(old, dst);
        return res;
    }
    if (al_fsync_parent(dst) != 0) return al_fail(e, AL_EWRITE, dst, NULL, "fsync: %s", strerror(errno));
    if (had) al_fs_rmtree(old); /* every entry of it was checked above to be ours */
    return AL_OK;
}

void al_own_remove(al_run *r, const char *rel) {
    char p[4600];
    snprintf(p, sizeof p, "%s/%s", r->out, rel);
    struct stat st;
    if (lstat(p, &st) != 0 || al_own_protected(r, &st)) return;
    if (S_ISDIR(st.st_mode)) {
        char **v;
        int n = al_fs_list_all(p, &v);
        for (int i = 0; i < n; i++) {
            char q[4600];
            snprintf(q, sizeof q, "%s/%s", rel, v[i]);
            al_own_remove(r, q);
        }
        al_fs_names_free(v, n);
        if (al_own_has(r, rel)) rmdir(p); /* fails, keeping it, when something not ours is inside */
    } else if (al_own_has(r, rel))
        unlink(p);
}
