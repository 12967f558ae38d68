/* Insertion that never leaks: a failed add frees the item. A failed allocation inside cJSON is also counted
 * (core/alloc.h), so the result refuses to be emitted with the field missing. */
#include "json.h"

int al_json_add(cJSON *obj, const char *key, cJSON *item) {
    if (item && obj && cJSON_AddItemToObject(obj, key, item)) return 0;
    cJSON_Delete(item);
    return -1;
}

int al_json_push(cJSON *arr, cJSON *item) {
    if (item && arr && cJSON_AddItemToArray(arr, item)) return 0;
    cJSON_Delete(item);
    return -1;
}
