/* libFuzzer target: the CRAS inputs, the judge's scores.json and JSON Lines (one reader tells them apart),
 * the per-role weights JSON and the per-query correctness CSV, each on the same bytes. */
#include <stdint.h>
#include <string.h>

#include "datasets/cras_scores.h"
#include "datasets/cras_weights.h"
#include "fuzzutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    al_fuzz_init();
    const char *path = al_fuzz_file(data, size, ".json");
    al_error e;
    al_error_clear(&e);
    al_cras_data d;
    memset(&d, 0, sizeof d);
    if (al_cras_read(path, &d, &e) == AL_OK) {
        al_error_clear(&e);
        al_cras_read_correct(path, &d, &e);
        al_cras_free(&d);
    }
    al_error_clear(&e);
    al_cras_weights w;
    al_cras_weights_equal(&w);
    if (al_cras_weights_read(path, &w, &e) == AL_OK) {
        al_cras_weights_for(&w, "assistant");
        al_cras_weights_free(&w);
    }
    /* the --weights flag's own little language, on the first line */
    char spec[256];
    size_t n = size < sizeof spec - 1 ? size : sizeof spec - 1;
    memcpy(spec, data, n);
    spec[n] = 0;
    al_error_clear(&e);
    al_cras_weights_equal(&w);
    if (al_cras_weights_parse(spec, &w, &e) == AL_OK) al_cras_weights_free(&w);
    return 0;
}
