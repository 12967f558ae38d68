/* The `semdrift` analysis (METRICS.md section 5, after Semantic-Drift-in-Unified-Models mcd-sdr.py): mean
 * similarity to generation 0 per generation and direction, MCD, and the SDR fit a exp(-b g) + c. */
#ifndef AL_ANALYSIS_SEMDRIFT_H
#define AL_ANALYSIS_SEMDRIFT_H

#include "../core/exec.h"
#include "../core/result.h"
#include "../datasets/embeddings.h"
#include "../datasets/similarity.h"

/* Similarities of every sample at every generation after 0 to its generation 0, by cosine of embeddings read
 * in row blocks within x->mem. A zero embedding is an error naming dataset and sample. */
al_status al_semdrift_from_embeddings(al_emb *m, const al_exec *ex, al_similarities *s, al_error *e);

/* Fills res from similarities: directions, mcd, sdr, tables and the figure. source: owned by res afterwards. */
al_status al_semdrift_report(const al_similarities *s, cJSON *source, al_result *res, al_error *e);

/* Whole analysis: path is an HDF5 file of embeddings or a CSV of similarities. */
al_status al_semdrift_run(const char *path, const al_exec *x, al_result *res, al_error *e);

#endif
