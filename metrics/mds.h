/* Classical (Torgerson) multidimensional scaling of a dissimilarity matrix, as in Clark et al.'s map of
 * heads: B = -1/2 J D^2 J, coordinates from B's largest eigenpairs. Pure kernels, workspace from the caller. */
#ifndef AL_METRICS_MDS_H
#define AL_METRICS_MDS_H

#include <stdint.h>

/* Doubles of workspace al_mds needs for P points. */
int64_t al_mds_work(int64_t P);

/* D: [P, P] symmetric dissimilarities; X: [P, k] coordinates (x_c = v_c sqrt(max(lambda_c, 0)), each column's
 * sign chosen so its entry of largest magnitude is positive); eig: [k] the k largest eigenvalues of B,
 * descending. work: [al_mds_work(P)]. Returns 0, or LAPACK's info when dsyev fails. k <= P. */
int al_mds(const double *D, int64_t P, int64_t k, double *X, double *eig, double *work);
/* The same through plain cyclic Jacobi rotations (slow, O(P^3) per sweep): the reference for tests. */
int al_mds_ref(const double *D, int64_t P, int64_t k, double *X, double *eig, double *work);

#endif
