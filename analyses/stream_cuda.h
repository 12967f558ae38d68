/* Host-side folding of the GPU kernels' per-row outputs into the head statistics layout of
 * metrics/headstats.h, shared by the GPU engine and its tests. */
#ifndef AL_STREAM_CUDA_H
#define AL_STREAM_CUDA_H

#include <stdint.h>

#include "../core/status.h"

/* Map kernel row totals rt [nr, AL_CQ] of rows row0.. into hs [AL_HS_COUNT]; checks rows sum to 1. */
al_status al_cuda_fold_rows(const double *rt, int64_t row0, int64_t nr, int64_t T, int causal, int clark, double *hs,
                            const char *file, const char *dset, int64_t n, int64_t h, al_error *e);
/* q/k kernel rows [T, AL_QQ] into hs [AL_HS_COUNT]. */
void al_cuda_fold_qk(const double *rows, int64_t T, int causal, double *hs);

#endif
