/* Temporary files and one-time set-up for the fuzz targets. The file lives in $TMPDIR (or /tmp) and is
 * named after the process so parallel fuzzing jobs (-jobs=N) do not share one. */
#include "fuzzutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/h5.h"

#ifdef _OPENMP
#include <omp.h>
#endif

static char al_fuzz_path[512];

static void al_fuzz_cleanup(void) {
    if (al_fuzz_path[0]) unlink(al_fuzz_path);
}

const char *al_fuzz_file(const uint8_t *data, size_t size, const char *suffix) {
    if (!al_fuzz_path[0] || !strstr(al_fuzz_path, suffix)) {
        al_fuzz_cleanup();
        const char *tmp = getenv("TMPDIR");
        snprintf(al_fuzz_path, sizeof al_fuzz_path, "%s/attnlab-fuzz-%ld%s", tmp && *tmp ? tmp : "/tmp", (long)getpid(),
                 suffix);
        static int once;
        if (!once++) atexit(al_fuzz_cleanup);
    }
    int fd = open(al_fuzz_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) abort();
    for (size_t off = 0; off < size;) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) abort();
        off += (size_t)w;
    }
    close(fd);
    return al_fuzz_path;
}

void al_fuzz_init(void) {
    static int done;
    if (done++) return;
    al_h5_quiet();
    al_alloc_cjson_hooks();
#ifdef _OPENMP
    omp_set_num_threads(2);
#endif
}
