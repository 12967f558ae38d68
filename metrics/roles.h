/* Head roles (METRICS.md section 2): the first rule that holds among sink, previous, self, retrieval,
 * broad, else mixed. Thresholds are part of the definition, so they are constants here. */
#ifndef AL_METRICS_ROLES_H
#define AL_METRICS_ROLES_H

typedef enum { AL_ROLE_SINK, AL_ROLE_PREVIOUS, AL_ROLE_SELF, AL_ROLE_RETRIEVAL, AL_ROLE_BROAD, AL_ROLE_MIXED, AL_NROLES } al_role;

#define AL_ROLE_SINK_ALPHA0 0.3      /* sink: alpha[0] > 0.3 */
#define AL_ROLE_PREV_MIN 0.5         /* previous: prev >= 0.5 */
#define AL_ROLE_SELF_MIN 0.5         /* self: self >= 0.5 */
#define AL_ROLE_RETRIEVAL_MIN 0.35   /* retrieval: distant_mass >= 0.35 (also the DuoAttention proxy) */
#define AL_ROLE_BROAD_MIN 0.8        /* broad: entropy_norm >= 0.8 */

extern const char *const al_role_names[AL_NROLES];

/* alpha0 = mean attention to key 0 over the rows that see it (= `first`); NaN inputs fail their rule. */
al_role al_head_role(double alpha0, double prev, double self, double distant_mass, double entropy_norm);

#endif
