/* `attnlab import IN -o OUT.h5`: map dumps into format v1. */
#include <stdio.h>
#include <string.h>

#include "../datasets/import.h"
#include "commands.h"

int al_cmd_import(int argc, char **argv) {
    al_error e;
    al_error_clear(&e);
    al_common c;
    al_common_defaults(&c);
    al_import_params p = {0};
    const char *dtype = NULL;
    al_opt opts[AL_OPTS_MAX] = {
        {"model", 0, AL_OPT_STRING, &p.model, "NAME", "model attribute to record", 0, 0, NULL, 0, 0},
        {"bidirectional", 0, AL_OPT_FLAG, &p.bidirectional, NULL, "the maps are non-causal (causal = 0)", 0, 0, NULL, 0, 0},
        {"no-bos", 0, AL_OPT_FLAG, &p.no_bos, NULL, "position 0 is not a BOS token", 0, 0, NULL, 0, 0},
        {"dtype", 0, AL_OPT_CHOICE, &dtype, "TYPE", "storage type f32|f16|bf16 (default: the input's)", 0, 0, "f32|f16|bf16", 0, 0},
    };
    int nopts = 4, npos = 0, done = 0;
    const char *pos[1];
    al_status st = al_cmd_parse(argc, argv, opts, &nopts, &c, "import IN -o OUT.h5 [options]",
                                "Converts a .npy array [N, L, H, T, T] or [L, H, T, T] (the dump of \"When Attention\n"
                                "Sink Emerges\"), or an HDF5 file whose only dataset is such an array, into a\n"
                                "format-v1 recording. Values are checked (finite, rows summing to 1) on the way.",
                                pos, &npos, 1, 1, &done, &e);
    if (st != AL_OK || done) return al_cmd_finish(st, &e);
    if (!c.out) return al_cmd_finish(al_fail(&e, AL_EUSAGE, "import", NULL, "-o OUT.h5 is required"), &e);
    if (dtype) {
        p.dtype_set = 1;
        p.dtype = !strcmp(dtype, "f16") ? AL_DT_F16 : !strcmp(dtype, "bf16") ? AL_DT_BF16 : AL_DT_F32;
    }
    p.mem = c.mem;
    st = al_import(pos[0], c.out, &p, &e);
    if (st == AL_OK && !c.quiet) fprintf(stderr, "attnlab import: wrote %s\n", c.out);
    return al_cmd_finish(st, &e);
}
