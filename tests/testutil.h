/* Helpers shared by the Criterion tests: temporary folders, running python fixtures and the attnlab
 * binary-free entry points, and comparisons with relative tolerance. */
#ifndef AL_TESTUTIL_H
#define AL_TESTUTIL_H

#include <stdint.h>

/* A fresh folder under /tmp; the path stays valid for the test's life. */
const char *al_test_tmpdir(void);
/* Runs /usr/bin/python3 -c CODE with argv; returns its exit status. */
int al_test_python(const char *code, const char *arg1, const char *arg2);
/* Path of a file under ../shared, or NULL when the shared folder is absent. */
const char *al_test_shared(const char *rel);
int al_close_rel(double a, double b, double rtol, double atol);
/* Runs a subcommand in-process (its argv[0] is the command name) and returns the exit status;
 * stdout goes to out_path when not NULL. */
int al_test_cmd(const char *out_path, const char *cmd, ...);
/* The same with an argv array (argv[0] = the command name); stderr also goes to err_path when not NULL. */
int al_test_cmdv(const char *out_path, const char *err_path, int argc, char **argv);

#endif
