/* Generators of synthetic logs for kl-drift, semdrift and cras, seeded through core/rng.h so a seed names a
 * file; numbers are written with 9 significant digits. */
#include "synth_logs.h"

#include <math.h>
#include <stdio.h>

#include "../core/outdir.h"
#include "../core/rng.h"

void al_synth_kl_defaults(al_synth_kl_params *p) {
    *p = (al_synth_kl_params){.seed = 0,
                              .conversations = 40,
                              .turns = 12,
                              .reminder_every = 3,
                              .kappa = 0.35,
                              .equilibrium = 2.0,
                              .start = 0.2,
                              .noise = 0.15,
                              .reminders = 0.5,
                              .reminder_effect = 0.4};
}

void al_synth_sem_defaults(al_synth_sem_params *p) {
    *p = (al_synth_sem_params){.seed = 0, .samples = 20, .noise = 0.03};
}

void al_synth_cras_defaults(al_synth_cras_params *p) {
    *p = (al_synth_cras_params){.seed = 0, .queries = 30, .records = 2, .roles = NULL, .nroles = 0};
}

al_status al_synth_kl_write(const al_synth_kl_params *p, const char *path, al_error *e) {
    char tmp[4200];
    FILE *f = al_atomic_open(path, tmp, sizeof tmp, e);
    if (!f) return e->status;
    fprintf(f, "conversation,turn,kl,intervention\n");
    int64_t nrem = (int64_t)floor(p->reminders * (double)p->conversations + 0.5);
    for (int64_t c = 0; c < p->conversations; c++) {
        al_rng g;
        al_rng_seed(&g, p->seed, (uint64_t)c);
        int rem = c < nrem;
        double E = rem ? p->equilibrium * (1 - p->reminder_effect) : p->equilibrium;
        double d = p->start + p->noise * fabs(al_rng_normal(&g));
        for (int64_t t = 1; t <= p->turns; t++) {
            int iv = rem && t % p->reminder_every == 0;
            fprintf(f, "%lld,%lld,%.9g,%d\n", (long long)c, (long long)t, d, iv);
            d = d + p->kappa * (E - d) + p->noise * al_rng_normal(&g);
            if (d < 0) d = 0;
        }
    }
    return al_atomic_close(f, tmp, path, e);
}

void al_synth_sem_planted(int d, const char **name, double *b, double *c) {
    static const char *const names[4] = {"t2t", "i2i", "t2i", "i2t"};
    static const double bs[4] = {0.12, 0.2, 0.3, 0.25}, cs[4] = {0.7, 0.55, 0.45, 0.6};
    *name = names[d];
    *b = bs[d];
    *c = cs[d];
}

al_status al_synth_sem_write(const al_synth_sem_params *p, const char *path, al_error *e) {
    char tmp[4200];
    FILE *f = al_atomic_open(path, tmp, sizeof tmp, e);
    if (!f) return e->status;
    fprintf(f, "direction,generation,sample,similarity\n");
    for (int d = 0; d < 4; d++) {
        const char *name;
        double b, c;
        al_synth_sem_planted(d, &name, &b, &c);
        for (int64_t g = d < 2 ? 2 : 1; g <= 20; g += 2)
            for (int64_t n = 0; n < p->samples; n++) {
                al_rng r;
                al_rng_seed(&r, p->seed, (uint64_t)((d * 32 + g) * 1000003 + n));
                double s = (1 - c) * exp(-b * (double)g) + c + p->noise * al_rng_normal(&r);
                s = s > 1 ? 1 : s < -1 ? -1 : s;
                fprintf(f, "%s,%lld,%lld,%.9g\n", name, (long long)g, (long long)n, s);
            }
    }
    return al_atomic_close(f, tmp, path, e);
}

/* a role name as a JSON string body: quotes and backslashes escaped, control characters dropped */
static void al_json_name(FILE *f, const char *s) {
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20) continue;
        if (*s == '"' || *s == '\\') fputc('\\', f);
        fputc(*s, f);
    }
}

static int al_score(double v) {
    double r = floor(v + 0.5);
    return r < 1 ? 1 : r > 5 ? 5 : (int)r;
}

al_status al_synth_cras_write(const al_synth_cras_params *p, const char *path, al_error *e) {
    static const char *const def_roles[] = {"mathematician", "historian", "physician", "lawyer"};
    static const double dim_bias[4] = {0.4, 0.1, -0.3, 0.0}; /* GA, RC, KBA, CC */
    const char *const *roles = p->roles ? p->roles : def_roles;
    int nroles = p->roles ? p->nroles : 4;
    char tmp[4200];
    FILE *f = al_atomic_open(path, tmp, sizeof tmp, e);
    if (!f) return e->status;
    for (int64_t q = 0; q < p->queries; q++) {
        al_rng g;
        al_rng_seed(&g, p->seed, (uint64_t)q);
        double quality = 0.8 * al_rng_normal(&g);
        for (int r = 0; r < nroles; r++) {
            double role_bias = 0.5 - (double)r * 0.3;
            for (int64_t k = 0; k < p->records; k++) {
                int s[4];
                for (int d = 0; d < 4; d++)
                    s[d] = al_score(3 + quality + role_bias + dim_bias[d] + 0.7 * al_rng_normal(&g));
                fprintf(f, "{\"query\": \"q%03lld\", \"role\": \"", (long long)q);
                al_json_name(f, roles[r]);
                fprintf(f, "\", \"GA\": %d, \"RC\": %d, \"KBA\": %d, \"CC\": %d, \"correct\": %d}\n", s[0], s[1], s[2],
                        s[3], quality > 0);
            }
        }
    }
    return al_atomic_close(f, tmp, path, e);
}
