/* libFuzzer target: experiment specs (`attnlab run SPEC.json`), parsed and validated from a file, then the
 * same text through the in-memory parser that `merge` uses. Nothing is resolved: no file is read or made. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "experiments/spec.h"
#include "fuzzutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    al_fuzz_init();
    const char *path = al_fuzz_file(data, size, ".json");
    al_error e;
    al_error_clear(&e);
    al_spec *s = NULL;
    if (al_spec_load(path, &s, &e) == AL_OK) al_spec_free(s);
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    al_error_clear(&e);
    s = NULL;
    if (al_spec_parse(text, "fuzz.json", "/nonexistent", &s, &e) == AL_OK) al_spec_free(s);
    free(text);
    return 0;
}
