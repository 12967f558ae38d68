/* Validation helpers shared by the spec parser's files: typed field access that fails with the JSON path
 * of the offending value ("SPEC.json:steps[2].params.epsilon: expected a number"). Internal to the parser. */
#ifndef AL_SPEC_CHECK_H
#define AL_SPEC_CHECK_H

#include <cjson/cJSON.h>

#include "spec.h"

/* Fails with AL_EUSAGE at "FILE:JPATH". */
al_status al_spec_bad(const al_spec *s, al_error *e, const char *jpath, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Every key of obj must be one of the NULL-terminated allowed names. */
al_status al_spec_keys(const al_spec *s, const cJSON *obj, const char *jpath, const char *const *allowed, al_error *e);
/* Optional string field: *out = NULL when absent. */
al_status al_spec_str(const al_spec *s, const cJSON *obj, const char *key, const char *jpath, const char **out,
                      al_error *e);
/* A name usable as a folder: [A-Za-z0-9_.-], 1..40 characters, not starting with '.'. */
int al_spec_name_ok(const char *name);
/* Validates a parameter object against defs (NULL: any scalar or list of scalars); what names the owner
 * ("sinks", "synth maps") in messages. */
al_status al_spec_params(const al_spec *s, const cJSON *params, const al_pdef *defs, const char *what,
                         const char *jpath, al_error *e);
/* Parses "figures" and "report". */
al_status al_spec_figures(al_spec *s, const cJSON *figs, al_error *e);
al_status al_spec_report(al_spec *s, const cJSON *rep, al_error *e);

#endif
