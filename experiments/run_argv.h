/* Argument vectors for the commands the driver calls in-process (analyses, synth, record): spec parameters
 * turned into flags, and a call through the command table with its stderr captured. */
#ifndef AL_RUN_ARGV_H
#define AL_RUN_ARGV_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "../core/buf.h"

typedef struct {
    char *v[256];
    int n, bad; /* bad: too many arguments or out of memory */
} al_argv;

void al_arg(al_argv *a, const char *s);
void al_argv_free(al_argv *a);
/* One parameter as flags: numbers as their shortest exact text, true as a bare flag (false: nothing), lists
 * repeated, or joined with commas when ids_joined (layer lists). */
void al_param_flags(al_argv *a, const char *canon, const cJSON *v, int ids_joined);
/* v as compact JSON with every number in its shortest exact text (cJSON prints 15 digits whenever they come
 * within an epsilon, so two different values could print alike): the material of keys. */
void al_json_exact(al_buf *b, const cJSON *v);

/* Runs a->v[0] from al_commands with stderr sent to errfile; returns its exit status and, on failure, its
 * error line without the "attnlab: error: " prefix in errline. */
int al_run_command(al_argv *a, const char *errfile, char *errline, size_t n);

#endif
