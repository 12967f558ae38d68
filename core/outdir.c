/* Staged output folders and temporary-then-rename files.
 * rename(2) within one file system is atomic, which is why the staging folder lives inside DIR. A staging folder
 * is committed as one step: a commit mark (a file inside the stage, fsynced) is written before the first rename,
 * so a command killed between renames leaves a stage that the next writer finishes rather than a silent mix.
 * Temporaries carry their owner's pid in their name and are flocked by the owner while in use; they are removed
 * only when both say the owner is gone (a pid can be reused, or belong to another pid namespace). */
#include "outdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define AL_COMMIT_MARK ".attnlab-commit"

int al_fsync_path(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int r = fsync(fd);
    /* some file systems refuse fsync on a folder (EINVAL): nothing more can be done there */
    if (r != 0 && errno == EINVAL) r = 0;
    close(fd);
    return r;
}

int al_fsync_parent(const char *path) {
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash) return al_fsync_path(".");
    snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    return al_fsync_path(dir);
}

int al_tmp_orphaned(const char *path, long pid) {
    if (pid <= 0 || pid == (long)getpid()) return 0;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) return 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return 0;
    int free_ = flock(fd, LOCK_EX | LOCK_NB) == 0;
    close(fd);
    return free_;
}

/* The pid in NAME = PREFIX + decimal digits, or 0 when name is not of that form. */
static long al_pid_suffix(const char *name, const char *prefix) {
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) != 0 || !name[n]) return 0;
    char *end;
    long pid = strtol(name + n, &end, 10);
    return *end || name[n] < '0' || name[n] > '9' ? 0 : pid;
}

/* Unlinks the plain entries of a staging folder (never following links, never descending), then the folder. */
static void al_rm_stage(const char *stage) {
    int fd = open(stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)))
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) unlinkat(fd, de->d_name, 0);
        closedir(d);
    } else if (fd >= 0)
        close(fd);
    rmdir(stage);
}

/* Renames every entry of stage but the mark into dir, fsyncs dir, then removes the mark and the stage. */
static al_status al_stage_roll_forward(const char *stage, const char *dir, al_error *e) {
    DIR *d = opendir(stage);
    if (!d) return al_fail(e, AL_EWRITE, stage, NULL, "cannot list staging folder");
    struct dirent *de;
    al_status st = AL_OK;
    char from[PATH_MAX + 300], to[PATH_MAX + 300];
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, AL_COMMIT_MARK)) continue;
        snprintf(from, sizeof from, "%s/%s", stage, de->d_name);
        snprintf(to, sizeof to, "%s/%s", dir, de->d_name);
        if (rename(from, to) != 0 && st == AL_OK)
            st = al_fail(e, AL_EWRITE, to, NULL, "cannot rename: %s", strerror(errno));
    }
    closedir(d);
    if (st == AL_OK && al_fsync_path(dir) != 0) st = al_fail(e, AL_EWRITE, dir, NULL, "fsync: %s", strerror(errno));
    if (st == AL_OK) al_rm_stage(stage);
    return st;
}

static void al_clean_tmp_files(const char *path) {
    char dir[PATH_MAX], prefix[PATH_MAX + 8], p[2 * PATH_MAX + 8];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    if (slash == path) snprintf(dir, sizeof dir, "/");
    snprintf(prefix, sizeof prefix, "%s.tmp-", slash ? slash + 1 : path);
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        long pid = al_pid_suffix(de->d_name, prefix);
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat st;
        if (pid && lstat(p, &st) == 0 && S_ISREG(st.st_mode) && al_tmp_orphaned(p, pid)) unlink(p);
    }
    closedir(d);
}

void al_clean_stale(const char *path) {
    al_clean_tmp_files(path);
    struct stat st;
    DIR *d;
    if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode) || !(d = opendir(path))) return;
    struct dirent *de;
    char p[PATH_MAX + 300], mark[PATH_MAX + 600];
    while ((de = readdir(d))) {
        long pid = al_pid_suffix(de->d_name, ".attnlab-stage-");
        snprintf(p, sizeof p, "%s/%s", path, de->d_name);
        if (!pid || lstat(p, &st) != 0 || !S_ISDIR(st.st_mode) || !al_tmp_orphaned(p, pid)) continue;
        snprintf(mark, sizeof mark, "%s/" AL_COMMIT_MARK, p);
        al_error e;
        if (lstat(mark, &st) == 0)
            al_stage_roll_forward(p, path, &e); /* killed mid-commit: finish it, as a journal is replayed */
        else
            al_rm_stage(p);
    }
    closedir(d);
}

