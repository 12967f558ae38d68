/* Staged output folders and temporary-then-rename files.
 * rename(2) within one file system is atomic, which is why the staging folder lives inside DIR. */
#include "outdir.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void al_rm_stage(const char *stage);

/* 1 when name is PREFIX followed by the decimal id of a process that no longer exists (not ours). */
static int al_dead_pid_suffix(const char *name, const char *prefix) {
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) != 0 || !name[n]) return 0;
    char *end;
    long pid = strtol(name + n, &end, 10);
    if (*end || pid <= 0 || pid == (long)getpid()) return 0;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

void al_clean_stale(const char *path) {
    char dir[4096], prefix[4200], p[8400];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    if (slash == path) snprintf(dir, sizeof dir, "/");
    snprintf(prefix, sizeof prefix, "%s.tmp-", slash ? slash + 1 : path);
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)))
            if (al_dead_pid_suffix(de->d_name, prefix)) {
                snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
                unlink(p);
            }
        closedir(d);
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode) || !(d = opendir(path))) return;
    struct dirent *de;
    while ((de = readdir(d)))
        if (al_dead_pid_suffix(de->d_name, ".attnlab-stage-")) {
            snprintf(p, sizeof p, "%s/%s", path, de->d_name);
            al_rm_stage(p);
        }
    closedir(d);
}

al_status al_outdir_begin(al_outdir *o, const char *dir, al_error *e) {
    memset(o, 0, sizeof *o);
    if (strlen(dir) >= sizeof o->dir - 64) return al_fail(e, AL_EUSAGE, dir, NULL, "output path too long");
    snprintf(o->dir, sizeof o->dir, "%s", dir);
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) return al_fail(e, AL_EUSAGE, dir, NULL, "exists and is not a folder");
        al_clean_stale(dir);
    } else {
        if (mkdir(dir, 0777) != 0) return al_fail(e, AL_EWRITE, dir, NULL, "cannot create folder: %s", strerror(errno));
        o->created_dir = 1;
    }
    snprintf(o->stage, sizeof o->stage, "%s/.attnlab-stage-%ld", dir, (long)getpid());
    if (mkdir(o->stage, 0777) != 0 && errno != EEXIST) {
        al_status st2 = al_fail(e, AL_EWRITE, dir, NULL, "cannot create staging folder: %s", strerror(errno));
        if (o->created_dir) rmdir(dir);
        return st2;
    }
    o->active = 1;
    return AL_OK;
}

FILE *al_outdir_open(al_outdir *o, const char *name, char *path, size_t npath, al_error *e) {
    char p[4600];
    snprintf(p, sizeof p, "%s/%s", o->stage, name);
    FILE *f = fopen(p, "w");
    if (!f) al_fail(e, AL_EWRITE, p, NULL, "cannot write: %s", strerror(errno));
    if (path) snprintf(path, npath, "%s", p);
    return f;
}

static void al_rm_stage(const char *stage) {
    DIR *d = opendir(stage);
    if (d) {
        struct dirent *de;
        char p[4600];
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
            snprintf(p, sizeof p, "%s/%s", stage, de->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(stage);
}

al_status al_outdir_commit(al_outdir *o, al_error *e) {
    if (!o->active) return AL_OK;
    DIR *d = opendir(o->stage);
    if (!d) return al_fail(e, AL_EWRITE, o->stage, NULL, "cannot list staging folder");
    struct dirent *de;
    al_status st = AL_OK;
    char from[4600], to[4600];
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        snprintf(from, sizeof from, "%s/%s", o->stage, de->d_name);
        snprintf(to, sizeof to, "%s/%s", o->dir, de->d_name);
        if (rename(from, to) != 0 && st == AL_OK) st = al_fail(e, AL_EWRITE, to, NULL, "cannot rename: %s", strerror(errno));
    }
    closedir(d);
    al_rm_stage(o->stage);
    o->active = 0;
    return st;
}

void al_outdir_abort(al_outdir *o) {
    if (!o->active) return;
    al_rm_stage(o->stage);
    if (o->created_dir) rmdir(o->dir);
    o->active = 0;
}

FILE *al_atomic_open(const char *path, char *tmp, size_t ntmp, al_error *e) {
    al_clean_stale(path);
    snprintf(tmp, ntmp, "%s.tmp-%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) al_fail(e, AL_EWRITE, path, NULL, "cannot write: %s", strerror(errno));
    return f;
}

al_status al_atomic_close(FILE *f, const char *tmp, const char *path, al_error *e) {
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad) {
        unlink(tmp);
        return al_fail(e, AL_EWRITE, path, NULL, "write failed");
    }
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return al_fail(e, AL_EWRITE, path, NULL, "cannot rename: %s", strerror(errno));
    }
    return AL_OK;
}

void al_atomic_abort(FILE *f, const char *tmp) {
    if (f) fclose(f);
    unlink(tmp);
}
