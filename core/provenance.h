/* Provenance of every output: program version and git hash, command line, inputs' fingerprints, parameters.
 * Produces the first four keys of each JSON document and the '#' header lines of each TSV. */
#ifndef AL_PROVENANCE_H
#define AL_PROVENANCE_H

#include <cjson/cJSON.h>

#include <stdio.h>

#include "attnlab/version.h" /* al_version */
#include "status.h"

const char *al_git_hash(void); /* short hash at build time or "unknown" */

/* {"path", "size", "mtime", "fingerprint"[, "sha256"]}: fingerprint = sha256(size as 8 little-endian bytes,
 * first MiB, last MiB). full adds the whole file's sha256. */
cJSON *al_input_json(const char *path, int full, al_error *e);

/* {"attnlab_version", "command", "inputs", "params"}; takes ownership of params. */
cJSON *al_provenance(const char *command, int argc, char **argv, const char *const *inputs, int ninputs,
                     cJSON *params, int full_hash, al_error *e);
/* "# key: value" lines for TSV headers. */
int al_provenance_tsv(const cJSON *prov, FILE *f); /* -1 (nothing written) when out of memory */

#endif
