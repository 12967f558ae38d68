/* Guarded opening of HDF5 inputs: a forked child walks the file's whole structure with HDF5 and reports
 * back through a pipe; the parent waits a bounded time. If HDF5 crashes (SIGSEGV on a corrupt global heap)
 * or loops (a corrupt object header) in the child, the parent turns that into exit 2 for that file. What the
 * child visits is a superset of what attnlab's readers touch afterwards in this process: links by iteration
 * and by name, attributes read in full, dataset types, spaces, layouts, filters and every chunk index. */
#include "h5guard.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "h5.h"

typedef struct {
    const char *file;
    al_error *e;
} al_walk;

/* Reads one attribute in full in its native memory type (variable-length data reclaimed). */
static herr_t al_walk_attr(hid_t loc, const char *name, const H5A_info_t *info, void *op) {
    (void)info;
    al_walk *w = op;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return -1;
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    hid_t mt = t >= 0 ? H5Tget_native_type(t, H5T_DIR_ASCEND) : -1;
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    size_t sz = mt >= 0 ? H5Tget_size(mt) : 0;
    int ok = n >= 0 && sz > 0;
    /* attnlab reads only small attributes; a large one is not read here and not there */
    if (ok && n > 0 && (uint64_t)n * sz <= ((uint64_t)1 << 24)) {
        void *buf = al_calloc((size_t)n, sz);
        ok = buf && H5Aread(a, mt, buf) >= 0;
        if (ok && (H5Tdetect_class(mt, H5T_VLEN) > 0 || H5Tis_variable_str(mt) > 0))
            H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, buf);
        al_free(buf);
        if (!buf) al_fail(w->e, AL_ENOMEM, w->file, name, "out of memory reading an attribute");
    }
    if (mt >= 0) H5Tclose(mt);
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    H5Aclose(a);
    return ok ? 0 : -1;
}

/* A dataset's type, space, creation properties, filters, storage and, when chunked, its whole chunk index. */
static int al_walk_dataset(hid_t d) {
    hid_t t = H5Dget_type(d), sp = H5Dget_space(d), dcpl = H5Dget_create_plist(d);
    int ok = t >= 0 && sp >= 0 && dcpl >= 0 && H5Sget_simple_extent_ndims(sp) >= 0;
    if (ok) {
        H5D_layout_t layout = H5Pget_layout(dcpl);
        int nf = H5Pget_nfilters(dcpl);
        for (int i = 0; ok && i < nf; i++) {
            unsigned flags, cd[8];
            size_t ncd = 8;
            char name[64];
            ok = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, sizeof name, name, NULL) >= 0;
        }
        (void)H5Dget_storage_size(d);
        hsize_t nchunks = 0;
        if (ok && layout == H5D_CHUNKED) ok = H5Dget_num_chunks(d, sp, &nchunks) >= 0; /* walks the index */
        if (ok && layout == H5D_CONTIGUOUS) (void)H5Dget_offset(d);
        ok = ok && layout >= 0;
    }
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    return ok;
}

/* One object: its attributes, and its dataset properties when it is one. */
static int al_walk_object(hid_t loc, const char *name, al_walk *w) {
    hid_t o = H5Oopen(loc, name, H5P_DEFAULT);
    if (o < 0) return 0;
    hsize_t idx = 0;
    int ok = H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_NATIVE, &idx, al_walk_attr, w) >= 0;
    if (ok && H5Iget_type(o) == H5I_DATASET) ok = al_walk_dataset(o);
    H5Oclose(o);
    return ok;
}

static herr_t al_walk_link(hid_t g, const char *name, const H5L_info_t *info, void *op) {
    al_walk *w = op;
    if (info->type == H5L_TYPE_EXTERNAL) {
        al_fail(w->e, AL_EFORMAT, w->file, name,
                "an external link to another file; attnlab reads only data stored in the file itself");
        return -1;
    }
    if (info->type != H5L_TYPE_HARD) return 0;
    /* by name as well, the way attnlab's readers find datasets */
    if (H5Lexists(g, name, H5P_DEFAULT) <= 0 || !al_walk_object(g, name, w)) {
        al_fail(w->e, AL_EFORMAT, w->file, name, "cannot read this object (corrupt HDF5 metadata)");
        return -1;
    }
    return 0;
}

