/* The attnlab program's subcommands: each takes (argc, argv) with argv[0] = its name and returns the exit
 * status (0 success, 2 bad usage or input, 1 internal failure). */
#ifndef AL_COMMANDS_H
#define AL_COMMANDS_H

#include "../analyses/catalog.h"
#include "../core/cli.h"
#include "../core/exec.h"
#include "../core/progress.h"
#include "../core/status.h"

typedef int (*al_cmd_fn)(int argc, char **argv);

typedef struct {
    const char *name;
    al_cmd_fn fn;
    const char *summary;
} al_command;

extern const al_command al_commands[];

int al_cmd_info(int argc, char **argv);
int al_cmd_sinks(int argc, char **argv);
int al_cmd_kvsim(int argc, char **argv);
int al_cmd_stats(int argc, char **argv);
int al_cmd_heads(int argc, char **argv);
int al_cmd_similarity(int argc, char **argv);
int al_cmd_drift(int argc, char **argv);
int al_cmd_norms(int argc, char **argv);
int al_cmd_maps(int argc, char **argv);
int al_cmd_import(int argc, char **argv);
int al_cmd_synth(int argc, char **argv);
int al_cmd_record(int argc, char **argv);
int al_cmd_gguf(int argc, char **argv);
int al_cmd_kldrift(int argc, char **argv);
int al_cmd_semdrift(int argc, char **argv);
int al_cmd_cras(int argc, char **argv);
int al_cmd_run(int argc, char **argv);
int al_cmd_merge(int argc, char **argv);

/* Shared ending of a command: prints the error (if any) and maps the status to an exit code. */
int al_cmd_finish(al_status st, const al_error *e);
/* Parses options (common ones appended); prints help and returns 0 through *done when --help was given. */
al_status al_cmd_parse(int argc, char **argv, al_opt *opts, int *nopts, al_common *c, const char *usage,
                       const char *summary, const char **pos, int *npos, int minpos, int maxpos, int *done, al_error *e);
/* Appends the options of analysis a that live in its params struct (AL_FIELD) to opts, from the catalogue:
 * names, kinds, bounds, help. fused_only: just those the fused pass takes, "tokens" excepted. Returns the count. */
int al_cmd_catalog_opts(const al_adef *a, void *params, int fused_only, al_opt *opts, int n);
/* The library's execution settings from the common options; progress is drawn on stderr through pg. */
al_exec al_cmd_exec(const al_common *c, al_progress *pg);
/* Lowers --threads (or the default, all cores) to what the --mem budget holds: one thread per MiB. */
void al_cmd_cap_threads(al_common *c);
/* Applies --threads to OpenMP and OpenBLAS. */
void al_cmd_threads(const al_common *c);

#endif
