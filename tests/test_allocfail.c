/* Allocation failure: each command, run in-process, with its k-th allocation failing for every k of a clean
 * run. Each run must end cleanly: exit 1 with one `attnlab: error:` line and no output, or exit 0 with exactly
 * the clean run's output; no HDF5 object, file descriptor or (under AddressSanitizer) byte of memory leaked. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define AL_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AL_LSAN 1
#endif
#endif
#ifdef AL_LSAN
#include <sanitizer/lsan_interface.h>
#endif

static char dir[256];

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        *n = 0;
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    *n = fread(b, 1, (size_t)len, f);
    b[*n] = 0;
    fclose(f);
    return b;
}

static int count_fds(void) {
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

/* Names in folder p, sorted, joined by '\n' ("" when absent). */
static void listing(const char *p, char *out, size_t n) {
    out[0] = 0;
    struct dirent **v;
    int k = scandir(p, &v, NULL, alphasort);
    for (int i = 0; i < k; i++) {
        if (strcmp(v[i]->d_name, ".") && strcmp(v[i]->d_name, "..")) {
            strncat(out, v[i]->d_name, n - strlen(out) - 2);
            strcat(out, "\n");
        }
        free(v[i]);
    }
    if (k >= 0) free(v);
}

static void rm_rf(const char *p) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", p);
    if (system(cmd) != 0) cr_log_warn("cannot remove %s", p);
}

static void write_file(const char *name, const char *text) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
}

/* A .npy map dump [1, 2, 2, 5, 5]: causal uniform rows. */
static void write_npy(const char *name) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    cr_assert(f);
    char h[128];
    int n = snprintf(h, sizeof h, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2, 5, 5), }");
    while ((n + 11) % 64) h[n++] = ' ';
    h[n++] = '\n';
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(n & 255), (unsigned char)(n >> 8)};
    fwrite(pre, 1, 10, f);
    fwrite(h, 1, (size_t)n, f);
    for (int m = 0; m < 4; m++)
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 5; j++) {
                float v = j <= i ? 1.0f / (float)(i + 1) : 0.0f;
                fwrite(&v, 4, 1, f);
            }
    fclose(f);
}

static void fixtures(void) {
    snprintf(dir, sizeof dir, "%s", al_test_tmpdir());
    char p[512], q[512];
    snprintf(p, sizeof p, "%s/maps.h5", dir);
    snprintf(q, sizeof q, "%s/qk.h5", dir);
    cr_assert_eq(al_test_cmd("/dev/null", "synth", "maps", "-o", p, "--samples", "1", "--layers", "2", "--heads", "3",
                             "--tokens", "12", "--quiet", NULL), 0);
    cr_assert_eq(al_test_cmd("/dev/null", "synth", "qk", "-o", q, "--samples", "1", "--layers", "2", "--heads", "2",
                             "--tokens", "10", "--head-dim", "4", "--quiet", NULL), 0);
    write_npy("dump.npy");
    snprintf(p, sizeof p, "%s/drift", dir);
    cr_assert_eq(al_test_cmd("/dev/null", "synth", "drift", "-o", p, "--samples", "1", "--layers", "2", "--heads", "2",
                             "--tokens", "16", "--quiet", NULL), 0);
    write_file("turns.csv", "conversation,turn,kl\n0,1,0.5\n0,2,0.4\n0,3,0.35\n1,1,0.6\n1,2,0.5\n1,3,0.45\n");
    write_file("sims.csv", "direction,generation,sample,similarity\nup,1,0,0.9\nup,2,0,0.8\nup,3,0,0.75\n"
                           "up,1,1,0.95\nup,2,1,0.85\nup,3,1,0.8\n");
    write_file("scores.jsonl", "{\"query\": \"q1\", \"role\": \"teacher\", \"GA\": 4, \"RC\": 3, \"KBA\": 5, \"CC\": 2}\n"
                               "{\"query\": \"q2\", \"role\": \"teacher\", \"GA\": 2, \"RC\": 3, \"KBA\": 4, \"CC\": 5}\n"
                               "{\"query\": \"q2\", \"role\": \"pirate\", \"GA\": 1, \"RC\": 2, \"KBA\": 3, \"CC\": 4}\n");
    write_file("scores.json", "{\"q1\": {\"teacher\": [{\"GA\": {\"score\": 4}, \"RC\": 3, \"KBA\": 5, \"CC\": \"2\"}]},"
                              " \"q2\": {\"pirate\": [{\"GA\": 1, \"RC\": 2, \"KBA\": 3, \"CC\": 4}]}}\n");
}