al_status al_h5_walk(const char *path, al_error *e) {
    al_h5_quiet();
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (f < 0) return al_fail(e, AL_EFORMAT, path, NULL, "cannot open as HDF5 (truncated or corrupt file?)");
    al_walk w = {path, e};
    if (!al_walk_object(f, ".", &w))
        al_fail(e, AL_EFORMAT, path, NULL, "cannot read the root group (corrupt HDF5 metadata)");
    if (e->status == AL_OK && H5Lvisit(f, H5_INDEX_NAME, H5_ITER_NATIVE, al_walk_link, &w) < 0)
        al_fail(e, AL_EFORMAT, path, NULL, "cannot walk the file's groups (corrupt HDF5 metadata)");
    H5Fclose(f);
    return e->status;
}

/* The child: no core file, no output, the walk, its error record down the pipe, _exit (never the parent's
 * atexit handlers: HDF5's would flush files the parent has open). */
static void al_guard_child(const char *path, int fd) {
    struct rlimit nocore = {0, 0};
    setrlimit(RLIMIT_CORE, &nocore);
    /* die of the signal itself: no sanitizer or libFuzzer handler reporting the parent's input as a finding */
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        signal(sigs[i], SIG_DFL);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
        dup2(devnull, STDOUT_FILENO);
        dup2(devnull, STDERR_FILENO);
    }
    al_error ce;
    al_error_clear(&ce);
    al_h5_walk(path, &ce);
    const char *p = (const char *)&ce;
    for (size_t done = 0; done < sizeof ce;) {
        ssize_t k = write(fd, p + done, sizeof ce - done);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) _exit(3);
        done += (size_t)k;
    }
    _exit(0);
}

static double al_guard_limit(const char *path) {
    const char *s = getenv("ATTNLAB_OPEN_TIMEOUT");
    double v = s ? atof(s) : 0;
    if (v > 0) return v;
    struct stat st;
    return 30.0 + (stat(path, &st) == 0 ? (double)st.st_size / (1 << 30) : 0);
}

static double al_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Reads the child's error record within `limit` seconds; returns bytes read, or -1 on time out. */
static ssize_t al_guard_read(int fd, al_error *ce, double limit) {
    double end = al_now() + limit;
    size_t got = 0;
    while (got < sizeof *ce) {
        double left = end - al_now();
        if (left <= 0) return -1;
        struct pollfd pf = {fd, POLLIN, 0};
        int r = poll(&pf, 1, left > 1e6 ? 1000000000 : (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR) continue;
        if (r == 0) continue;
        if (r < 0) return (ssize_t)got;
        ssize_t k = read(fd, (char *)ce + got, sizeof *ce - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
    }
    return (ssize_t)got;
}

al_status al_h5_guard(const char *path, al_error *e) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return al_fail(e, AL_EINTERNAL, path, NULL, "cannot create a pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return al_fail(e, AL_EINTERNAL, path, NULL, "cannot fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        al_guard_child(path, fds[1]);
    }
    close(fds[1]);
    double limit = al_guard_limit(path);
    al_error ce;
    al_error_clear(&ce);
    ssize_t got = al_guard_read(fds[0], &ce, limit);
    close(fds[0]);
    if (got < 0) kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (got < 0)
        return al_fail(e, AL_EFORMAT, path, NULL,
                       "the HDF5 library did not finish reading the file's metadata in %g s (corrupt file? "
                       "ATTNLAB_OPEN_TIMEOUT sets the limit)",
                       limit);
    if (got == (ssize_t)sizeof ce && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        if (ce.status == AL_OK) return AL_OK;
        ce.where[sizeof ce.where - 1] = ce.msg[sizeof ce.msg - 1] = 0;
        if (e && e->status == AL_OK) *e = ce;
        return ce.status;
    }
    if (WIFSIGNALED(status))
        return al_fail(e, AL_EFORMAT, path, NULL,
                       "corrupt HDF5 metadata: the HDF5 library crashed reading it (signal %d, in a child process)",
                       WTERMSIG(status));
    return al_fail(e, AL_EFORMAT, path, NULL, "corrupt HDF5 metadata: the HDF5 library failed reading it (exit %d)",
                   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}
