/* The role rules of METRICS.md section 2, in their order of precedence. Comparisons are in double on the
 * per-head means (not float32-rounded like the sink rate, whose rule mimics the reference tensors). */
#include "roles.h"

const char *const al_role_names[AL_NROLES] = {"sink", "previous", "self", "retrieval", "broad", "mixed"};

al_role al_head_role(double alpha0, double prev, double self, double distant_mass, double entropy_norm) {
    if (alpha0 > AL_ROLE_SINK_ALPHA0) return AL_ROLE_SINK;
    if (prev >= AL_ROLE_PREV_MIN) return AL_ROLE_PREVIOUS;
    if (self >= AL_ROLE_SELF_MIN) return AL_ROLE_SELF;
    if (distant_mass >= AL_ROLE_RETRIEVAL_MIN) return AL_ROLE_RETRIEVAL;
    if (entropy_norm >= AL_ROLE_BROAD_MIN) return AL_ROLE_BROAD;
    return AL_ROLE_MIXED;
}
