/* JSON output: al_json_write has cJSON_Print's layout byte for byte (objects, arrays, nesting, escapes,
 * integers) and prints every other number exactly, where cJSON's 15 digits can lose the last bits. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "testutil.h"

static char *written(const cJSON *j) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    cr_assert_eq(al_json_write(f, j), 0);
    fclose(f);
    return buf;
}

Test(json, layout_of_cjson_print) {
    cJSON *o = cJSON_Parse("{\"a\": 1, \"b\": [1, 2, {\"c\": \"x\\ty\\\"z\\u0001\", \"d\": []}], \"e\": {}, "
                           "\"f\": {\"g\": [true, false, null, -3, 0.5, 1e300]}, \"h\": \"\"}");
    cr_assert_not_null(o);
    char *mine = written(o), *ref = cJSON_Print(o);
    cr_assert_not_null(ref);
    size_t n = strlen(ref);
    cr_assert(strlen(mine) == n + 1 && !strncmp(mine, ref, n) && mine[n] == '\n', "mine:\n%s\ncJSON:\n%s", mine, ref);
    free(mine);
    cJSON_free(ref);
    cJSON_Delete(o);
}

Test(json, numbers_exact) {
    double v = 0.1 + 0.2; /* 0.30000000000000004: cJSON's epsilon test takes "0.3" */
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, cJSON_CreateNumber(v));
    cJSON_AddItemToArray(a, cJSON_CreateNumber(1.0 / 3));
    cJSON_AddItemToArray(a, cJSON_CreateNumber(12));
    char *mine = written(a);
    cr_assert_str_eq(mine, "[0.30000000000000004, 0.33333333333333331, 12]\n");
    cr_assert(strtod(mine + 1, NULL) == v);
    free(mine);
    cJSON_Delete(a);
}