/* Runs the command of args (NULL-terminated; "@" + NAME stands for DIR/NAME) with every allocation failing
 * in turn. out: the command's output file or folder (DIR/NAME) when it writes one, else NULL. */
static void sweep(const char *out, const char *const *args) {
    char *argv[40], buf[40][512];
    int argc = 0;
    for (; args[argc]; argc++) {
        if (args[argc][0] == '@') snprintf(buf[argc], sizeof buf[argc], "%s/%s", dir, args[argc] + 1);
        else snprintf(buf[argc], sizeof buf[argc], "%s", args[argc]);
        argv[argc] = buf[argc];
    }
    argv[argc] = NULL;
    char outp[512] = "", so[512], se[512], clean_list[8192], list[8192];
    if (out) snprintf(outp, sizeof outp, "%s/%s", dir, out);
    snprintf(so, sizeof so, "%s/stdout", dir);
    snprintf(se, sizeof se, "%s/stderr", dir);

    int fds0 = count_fds();
    al_alloc_fail_at(0);
    int rc = al_test_cmdv(so, se, argc, argv);
    uint64_t n = al_alloc_count();
    size_t nclean, nerr;
    char *clean = slurp(so, &nclean), *err = slurp(se, &nerr);
    cr_assert_eq(rc, 0, "%s: the clean run failed (exit %d): %s", argv[0], rc, err ? err : "");
    free(err);
    listing(outp, clean_list, sizeof clean_list);
    struct stat st;
    int out_is_dir = out && stat(outp, &st) == 0 && S_ISDIR(st.st_mode);
    if (out) rm_rf(outp);
#ifdef AL_LSAN
    cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "%s: the clean run leaks", argv[0]);
#endif
    cr_log_info("%s: %llu allocations in a clean run", argv[0], (unsigned long long)n);

    int bad = 0;
    for (uint64_t k = 1; k <= n && bad < 5; k++) {
        if (getenv("AL_ALLOCFAIL_TRACE")) fprintf(stderr, "%s: failing allocation %llu\n", argv[0], (unsigned long long)k);
        al_alloc_fail_at(k);
        rc = al_test_cmdv(so, se, argc, argv);
        al_alloc_fail_at(0);
        size_t no;
        char *o = slurp(so, &no), *er = slurp(se, &nerr);
        char why[512] = "";
        if (rc == 0) {
            if (no != nclean || memcmp(o, clean, no) != 0) {
                size_t i = 0;
                while (i < no && i < nclean && o[i] == clean[i]) i++;
                size_t from = i > 60 ? i - 60 : 0;
                snprintf(why, sizeof why, "exit 0 with output unlike the clean run's at byte %zu: '%.120s' instead of '%.120s'",
                         i, o + from, clean + (from < nclean ? from : nclean));
            }
            listing(outp, list, sizeof list);
            if (out && strcmp(list, clean_list) != 0) snprintf(why, sizeof why, "exit 0, but %s holds other files", out);
        } else if (rc == 1) {
            const char *nl = er ? strchr(er, '\n') : NULL;
            if (!er || strncmp(er, "attnlab: error: ", 16) != 0 || !nl || nl[1] != 0)
                snprintf(why, sizeof why, "stderr is not one 'attnlab: error:' line: %.300s", er ? er : "");
            else if (no != 0)
                snprintf(why, sizeof why, "failed but wrote %zu bytes to stdout", no);
            else if (out && access(outp, F_OK) == 0 && !(out_is_dir && clean_list[0] == 0))
                snprintf(why, sizeof why, "failed but left %s behind", out);
        } else {
            snprintf(why, sizeof why, "exit %d (expected 0 or 1): %.300s", rc, er ? er : "");
        }
        /* partial or temporary files beside the output (NAME.tmp-PID, .attnlab-stage-PID) */
        listing(dir, list, sizeof list);
        if (!why[0] && (strstr(list, ".tmp-") || strstr(list, ".attnlab-stage")))
            snprintf(why, sizeof why, "temporary files left in the folder: %.200s", list);
        if (!why[0] && H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) != 0)
            snprintf(why, sizeof why, "%lld HDF5 objects left open", (long long)H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL));
        if (!why[0] && count_fds() != fds0) snprintf(why, sizeof why, "file descriptors leaked (%d, was %d)", count_fds(), fds0);
