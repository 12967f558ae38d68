/* Shared plumbing of the libFuzzer targets: each input is written to one temporary file per process, so the
 * readers are exercised exactly as the program uses them (open a path, stat it, map it, read it). */
#ifndef AL_FUZZUTIL_H
#define AL_FUZZUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Writes data to this process's temporary file with the given suffix (".h5", ".csv", ...) and returns its
 * path; the file is replaced on every call and removed at exit. */
const char *al_fuzz_file(const uint8_t *data, size_t size, const char *suffix);
/* Once per process: HDF5 quiet, cJSON through al_malloc, and no OpenMP oversubscription. */
void al_fuzz_init(void);

#endif
