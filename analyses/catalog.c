/* The rows of the catalogue of analyses (catalog.h). Parameters: one per line; bounds are those the commands
 * enforce; tests/cli/test_run.py checks every name against `attnlab CMD --help`. */
#include "catalog.h"

#include <string.h>

#include "drift.h"
#include "heads.h"
#include "maps.h"
#include "norms.h"
#include "similarity.h"
#include "sinks.h"

#define BIG 1e12
#define SINKS(m) AL_FIELD(al_sinks_params, m)
#define HEADS(m) AL_FIELD(al_heads_params, m)
#define MAPS(m) AL_FIELD(al_maps_params, m)
#define DRIFT(m) AL_FIELD(al_drift_params, m)

/* clang-format off */

static const al_pdef al_p_info[] = {{NULL}};
static const al_pdef al_p_sinks[] = {
    {"epsilon", AL_PT_NUM, 0, 1, NULL, 0, SINKS(epsilon), 1, "EPS", "sink threshold on alpha (default 0.3)"},
    {"tokens", AL_PT_INT, 1, BIG, NULL, 0, SINKS(tokens), 1, "T",
     "analyse the first T tokens (default 64; non-causal maps: all)"},
    {"positions", AL_PT_INT, 1, 1e9, NULL, 0, SINKS(positions), 1, "K",
     "report Sink_0 .. Sink_{K-1} (default 10, or T when fewer tokens)"},
    {"hidden-threshold", AL_PT_NUM, 0, 1, NULL, 0, SINKS(hidden_threshold), 1, "TAU",
     "hidden sinks: positions j >= 1 with alpha > TAU (default 0.1)"},
    {"hidden-min-queries", AL_PT_INT, 1, BIG, NULL, 0, SINKS(hidden_min_queries), 1, "M",
     "hidden sinks: only keys seen by at least M queries, T - j >= M on causal maps (default 16)"},
    {"from-qk", AL_PT_BOOL},
    {NULL},
};
static const al_pdef al_p_heads[] = {
    {"tokens", AL_PT_INT, 1, BIG, NULL, 0, HEADS(tokens), 1, "T",
     "analyse the first T tokens (default: all; non-causal maps: all; padded samples: their own)"},
    {"sink-tokens", AL_PT_INT, 0, BIG, NULL, 0, HEADS(sink_tokens), 1, "S",
     "distant_mass: the first S keys are sinks, not distant (default 4)"},
    {"recent", AL_PT_INT, 0, BIG, NULL, 0, HEADS(recent), 1, "R",
     "distant_mass: keys j > i - R are recent, not distant (default 64)"},
    {"clark", AL_PT_BOOL, 0, 0, NULL, 0, HEADS(clark), 1, NULL,
     "entropy with Clark's smoothing a' = 0.9999 a + 1e-4/T over all T keys"},
    {"class-tokens", AL_PT_STRS, 0, 0, NULL, 0, HEADS(class_ids), 0, "[NAME=]IDS",
     "attention to a token class: ids such as 0,2,13-15 (repeatable)"},
    {"class-mask", AL_PT_STRS, 0, 0, NULL, 0, HEADS(class_masks), 0, "DATASET",
     "attention to a token class given by a boolean [N, T] dataset (repeatable)"},
    {"duo-gates", AL_PT_PATH, 0, 0, NULL, 0, HEADS(duo_gates), 0, "TSV",
     "DuoAttention gate file (layers x KV heads) to compare with distant_mass"},
    {"threshold", AL_PT_NUM, 0, 1, NULL, 0, HEADS(threshold), 0, "G",
     "--duo-gates: retrieval KV head <=> gate >= G (default 0.5)"},
    {"sparsity", AL_PT_NUM, 0, 1, NULL, 0, HEADS(sparsity), 0, "S",
     "--duo-gates: threshold = the S-quantile of all gates (numpy linear)"},
    {"from-qk", AL_PT_BOOL},
    {NULL},
};
static const al_pdef al_p_similarity[] = {
    {"tokens", AL_PT_INT, 1, BIG, NULL, 0, AL_FIELD(al_similarity_params, tokens), 1, "T",
     "analyse the first T tokens (default: all; non-causal maps: all)"},
    {"from-qk", AL_PT_BOOL},
    {NULL},
};
static const al_pdef al_p_norms[] = {
    {"tokens", AL_PT_INT, 1, BIG, NULL, 0, AL_FIELD(al_norms_params, tokens), 0, "T", "the first T tokens (default: all)"},
    {NULL},
};
static const al_pdef al_p_drift[] = {
    {"query-span", AL_PT_STR, 0, 0, NULL, 0, DRIFT(query_span), 0, "NAME",
     "query rows: this span (default response; absent: the last token)"},
    {"target-span", AL_PT_STR, 0, 0, NULL, 0, DRIFT(target_span), 0, "NAME",
     "span whose mass `magnitude` compares (default system)"},
    {"top-percent", AL_PT_NUM, 0, 100, NULL, 0, DRIFT(top_percent), 0, "P",
     "focal heads: the top P percent of heads by score (default 10)"},
    {"from-qk", AL_PT_BOOL},
    {NULL},
};
static const al_pdef al_p_maps[] = {
    {"layers", AL_PT_IDS, 0, 0, NULL, 1, MAPS(layers), 0, "L,...", "layers to draw, e.g. 0,1,2 or 0-3 (required)"},
    {"heads", AL_PT_CHOICE, 0, 0, "mean|all", 0, MAPS(heads), 0, "MODE",
     "mean: one map per layer (mean over heads); all: one panel per head"},
    {"log", AL_PT_BOOL, 0, 0, NULL, 0, MAPS(log), 0, NULL,
     "logarithmic colour scale (zeros, e.g. masked keys, left blank)"},
    {"tokens", AL_PT_INT, 1, BIG, NULL, 0, MAPS(tokens), 0, "T",
     "draw the first T tokens (default: all; non-causal maps: all)"},
    {"from-qk", AL_PT_BOOL},
    {NULL},
};
static const al_pdef al_p_kldrift[] = {
    {"temperature", AL_PT_NUM, 1e-6, 1e6},
    {"token-agg", AL_PT_CHOICE, 0, 0, "mean|sum"},
    {"bootstrap", AL_PT_INT, 0, 1e7},
    {"seed", AL_PT_INT, 0, 9e15},
    {NULL},
};
static const al_pdef al_p_kvsim[] = {
    {"policy", AL_PT_STRS},
    {"sweep", AL_PT_STRS},
    {"tokens", AL_PT_INT, 1, BIG},
    {"from-qk", AL_PT_BOOL},
    {"prefill", AL_PT_INT, 1, BIG},
    {"decode", AL_PT_INT, 1, BIG},
    {"method", AL_PT_STRS},
    {"ratio", AL_PT_STRS},
    {"gqa", AL_PT_CHOICE, 0, 0, "mean|max"},
    {"kept", AL_PT_BOOL},
    {NULL},
};
static const al_pdef al_p_none[] = {{NULL}};
static const al_pdef al_p_cras[] = {
    {"weights", AL_PT_STR},
    {"weights-file", AL_PT_PATH},
    {"correct", AL_PT_PATH},
    {"bootstrap", AL_PT_INT, 0, 1e7},
    {"seed", AL_PT_INT, 0, 9e15},
    {NULL},
};

