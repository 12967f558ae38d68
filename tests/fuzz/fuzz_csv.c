/* libFuzzer target: the tabular readers on the same bytes: the generic CSV reader with typed cells,
 * per-turn KL values (CSV or JSON Lines), semantic-drift similarities, DuoAttention gate TSVs, and
 * conversation files of token ids. */
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "datasets/csv.h"
#include "datasets/gates.h"
#include "datasets/similarity.h"
#include "datasets/token_ids.h"
#include "datasets/turns.h"
#include "fuzzutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    al_fuzz_init();
    const char *path = al_fuzz_file(data, size, ".csv");
    al_error e;
    al_error_clear(&e);
    al_csv c;
    memset(&c, 0, sizeof c);
    if (al_csv_read(path, &c, &e) == AL_OK) {
        for (int64_t r = 0; r < c.nrows && r < 64; r++)
            for (int k = 0; k < c.ncols; k++) {
                double v;
                int64_t i;
                al_error_clear(&e);
                al_csv_double(&c, r, k, &v, &e);
                al_error_clear(&e);
                al_csv_int(&c, r, k, &i, &e);
            }
        al_csv_free(&c);
    }
    al_error_clear(&e);
    al_turn_series t;
    memset(&t, 0, sizeof t);
    if (al_turns_read(path, &t, &e) == AL_OK) al_turns_free(&t);
    al_error_clear(&e);
    al_similarities s;
    memset(&s, 0, sizeof s);
    if (al_similarities_read_csv(path, &s, &e) == AL_OK) al_similarities_free(&s);
    al_error_clear(&e);
    al_gates g;
    memset(&g, 0, sizeof g);
    if (al_gates_read(path, &g, &e) == AL_OK) al_gates_free(&g);
    al_error_clear(&e);
    al_convs cv;
    memset(&cv, 0, sizeof cv);
    if (al_convs_read(path, 512, &cv, &e) == AL_OK) al_convs_free(&cv);
    int32_t *ids = NULL;
    char why[256];
    size_t n = size < 4096 ? size : 4096;
    if (al_ids_parse((const char *)data, n, 512, &ids, why, sizeof why) >= 0) al_free(ids);
    return 0;
}
