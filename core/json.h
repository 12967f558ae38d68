/* Ownership-safe insertion into cJSON trees: cJSON_AddItemToObject and cJSON_AddItemToArray leave the item
 * to the caller when they fail (a NULL parent, or out of memory copying the key), which leaks it. */
#ifndef AL_JSON_H
#define AL_JSON_H

#include <cjson/cJSON.h>
#include <stdio.h>

/* obj[key] = item; item is owned from here on (freed when it cannot be added). 0, or -1 on failure. */
int al_json_add(cJSON *obj, const char *key, cJSON *item);
/* Appends item to arr with the same ownership rule. */
int al_json_push(cJSON *arr, cJSON *item);

/* Writes j and a newline in cJSON_Print's layout with every number exact, as the TSVs print it
 * (core/json_print.c). 0, or -1 when out of memory (nothing written then). */
int al_json_write(FILE *f, const cJSON *j);

#endif
