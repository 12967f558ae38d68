/* attnlab: the command-line program. A git-style table of subcommands; each one lives in its own file
 * under experiments/ and calls the analyses, which call the metrics. */
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/provenance.h"
#include "commands.h"

static void al_usage(FILE *f) {
    fprintf(f, "usage: attnlab COMMAND [options] [files]\n\nattnlab %s: analyses of what transformers do inside.\n\ncommands:\n",
            al_version());
    for (const al_command *c = al_commands; c->name; c++) fprintf(f, "  %-12s %s\n", c->name, c->summary);
    fprintf(f, "\n`attnlab COMMAND --help` documents each command. Exit status: 0 success, 2 bad usage or input, 1 internal failure.\n");
}

int main(int argc, char **argv) {
    al_alloc_cjson_hooks(); /* before any cJSON object: its allocations count and fail like the rest */
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        al_usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("attnlab %s (%s)\n", al_version(), al_git_hash());
        return 0;
    }
    for (const al_command *c = al_commands; c->name; c++)
        if (!strcmp(argv[1], c->name)) return c->fn(argc - 1, argv + 1);
    fprintf(stderr, "attnlab: error: %s: unknown command (see attnlab --help)\n", argv[1]);
    return 2;
}
