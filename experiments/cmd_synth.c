/* `attnlab synth KIND -o OUT.h5`: synthetic recordings with planted structure. */
#include <stdio.h>
#include <string.h>

#include "../datasets/synth.h"
#include "commands.h"

int al_cmd_synth(int argc, char **argv) {
    al_error e;
    al_error_clear(&e);
    al_common c;
    al_common_defaults(&c);
    al_synth_params p;
    al_synth_defaults(&p);
    int64_t seed = 0;
    const char *dtype = "f32";
    int with_maps = 0;
    al_opt opts[AL_OPTS_MAX] = {
        {"seed", 0, AL_OPT_INT, &seed, "S", "random seed (default 0)", 0, 9e15, NULL, 0, 0},
        {"samples", 0, AL_OPT_INT, &p.samples, "N", "samples (default 2)", 1, 1e6, NULL, 0, 0},
        {"layers", 0, AL_OPT_INT, &p.layers, "L", "layers (default 4)", 1, 4096, NULL, 0, 0},
        {"heads", 0, AL_OPT_INT, &p.heads, "H", "query heads per layer (default 6)", 1, 65536, NULL, 0, 0},
        {"kv-heads", 0, AL_OPT_INT, &p.kv_heads, "HKV", "KV heads (default: = heads)", 0, 65536, NULL, 0, 0},
        {"tokens", 0, AL_OPT_INT, &p.tokens, "T", "tokens per sample (default 128)", 1, 1 << 20, NULL, 0, 0},
        {"head-dim", 0, AL_OPT_INT, &p.head_dim, "D", "head_dim attribute (default 16)", 1, 65536, NULL, 0, 0},
        {"dtype", 0, AL_OPT_CHOICE, &dtype, "TYPE", "storage: f32, f16 (gzip+shuffle chunks) or bf16 (default f32)", 0, 0, "f32|f16|bf16", 0, 0},
        {"bidirectional", 0, AL_OPT_FLAG, &p.bidirectional, NULL, "non-causal (encoder) maps", 0, 0, NULL, 0, 0},
        {"with-maps", 0, AL_OPT_FLAG, &with_maps, NULL, "qk: also write the maps q and k imply", 0, 0, NULL, 0, 0},
    };
    int nopts = 10, npos = 0, done = 0;
    const char *pos[1];
    al_status st = al_cmd_parse(argc, argv, opts, &nopts, &c, "synth KIND -o OUT.h5|DIR [options]",
                                "Writes a format-v1 recording with planted structure. KIND: maps (alias: sinks):\n"
                                "attention maps whose heads take the roles sink, previous, local, hidden, broad,\n"
                                "retrieval in turn ((layer * H + head) mod 6); the roles are stored in the root\n"
                                "attribute planted_roles. KIND qk: queries and keys (--head-dim D) with a planted\n"
                                "first-token sink in head 0 of each layer; --with-maps adds the maps they imply.\n"
                                "KIND drift: -o names a folder that receives baseline.h5 and conflict.h5, maps with\n"
                                "spans system, user, response (the conflict's user span is T/4 tokens longer) and\n"
                                "max(1, round(L H / 10)) planted drift heads from layer L/2 on (root attribute\n"
                                "planted_drift_heads): system-span attention in the baseline, user-span under conflict.\n"
                                "See docs/synth.md for the exact construction.",
                                pos, &npos, 1, 1, &done, &e);
    if (st != AL_OK || done) return al_cmd_finish(st, &e);
    int qk = !strcmp(pos[0], "qk"), drift = !strcmp(pos[0], "drift");
    if (!qk && !drift && strcmp(pos[0], "maps") != 0 && strcmp(pos[0], "sinks") != 0)
        return al_cmd_finish(al_fail(&e, AL_EUSAGE, "synth", NULL, "unknown kind '%s' (known: maps, sinks, qk, drift)", pos[0]), &e);
    if (!c.out) return al_cmd_finish(al_fail(&e, AL_EUSAGE, "synth", NULL, "-o OUT.h5 is required"), &e);
    p.seed = (uint64_t)seed;
    p.dtype = !strcmp(dtype, "f16") ? AL_DT_F16 : !strcmp(dtype, "bf16") ? AL_DT_BF16 : AL_DT_F32;
    st = qk ? al_synth_qk_write(&p, c.out, with_maps, &e) : drift ? al_synth_drift_write(&p, c.out, &e) : al_synth_write(&p, c.out, &e);
    if (st == AL_OK && !c.quiet)
        fprintf(stderr, "attnlab synth: wrote %s (%lld samples, %lld layers, %lld heads, %lld tokens, %s)\n", c.out,
                (long long)p.samples, (long long)p.layers, (long long)p.heads, (long long)p.tokens, dtype);
    return al_cmd_finish(st, &e);
}
