/* The table of attnlab's subcommands, in the order `attnlab --help` lists them.
 * Kept in the library so tests can run a command in-process exactly as the program does. */
#include <stddef.h>

#include "commands.h"

const al_command al_commands[] = {
    {"info", al_cmd_info, "datasets, shapes, dtypes and attributes of a recording, and the analyses it supports"},
    {"sinks", al_cmd_sinks, "attention sinks: key importance alpha, sink rate Sink_k, hidden sinks"},
    {"kvsim", al_cmd_kvsim, "simulate KV-cache and sparse-attention policies (window, sink, h2o, topk, coverage, duo)"},
    {"heads", al_cmd_heads, "head profiles (entropy, first, prev, distance, distant mass), roles, DuoAttention gates"},
    {"stats", al_cmd_stats, "sinks, heads and similarity from one read of the recording (the fused pass)"},
    {"similarity", al_cmd_similarity, "JS divergence between every pair of heads and a 2-D MDS map of the heads"},
    {"drift", al_cmd_drift, "attention drift between a baseline and a conflict recording: focal heads and layers"},
    {"norms", al_cmd_norms, "hidden-state norms by layer and token, massive activations, key and value norms"},
    {"maps", al_cmd_maps, "heatmaps of mean attention maps of chosen layers (per head or mean over heads)"},
    {"import", al_cmd_import, "convert a .npy map dump or a single-array HDF5 file into a format-v1 recording"},
    {"synth", al_cmd_synth, "write a synthetic recording with planted structure (sinks, local and retrieval heads)"},
    {"record", al_cmd_record, "run a llama2.c checkpoint on the CPU and record maps, q, k, v, hidden states, logits"},
    {"gguf", al_cmd_gguf, "a GGUF model file's metadata and tensors, one tensor dequantised, or a text's token ids"},
    {"kl-drift", al_cmd_kldrift, "KL context drift over conversation turns: per-turn D_t, equilibrium fit kappa, D*"},
    {"semdrift", al_cmd_semdrift, "semantic drift across generations: mean cumulative drift MCD, drift rate SDR"},
    {"cras", al_cmd_cras, "role adherence CRAS from judge scores: per dimension, role and query, with intervals"},
    {"run", al_cmd_run, "an experiment from a JSON spec: inputs, steps, figures, report.md; resumable, shardable"},
    {"merge", al_cmd_merge, "combine the output folders of `run --shard i/n` into what one run would write"},
    {NULL, NULL, NULL},
};