al_status al_outdir_begin(al_outdir *o, const char *dir, al_error *e) {
    memset(o, 0, sizeof *o);
    o->lockfd = -1;
    if (strlen(dir) >= sizeof o->dir - 64)
        return al_fail(e, AL_EUSAGE, "-o", NULL, "output path longer than %d bytes", (int)sizeof o->dir - 64);
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
    al_rm_stage(o->stage); /* ours: a previous command of this process that did not finish */
    if (mkdir(o->stage, 0777) != 0 ||
        (o->lockfd = open(o->stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
        flock(o->lockfd, LOCK_EX) != 0) {
        al_status st2 = al_fail(e, AL_EWRITE, dir, NULL, "cannot create staging folder: %s", strerror(errno));
        if (o->lockfd >= 0) close(o->lockfd);
        o->lockfd = -1;
        rmdir(o->stage);
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

/* Before anything moves: every staged file can replace what DIR holds under its name (nothing, a file or a
 * link), and is on disk (fsync). */
static al_status al_outdir_check(al_outdir *o, al_error *e) {
    DIR *d = opendir(o->stage);
    if (!d) return al_fail(e, AL_EWRITE, o->stage, NULL, "cannot list staging folder");
    struct dirent *de;
    al_status st = AL_OK;
    char from[4600], to[4600];
    struct stat s;
    while (st == AL_OK && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        snprintf(from, sizeof from, "%s/%s", o->stage, de->d_name);
        snprintf(to, sizeof to, "%s/%s", o->dir, de->d_name);
        if (lstat(to, &s) == 0 && !S_ISREG(s.st_mode) && !S_ISLNK(s.st_mode))
            st = al_fail(e, AL_EWRITE, to, NULL, "exists and is not a file: nothing was written");
        else if (al_fsync_path(from) != 0)
            st = al_fail(e, AL_EWRITE, from, NULL, "fsync: %s", strerror(errno));
    }
    closedir(d);
    return st;
}

al_status al_outdir_commit(al_outdir *o, al_error *e) {
    if (!o->active) return AL_OK;
    char mark[4400];
    snprintf(mark, sizeof mark, "%s/" AL_COMMIT_MARK, o->stage);
    if (al_outdir_check(o, e) != AL_OK) return e->status; /* the caller aborts: DIR untouched */
    FILE *m = fopen(mark, "w");
    if (!m || fsync(fileno(m)) != 0 || fclose(m) != 0 || al_fsync_path(o->stage) != 0) {
        if (m) fclose(m);
        return al_fail(e, AL_EWRITE, mark, NULL, "cannot write the commit mark: %s", strerror(errno));
    }
    al_status st = al_stage_roll_forward(o->stage, o->dir, e);
    if (st == AL_OK && o->created_dir && al_fsync_parent(o->dir) != 0)
        st = al_fail(e, AL_EWRITE, o->dir, NULL, "fsync: %s", strerror(errno));
    if (st != AL_OK) return st; /* the stage keeps its mark: the next writer to DIR completes the commit */
    close(o->lockfd);
    o->lockfd = -1;
    o->active = 0;
    return AL_OK;
}

void al_outdir_abort(al_outdir *o) {
    if (!o->active) return;
    char mark[4400];
    struct stat st;
    snprintf(mark, sizeof mark, "%s/" AL_COMMIT_MARK, o->stage);
    if (lstat(mark, &st) != 0) { /* not yet committing: nothing of it is in DIR */
        al_rm_stage(o->stage);
        if (o->created_dir) rmdir(o->dir);
    }
    close(o->lockfd);
    o->lockfd = -1;
    o->active = 0;
}

FILE *al_atomic_open(const char *path, char *tmp, size_t ntmp, al_error *e) {
    al_clean_stale(path);
    snprintf(tmp, ntmp, "%s.tmp-%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) al_fail(e, AL_EWRITE, path, NULL, "cannot write: %s", strerror(errno));
    if (f) flock(fileno(f), LOCK_EX); /* released when f is closed, after the rename */
    return f;
}

al_status al_atomic_close(FILE *f, const char *tmp, const char *path, al_error *e) {
    int bad = ferror(f) | (fflush(f) != 0);
    bad |= fsync(fileno(f)) != 0;
    if (bad) {
        fclose(f);
        unlink(tmp);
        return al_fail(e, AL_EWRITE, path, NULL, "write failed");
    }
    if (rename(tmp, path) != 0) {
        fclose(f);
        unlink(tmp);
        return al_fail(e, AL_EWRITE, path, NULL, "cannot rename: %s", strerror(errno));
    }
    int closed = fclose(f) == 0; /* f's data is on disk already (fsync above): both steps run whatever the first gave */
    if (al_fsync_parent(path) != 0 || !closed) return al_fail(e, AL_EWRITE, path, NULL, "fsync: %s", strerror(errno));
    return AL_OK;
}

void al_atomic_abort(FILE *f, const char *tmp) {
    if (f) fclose(f);
    unlink(tmp);
}
