/* Test helpers. Commands are run in-process through the command table, with stdout redirected to a file,
 * so tests exercise exactly the code paths of the attnlab program without spawning it. */
#include "testutil.h"

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "experiments/commands.h"

const char *al_test_tmpdir(void) {
    static char buf[256];
    snprintf(buf, sizeof buf, "/tmp/attnlab-test-XXXXXX");
    if (!mkdtemp(buf)) abort();
    return buf;
}

int al_test_python(const char *code, const char *arg1, const char *arg2) {
    pid_t pid = fork();
    if (pid == 0) {
        execl(AL_TEST_PYTHON, AL_TEST_PYTHON, "-c", code, arg1 ? arg1 : "", arg2 ? arg2 : "", (char *)NULL);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

const char *al_test_shared(const char *rel) {
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", AL_TEST_SHARED, rel);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

int al_close_rel(double a, double b, double rtol, double atol) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return fabs(a - b) <= atol + rtol * fabs(b);
}

int al_test_cmd(const char *out_path, const char *cmd, ...) {
    char *argv[64];
    int argc = 0;
    va_list ap;
    va_start(ap, cmd);
    argv[argc++] = (char *)cmd;
    for (char *a; argc < 63 && (a = va_arg(ap, char *));) argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    return al_test_cmdv(out_path, NULL, argc, argv);
}

int al_test_cmdv(const char *out_path, const char *err_path, int argc, char **argv) {
    fflush(stdout);
    fflush(stderr);
    int saved = dup(STDOUT_FILENO), saved_err = -1;
    if (out_path) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, STDOUT_FILENO);
        close(fd);
    }
    if (err_path) {
        saved_err = dup(STDERR_FILENO);
        int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, STDERR_FILENO);
        close(fd);
    }
    static int hooks;
    if (!hooks++) al_alloc_cjson_hooks(); /* as experiments/main.c does */
    int rc = 2;
    for (const al_command *c = al_commands; c->name; c++)
        if (!strcmp(c->name, argv[0])) rc = c->fn(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    if (saved_err >= 0) {
        dup2(saved_err, STDERR_FILENO);
        close(saved_err);
    }
    return rc;
}
