/* JSON text of a cJSON tree in cJSON_Print's layout (tabs, "key":<tab>value, arrays on one line), except numbers:
 * cJSON prints 15 digits whenever they read back within an epsilon of the value, which can move its last bits;
 * here every number that is not an int is printed as the TSVs print it (al_num_str: 15 digits, or 17 when 15 do
 * not read back exactly), so JSON and TSV outputs carry the same bits. */
#include <math.h>
#include <stdio.h>

#include "buf.h"
#include "json.h"
#include "numtext.h"

static void al_json_string(al_buf *b, const char *s) {
    al_buf_printf(b, "\"");
    for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
        switch (*c) {
        case '"': al_buf_printf(b, "\\\""); break;
        case '\\': al_buf_printf(b, "\\\\"); break;
        case '\b': al_buf_printf(b, "\\b"); break;
        case '\f': al_buf_printf(b, "\\f"); break;
        case '\n': al_buf_printf(b, "\\n"); break;
        case '\r': al_buf_printf(b, "\\r"); break;
        case '\t': al_buf_printf(b, "\\t"); break;
        default:
            if (*c < 32)
                al_buf_printf(b, "\\u%04x", *c);
            else
                al_buf_printf(b, "%c", *c);
        }
    }
    al_buf_printf(b, "\"");
}

static void al_json_number(al_buf *b, const cJSON *j) {
    double d = j->valuedouble;
    char t[40];
    if (isnan(d) || isinf(d))
        al_buf_printf(b, "null");
    else if (d == (double)j->valueint)
        al_buf_printf(b, "%d", j->valueint);
    else {
        al_num_str(d, t, sizeof t);
        al_buf_printf(b, "%s", t);
    }
}

static void al_json_value(al_buf *b, const cJSON *j, int depth);

static void al_json_object(al_buf *b, const cJSON *j, int depth) {
    al_buf_printf(b, "{\n");
    for (const cJSON *c = j->child; c; c = c->next) {
        al_buf_printf(b, "%.*s", depth + 1, "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t");
        al_json_string(b, c->string);
        al_buf_printf(b, ":\t");
        al_json_value(b, c, depth + 1);
        al_buf_printf(b, "%s\n", c->next ? "," : "");
    }
    al_buf_printf(b, "%.*s}", depth, "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t");
}

static void al_json_value(al_buf *b, const cJSON *j, int depth) {
    switch (j->type & 0xFF) {
    case cJSON_False: al_buf_printf(b, "false"); break;
    case cJSON_True: al_buf_printf(b, "true"); break;
    case cJSON_Number: al_json_number(b, j); break;
    case cJSON_String: al_json_string(b, j->valuestring); break;
    case cJSON_Raw: al_buf_printf(b, "%s", j->valuestring ? j->valuestring : ""); break;
    case cJSON_Object: al_json_object(b, j, depth); break;
    case cJSON_Array:
        al_buf_printf(b, "[");
        for (const cJSON *c = j->child; c; c = c->next) {
            al_json_value(b, c, depth + 1);
            if (c->next) al_buf_printf(b, ", ");
        }
        al_buf_printf(b, "]");
        break;
    default: al_buf_printf(b, "null");
    }
}

int al_json_write(FILE *f, const cJSON *j) {
    al_buf b = {0};
    al_json_value(&b, j, 0);
    int bad = b.failed || !b.s;
    if (!bad) fprintf(f, "%s\n", b.s);
    al_buf_free(&b);
    return bad ? -1 : 0;
}