#ifdef AL_LSAN
        if (!why[0] && __lsan_do_recoverable_leak_check() != 0) snprintf(why, sizeof why, "memory leaked (report above)");
#endif
        if (why[0]) {
            cr_log_error("%s: allocation %llu of %llu failing: %s", argv[0], (unsigned long long)k, (unsigned long long)n, why);
            bad++;
        }
        free(o);
        free(er);
        if (out) rm_rf(outp);
    }
    free(clean);
    cr_assert_eq(bad, 0, "%s: %d allocation failures not handled cleanly (see the log)", argv[0], bad);
}

static void cleanup(void) { rm_rf(dir); }

TestSuite(allocfail, .init = fixtures, .fini = cleanup, .timeout = 1200);

Test(allocfail, sinks_maps) {
    sweep(NULL, (const char *[]){"sinks", "@maps.h5", "--tokens", "12", "--threads", "1", "--format", "json", NULL});
}
Test(allocfail, sinks_maps_tables) {
    sweep(NULL, (const char *[]){"sinks", "@maps.h5", "--tokens", "8", "--threads", "1", "--format", "tsv", "--mem", "4K", NULL});
}
Test(allocfail, sinks_outdir) {
    setenv("ATTNLAB_NO_GNUPLOT", "1", 1); /* rendering PNGs is gnuplot's work, in another process, and slow */
    sweep("out", (const char *[]){"sinks", "@maps.h5", "--tokens", "12", "--threads", "1", "-o", "@out", "--quiet", NULL});
}
Test(allocfail, sinks_qk) {
    sweep(NULL, (const char *[]){"sinks", "@qk.h5", "--tokens", "10", "--threads", "1", "--format", "json", "--mem", "8K", NULL});
}
Test(allocfail, sinks_npy) {
    sweep(NULL, (const char *[]){"sinks", "@dump.npy", "--tokens", "5", "--threads", "1", "--format", "json", NULL});
}
Test(allocfail, import) { sweep("imp.h5", (const char *[]){"import", "@dump.npy", "-o", "@imp.h5", "--quiet", NULL}); }
Test(allocfail, synth) {
    sweep("syn.h5", (const char *[]){"synth", "maps", "-o", "@syn.h5", "--samples", "1", "--layers", "1", "--heads", "2",
                                     "--tokens", "8", "--quiet", NULL});
}
Test(allocfail, info) { sweep(NULL, (const char *[]){"info", "@maps.h5", "--format", "json", NULL}); }
Test(allocfail, kl_drift_csv) {
    sweep(NULL, (const char *[]){"kl-drift", "@turns.csv", "--bootstrap", "20", "--format", "json", NULL});
}
Test(allocfail, semdrift_csv) { sweep(NULL, (const char *[]){"semdrift", "@sims.csv", "--format", "json", NULL}); }
Test(allocfail, cras_jsonl) {
    sweep(NULL, (const char *[]){"cras", "@scores.jsonl", "--bootstrap", "20", "--format", "json", NULL});
}
Test(allocfail, cras_json) { sweep(NULL, (const char *[]){"cras", "@scores.json", "--bootstrap", "0", "--format", "json", NULL}); }
Test(allocfail, heads) {
    sweep(NULL, (const char *[]){"heads", "@maps.h5", "--threads", "1", "--format", "json", "--recent", "4", NULL});
}
Test(allocfail, similarity) { sweep(NULL, (const char *[]){"similarity", "@maps.h5", "--threads", "1", "--format", "json", NULL}); }
Test(allocfail, norms) { sweep(NULL, (const char *[]){"norms", "@qk.h5", "--threads", "1", "--format", "json", NULL}); }
Test(allocfail, drift) {
    sweep(NULL, (const char *[]){"drift", "@drift/baseline.h5", "@drift/conflict.h5", "--threads", "1", "--format", "json", NULL});
}

Test(allocfail, kvsim_maps) {
    sweep(NULL, (const char *[]){"kvsim", "@maps.h5", "--policy", "h2o:2,window:3", "--policy", "duo:1,3", "--sweep",
                                 "topk:1..4x2", "--policy", "coverage:0.8", "--threads", "1", "--format", "json", NULL});
}
