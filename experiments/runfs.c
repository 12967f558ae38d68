/* File-system helpers of the experiment driver. rename(2) within one file system is atomic, which is why
 * every staging folder and temporary file lives inside the output folder it is renamed into. */
#include "runfs.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/outdir.h"
#include "../core/sha256.h"

int al_fs_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int al_fs_isdir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

al_status al_fs_mkdirs(const char *path, al_error *e) {
    char p[4096];
    if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p) return al_fail(e, AL_EUSAGE, path, NULL, "path too long");
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            return al_fail(e, AL_EWRITE, p, NULL, "cannot create folder: %s", strerror(errno));
        *s = '/';
    }
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
        return al_fail(e, AL_EWRITE, p, NULL, "cannot create folder: %s", strerror(errno));
    if (!al_fs_isdir(p)) return al_fail(e, AL_EWRITE, p, NULL, "exists and is not a folder");
    return AL_OK;
}

int al_fs_rmtree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return unlink(path) == 0 ? 0 : -1;
    int bad = 0;
    DIR *d = opendir(path);
    if (d) {
        struct dirent *de;
        char p[4600];
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
            snprintf(p, sizeof p, "%s/%s", path, de->d_name);
            bad |= al_fs_rmtree(p);
        }
        closedir(d);
    }
    return (rmdir(path) == 0 && !bad) ? 0 : -1;
}

char *al_fs_read(const char *path, size_t *len, al_error *e) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        al_fail(e, errno == ENOENT ? AL_ENOENT : AL_EIO, path, NULL, "%s", strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *s = al_malloc(cap, 1);
    while (s) {
        n += fread(s + n, 1, cap - n - 1, f);
        if (n < cap - 1) break;
        char *t = al_realloc(s, cap * 2, 1);
        if (!t) al_free(s);
        s = t;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!s || bad) {
        al_free(s);
        al_fail(e, s ? AL_EIO : AL_ENOMEM, path, NULL, s ? "read failed" : "out of memory");
        return NULL;
    }
    s[n] = 0;
    if (len) *len = n;
    return s;
}

al_status al_fs_write_atomic(const char *path, const char *text, al_error *e) {
    char tmp[4200];
    FILE *f = al_atomic_open(path, tmp, sizeof tmp, e);
    if (!f) return e->status;
    fputs(text, f);
    return al_atomic_close(f, tmp, path, e);
}

al_status al_fs_copytree(const char *src, const char *dst, al_error *e) {
    if (al_fs_mkdirs(dst, e) != AL_OK) return e->status;
    char **names = NULL;
    int n = al_fs_list(src, "", &names);
    if (n < 0)
        return al_fail(e, n == -2 ? AL_ENOMEM : AL_EIO, src, NULL, n == -2 ? "out of memory" : "cannot list folder");
    al_status st = AL_OK;
    char from[4600], to[4600];
    char *buf = al_malloc(1 << 20, 1);
    if (!buf) st = al_fail(e, AL_ENOMEM, src, NULL, "out of memory");
    for (int i = 0; i < n && st == AL_OK; i++) {
        snprintf(from, sizeof from, "%s/%s", src, names[i]);
        snprintf(to, sizeof to, "%s/%s", dst, names[i]);
        if (al_fs_isdir(from)) continue;
        FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
        if (!in || !out) st = al_fail(e, in ? AL_EWRITE : AL_EIO, in ? to : from, NULL, "%s", strerror(errno));
        size_t got;
        while (st == AL_OK && (got = fread(buf, 1, 1 << 20, in)) > 0)
            if (fwrite(buf, 1, got, out) != got) st = al_fail(e, AL_EWRITE, to, NULL, "write failed");
        if (st == AL_OK && ferror(in)) st = al_fail(e, AL_EIO, from, NULL, "read failed");
        if (in) fclose(in);
        if (out && fclose(out) != 0 && st == AL_OK) st = al_fail(e, AL_EWRITE, to, NULL, "write failed");
    }
    al_free(buf);
    al_fs_names_free(names, n);
    return st;
}

static int al_cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int al_fs_list_sel(const char *dir, const char *suffix, int dots, char ***names) {
    *names = NULL;
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0, cap = 0, bad = 0;
    char **v = NULL;
    size_t ls = strlen(suffix);
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if ((dots ? !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") : de->d_name[0] == '.') || l < ls ||
            strcmp(de->d_name + l - ls, suffix) != 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **t = al_realloc(v, (size_t)cap, sizeof *v);
            if (!t) {
                bad = 1;
                break;
            }
            v = t;
        }
        if (!(v[n] = al_strdup(de->d_name))) {
            bad = 1;
            break;
        }
        n++;
    }
    closedir(d);
    if (bad) {
        al_fs_names_free(v, n);
        return -2;
    }
    if (n) qsort(v, (size_t)n, sizeof *v, al_cmp_str);
    *names = v;
    return n;
}

int al_fs_list(const char *dir, const char *suffix, char ***names) {
    return al_fs_list_sel(dir, suffix, 0, names);
}

int al_fs_list_all(const char *dir, char ***names) {
    return al_fs_list_sel(dir, "", 1, names);
}

void al_fs_names_free(char **names, int n) {
    for (int i = 0; i < n; i++)
        al_free(names[i]);
    al_free(names);
}

void al_fs_abspath(const char *path, char *out, size_t n) {
    char raw[8192], cwd[4096];
    if (path[0] == '/')
        snprintf(raw, sizeof raw, "%s", path);
    else
        snprintf(raw, sizeof raw, "%s/%s", getcwd(cwd, sizeof cwd) ? cwd : ".", path);
    /* lexical clean-up of "." and ".." components */
    char *parts[1024];
    int np = 0;
    for (char *tok = strtok(raw, "/"); tok && np < 1024; tok = strtok(NULL, "/")) {
        if (!strcmp(tok, ".")) continue;
        if (!strcmp(tok, "..")) {
            if (np) np--;
            continue;
        }
        parts[np++] = tok;
    }
    size_t o = 0;
    out[0] = 0;
    for (int i = 0; i < np && o < n; i++)
        o += (size_t)snprintf(out + o, n - o, "/%s", parts[i]);
    if (!np) snprintf(out, n, "/");
}

al_status al_fs_outpath(const char *path, char out[4096], al_error *e) {
    char abs[8192];
    al_fs_abspath(path, abs, sizeof abs);
    if (strlen(abs) > PATH_MAX - 512)
        return al_fail(e, AL_EUSAGE, "-o", NULL,
                       "%zu bytes as an absolute path: the run needs it under %d (PATH_MAX - 512)", strlen(abs),
                       PATH_MAX - 512);
    snprintf(out, 4096, "%s", abs);
    return AL_OK;
}

void al_fs_join(const char *base, const char *rel, char *out, size_t n) {
    const char *home = getenv("HOME");
    if (!strncmp(rel, "~/", 2) && home && *home) /* e.g. the model cache ~/.cache/attnlab/models */
        snprintf(out, n, "%s/%s", home, rel + 2);
    else if (rel[0] == '/' || !base || !*base)
        snprintf(out, n, "%s", rel);
    else
        snprintf(out, n, "%s/%s", base, rel);
}

void al_sha256_text(const char *s, char hex[65]) {
    al_sha256 h;
    uint8_t d[32];
    al_sha256_init(&h);
    al_sha256_update(&h, s, strlen(s));
    al_sha256_final(&h, d);
    al_sha256_hex(d, hex);
}