/* name, summary, needs, nfiles, maps, fused, combine, params */
const al_adef al_analyses[] = {
    {"info", "datasets, shapes, dtypes and attributes of a recording, and the analyses it supports",
     0, 1, 0, 0, AL_COMBINE_STACK, al_p_info},
    {"sinks", "attention sinks: key importance alpha, sink rate Sink_k, hidden sinks",
     AL_NEEDS_MAPS, 1, 1, 1, AL_COMBINE_SINKS, al_p_sinks},
    {"heads", "head profiles (entropy, first, prev, distance, distant mass), roles, DuoAttention gates",
     AL_NEEDS_MAPS, 1, 1, 1, AL_COMBINE_STACK, al_p_heads},
    {"similarity", "JS divergence between every pair of heads and a 2-D MDS map of the heads",
     AL_NEEDS_MAPS, 1, 1, 1, AL_COMBINE_STACK, al_p_similarity},
    {"maps", "heatmaps of mean attention maps of chosen layers (per head or mean over heads)",
     AL_NEEDS_MAPS, 1, 1, 0, AL_COMBINE_STACK, al_p_maps},
    {"drift", "attention drift between a baseline and a conflict recording: focal heads and layers",
     AL_NEEDS_MAPS, 2, 0, 0, AL_COMBINE_STACK, al_p_drift},
    {"kvsim", "simulate KV-cache and sparse-attention policies (window, sink, h2o, topk, coverage, duo)",
     AL_NEEDS_MAPS | AL_NEEDS_CAUSAL, 1, 1, 0, AL_COMBINE_STACK, al_p_kvsim},
    {"norms", "hidden-state norms by layer and token, massive activations, key and value norms",
     AL_NEEDS_STATES, 1, 0, 0, AL_COMBINE_STACK, al_p_norms},
    {"kl-drift", "KL context drift over conversation turns: per-turn D_t, equilibrium fit kappa, D*",
     AL_NEEDS_LOGS, 1, 0, 0, AL_COMBINE_STACK, al_p_kldrift},
    {"semdrift", "semantic drift across generations: mean cumulative drift MCD, drift rate SDR",
     AL_NEEDS_LOGS, 1, 0, 0, AL_COMBINE_STACK, al_p_none},
    {"cras", "role adherence CRAS from judge scores: per dimension, role and query, with intervals",
     AL_NEEDS_LOGS, 1, 0, 0, AL_COMBINE_STACK, al_p_cras},
};

/* clang-format on */

/* a row added without its name in AL_ANALYSIS_LIST, or the reverse, does not compile */
_Static_assert(sizeof al_analyses / sizeof al_analyses[0] == AL_ANALYSIS_COUNT,
               "al_analyses has one row per AL_ANALYSIS_LIST entry");

const char *const al_analysis_names[AL_ANALYSIS_COUNT] = {
#define AL_ANALYSIS_NAME(id, name) name,
    AL_ANALYSIS_LIST(AL_ANALYSIS_NAME)
#undef AL_ANALYSIS_NAME
};

const al_adef *al_analysis_find(const char *name) {
    for (int i = 0; i < AL_ANALYSIS_COUNT; i++)
        if (!strcmp(al_analyses[i].name, name)) return &al_analyses[i];
    return NULL;
}

const al_pdef *al_fused_param(const al_adef *a, const char *name) {
    for (const al_pdef *d = a->params; d->name; d++)
        if (d->fused && !strcmp(d->name, name)) return d;
    return NULL;
}
