/* Classical MDS. The eigen-decomposition goes through LAPACK's dsyev (OpenBLAS ships it); a Jacobi
 * reference beside it lets tests check coordinates without trusting LAPACK. */
#include "mds.h"

#include <math.h>
#include <string.h>

void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w, double *work,
            const int *lwork, int *info, size_t ljobz, size_t luplo);

int64_t al_mds_work(int64_t P) { return 2 * P * P + 4 * P + 8; }

/* B = -1/2 J D^2 J into B: [P, P]. */
static void al_mds_center(const double *D, int64_t P, double *B, double *rowmean) {
    double g = 0;
    for (int64_t i = 0; i < P; i++) {
        double s = 0;
        for (int64_t j = 0; j < P; j++) s += D[i * P + j] * D[i * P + j];
        rowmean[i] = s / (double)P;
        g += rowmean[i];
    }
    g /= (double)P;
    for (int64_t i = 0; i < P; i++)
        for (int64_t j = 0; j < P; j++) B[i * P + j] = -0.5 * (D[i * P + j] * D[i * P + j] - rowmean[i] - rowmean[j] + g);
}

/* X[:, c] = V[:, col] sqrt(max(lambda, 0)) with the sign rule; V column-major [P, P] (column col). */
static void al_mds_coords(const double *V, int64_t P, int64_t col, double lambda, int64_t c, int64_t k, double *X) {
    const double *v = V + col * P;
    int64_t big = 0;
    for (int64_t i = 1; i < P; i++)
        if (fabs(v[i]) > fabs(v[big])) big = i;
    double s = (v[big] < 0 ? -1.0 : 1.0) * sqrt(lambda > 0 ? lambda : 0);
    for (int64_t i = 0; i < P; i++) X[i * k + c] = v[i] * s;
}

int al_mds(const double *D, int64_t P, int64_t k, double *X, double *eig, double *work) {
    double *B = work, *w = B + P * P, *rm = w + P, *wk = rm + P; /* B [P, P]; w [P]; rm [P]; wk [>= 3P] */
    al_mds_center(D, P, B, rm);
    int n = (int)P, lda = (int)P, lwork = (int)(al_mds_work(P) - (P * P + 2 * P)), info = 0;
    dsyev_("V", "U", &n, B, &lda, w, wk, &lwork, &info, 1, 1);
    if (info != 0) return info;
    /* ascending eigenvalues; B now holds the eigenvectors in columns (B is symmetric, so row-major
     * storage reads as column-major) */
    for (int64_t c = 0; c < k; c++) {
        int64_t col = P - 1 - c;
        eig[c] = w[col];
        al_mds_coords(B, P, col, w[col], c, k, X);
    }
    return 0;
}

int al_mds_ref(const double *D, int64_t P, int64_t k, double *X, double *eig, double *work) {
    double *B = work, *V = B + P * P, *rm = V + P * P; /* B, V: [P, P]; V column-major eigenvectors */
    al_mds_center(D, P, B, rm);
    memset(V, 0, sizeof(double) * (size_t)(P * P));
    for (int64_t i = 0; i < P; i++) V[i * P + i] = 1;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0, tot = 0;
        for (int64_t i = 0; i < P; i++)
            for (int64_t j = 0; j < P; j++) {
                tot += B[i * P + j] * B[i * P + j];
                if (i != j) off += B[i * P + j] * B[i * P + j];
            }
        if (off <= 1e-30 * tot || off == 0) break;
        for (int64_t p = 0; p < P; p++)
            for (int64_t q = p + 1; q < P; q++) {
                double apq = B[p * P + q];
                if (apq == 0) continue;
                double theta = (B[q * P + q] - B[p * P + p]) / (2 * apq);
                double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int64_t r = 0; r < P; r++) { /* columns p, q */
                    double brp = B[r * P + p], brq = B[r * P + q];
                    B[r * P + p] = c * brp - s * brq;
                    B[r * P + q] = s * brp + c * brq;
                }
                for (int64_t r = 0; r < P; r++) { /* rows p, q */
                    double bpr = B[p * P + r], bqr = B[q * P + r];
                    B[p * P + r] = c * bpr - s * bqr;
                    B[q * P + r] = s * bpr + c * bqr;
                }
                for (int64_t r = 0; r < P; r++) {
                    double vp = V[p * P + r], vq = V[q * P + r];
                    V[p * P + r] = c * vp - s * vq;
                    V[q * P + r] = s * vp + c * vq;
                }
            }
    }
    /* pick the k largest diagonal entries (ties to the lower index) */
    for (int64_t c = 0; c < k; c++) {
        int64_t best = -1;
        for (int64_t i = 0; i < P; i++) {
            int used = 0;
            for (int64_t d = 0; d < c; d++) used |= (int64_t)rm[d] == i;
            if (!used && (best < 0 || B[i * P + i] > B[best * P + best])) best = i;
        }
        rm[c] = (double)best;
        eig[c] = B[best * P + best];
        al_mds_coords(V, P, best, eig[c], c, k, X);
    }
    return 0;
}
