/* Reader of precomputed per-turn KL values. Rows may come in any order; conversations are sorted the way
 * numpy.unique sorts their ids (numbers numerically, otherwise as strings) so tables match the reference. */
#include "turns.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/cli.h"
#include "csv.h"
#include "strtab.h"
#include "textio.h"

al_status al_turns_alloc(al_turn_series *s, int64_t n, int64_t nconv, al_error *e) {
    memset(s, 0, sizeof *s);
    s->n = n;
    s->nconv = nconv;
    s->conv = al_malloc((size_t)n + 1, sizeof *s->conv);
    s->turn = al_malloc((size_t)n + 1, sizeof *s->turn);
    s->d = al_malloc((size_t)n + 1, sizeof *s->d);
    s->conv_name = al_calloc((size_t)nconv + 1, sizeof *s->conv_name);
    s->conv_intervention = al_calloc((size_t)nconv + 1, 1);
    if (!s->conv || !s->turn || !s->d || !s->conv_name || !s->conv_intervention) {
        al_turns_free(s);
        return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory for per-turn values");
    }
    return AL_OK;
}

void al_turns_free(al_turn_series *s) {
    for (int64_t c = 0; s->conv_name && c < s->nconv; c++) al_free(s->conv_name[c]);
    al_free(s->conv);
    al_free(s->turn);
    al_free(s->d);
    al_free(s->conv_name);
    al_free(s->conv_intervention);
    memset(s, 0, sizeof *s);
}

/* One parsed row before grouping. */
typedef struct {
    int64_t conv, turn, line;
    double kl;
    int iv; /* -1 absent */
} al_trow;

typedef struct {
    al_strtab names;
    al_trow *rows;
    int64_t n, cap;
    int any_iv;
} al_tacc;

static al_status al_tpush(al_tacc *a, const char *path, const char *conv, int64_t turn, double kl, int iv, int64_t line,
                          al_error *e) {
    if (a->n == a->cap) {
        int64_t nc = a->cap ? 2 * a->cap : 1024;
        al_trow *nr = al_realloc(a->rows, (size_t)nc, sizeof *nr);
        if (!nr) return al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
        a->rows = nr;
        a->cap = nc;
    }
    int64_t c = al_strtab_intern(&a->names, conv, NULL);
    if (c < 0) return al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
    a->rows[a->n++] = (al_trow){c, turn, line, kl, iv};
    if (iv >= 0) a->any_iv = 1;
    return AL_OK;
}

static al_status al_read_csv_rows(const char *path, al_tacc *a, al_error *e) {
    al_csv c;
    if (al_csv_read(path, &c, e) != AL_OK) return e->status;
    static const char *const need[] = {"conversation", "turn", "kl"};
    int col[3];
    int civ = al_csv_col(&c, "intervention");
    al_status st = al_csv_need(&c, need, 3, col, e);
    for (int64_t r = 0; st == AL_OK && r < c.nrows; r++) {
        int64_t turn, iv = -1;
        double kl;
        const char *conv = al_csv_cell(&c, r, col[0]);
        if (!*conv) st = al_fail(e, AL_EVALUE, path, NULL, "line %lld, column 'conversation': empty", (long long)c.line[r]);
        if (st == AL_OK) st = al_csv_int(&c, r, col[1], &turn, e);
        if (st == AL_OK) st = al_csv_double(&c, r, col[2], &kl, e);
        if (st == AL_OK && civ >= 0) {
            st = al_csv_int(&c, r, civ, &iv, e);
            if (st == AL_OK && iv != 0 && iv != 1)
                st = al_fail(e, AL_EVALUE, path, NULL, "line %lld, column 'intervention': %lld (expected 0 or 1)", (long long)c.line[r], (long long)iv);
        }
        if (st == AL_OK) st = al_tpush(a, path, conv, turn, kl, (int)iv, c.line[r], e);
    }
    al_csv_free(&c);
    return st;
}

/* An integral JSON number (within +-2^53) into v. */
static int al_json_int(const cJSON *j, int64_t *v) {
    if (!cJSON_IsNumber(j)) return 0;
    double x = j->valuedouble;
    if (!(fabs(x) <= 9007199254740992.0) || x != floor(x)) return 0;
    *v = (int64_t)x;
    return 1;
}

static al_status al_jsonl_bad(const char *path, const cJSON *o, long long ln, size_t stop, int cut, al_error *e) {
    if (!o && stop == AL_JSON_NOMEM) return al_fail(e, AL_ENOMEM, path, NULL, "out of memory parsing line %lld", ln);
    if (o) return al_fail(e, AL_EFORMAT, path, NULL, "line %lld: expected a JSON object, found %s", ln, al_json_kind(o));
    return al_fail(e, AL_EFORMAT, path, NULL, "line %lld: malformed JSON at column %lld%s", ln, (long long)stop + 1,
                   cut ? " (the last line has no end: truncated file?)" : "");
}

static al_status al_read_jsonl_rows(const char *path, al_tacc *a, al_error *e) {
    char *buf;
    size_t len;
    if (al_read_text(path, &buf, &len, e) != AL_OK) return e->status;
    al_lines it;
    al_lines_init(&it, buf);
    al_status st = AL_OK;
    char *s;
    while (st == AL_OK && (s = al_lines_next(&it, &len))) {
        size_t stop = 0;
        long long ln = (long long)it.line;
        cJSON *o = al_json_parse(s, len, &stop);
        if (!o || !cJSON_IsObject(o)) {
            st = al_jsonl_bad(path, o, ln, stop, al_lines_unterminated(&it), e);
            cJSON_Delete(o);
            break;
        }
        const cJSON *jc = cJSON_GetObjectItemCaseSensitive(o, "conversation");
        const cJSON *jt = cJSON_GetObjectItemCaseSensitive(o, "turn");
        const cJSON *jk = cJSON_GetObjectItemCaseSensitive(o, "kl");
        const cJSON *ji = cJSON_GetObjectItemCaseSensitive(o, "intervention");
        char num[32];
        const char *conv = NULL;
        int64_t turn = 0, ic;
        int iv = -1;
        if (!jc || !jt || !jk)
            st = al_fail(e, AL_EFORMAT, path, NULL, "line %lld: no field '%s' (fields: conversation, turn, kl[, intervention])", ln,
                         !jc ? "conversation" : !jt ? "turn" : "kl");
        else if (cJSON_IsString(jc) && jc->valuestring[0])
            conv = jc->valuestring;
        else if (al_json_int(jc, &ic)) {
            snprintf(num, sizeof num, "%lld", (long long)ic);
            conv = num;
        } else
            st = al_fail(e, AL_EVALUE, path, NULL, "line %lld, field 'conversation': expected an integer or a name, found %s", ln, al_json_kind(jc));
        if (st == AL_OK && !al_json_int(jt, &turn))
            st = al_fail(e, AL_EVALUE, path, NULL, "line %lld, field 'turn': expected an integer, found %s", ln, al_json_kind(jt));
        if (st == AL_OK && !(cJSON_IsNumber(jk) && isfinite(jk->valuedouble)))
            st = al_fail(e, AL_EVALUE, path, NULL, "line %lld, field 'kl': expected a finite number, found %s", ln, al_json_kind(jk));
        if (st == AL_OK && ji && !cJSON_IsNull(ji)) {
            if (cJSON_IsBool(ji)) iv = cJSON_IsTrue(ji);
            else if (al_json_int(ji, &ic) && (ic == 0 || ic == 1)) iv = (int)ic;
            else st = al_fail(e, AL_EVALUE, path, NULL, "line %lld, field 'intervention': expected 0 or 1, found %s", ln, al_json_kind(ji));
        }
        if (st == AL_OK) st = al_tpush(a, path, conv, turn, jk->valuedouble, iv, it.line, e);
        cJSON_Delete(o);
    }
    al_free(buf);
    return st;
}

/* Sort keys: conversation rank (numeric when every id is an integer), then turn. */
typedef struct {
    const al_strtab *names;
    const int64_t *num; /* [nconv] numeric ids, or NULL */
    const int64_t *rank;
} al_tsort;

static int al_conv_cmp(const void *x, const void *y, void *ctx) {
    const al_tsort *k = ctx;
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    if (k->num) return (k->num[a] > k->num[b]) - (k->num[a] < k->num[b]);
    return strcmp(k->names->s[a], k->names->s[b]);
}

static int al_row_cmp(const void *x, const void *y, void *ctx) {
    const al_tsort *k = ctx;
    const al_trow *a = x, *b = y;
    int64_t ra = k->rank[a->conv], rb = k->rank[b->conv];
    if (ra != rb) return (ra > rb) - (ra < rb);
    if (a->turn != b->turn) return (a->turn > b->turn) - (a->turn < b->turn);
    return (a->line > b->line) - (a->line < b->line);
}

al_status al_turns_read(const char *path, al_turn_series *s, al_error *e) {
    memset(s, 0, sizeof *s);
    char *buf;
    size_t len;
    if (al_read_text(path, &buf, &len, e) != AL_OK) return e->status;
    int jsonl = al_first_char(buf) == '{';
    al_free(buf);
    al_tacc a = {0};
    al_status st = jsonl ? al_read_jsonl_rows(path, &a, e) : al_read_csv_rows(path, &a, e);
    int64_t C = a.names.n;
    int64_t *order = NULL, *rank = NULL, *num = NULL;
    if (st == AL_OK && a.n == 0) st = al_fail(e, AL_EFORMAT, path, NULL, "no rows of per-turn values");
    if (st == AL_OK) {
        order = al_malloc((size_t)C, sizeof *order);
        rank = al_malloc((size_t)C, sizeof *rank);
        num = al_malloc((size_t)C, sizeof *num);
        if (!order || !rank || !num) st = al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
    }
    if (st == AL_OK) {
        int numeric = 1;
        for (int64_t c = 0; c < C; c++) {
            order[c] = c;
            numeric &= al_parse_int_str(a.names.s[c], &num[c]) == 0;
        }
        al_tsort k = {&a.names, numeric ? num : NULL, rank};
        qsort_r(order, (size_t)C, sizeof *order, al_conv_cmp, &k);
        for (int64_t r = 0; r < C; r++) rank[order[r]] = r;
        qsort_r(a.rows, (size_t)a.n, sizeof *a.rows, al_row_cmp, &k);
        for (int64_t i = 1; st == AL_OK && i < a.n; i++)
            if (a.rows[i].conv == a.rows[i - 1].conv && a.rows[i].turn == a.rows[i - 1].turn)
                st = al_fail(e, AL_EVALUE, path, NULL, "line %lld: conversation %s, turn %lld already given on line %lld",
                             (long long)a.rows[i].line, a.names.s[a.rows[i].conv], (long long)a.rows[i].turn,
                             (long long)a.rows[i - 1].line);
    }
    if (st == AL_OK) st = al_turns_alloc(s, a.n, C, e);
    if (st == AL_OK) {
        s->has_intervention = a.any_iv;
        for (int64_t c = 0; c < C; c++) {
            s->conv_name[rank[c]] = a.names.s[c];
            a.names.s[c] = NULL;
        }
        for (int64_t i = 0; i < a.n; i++) {
            int64_t c = rank[a.rows[i].conv];
            s->conv[i] = c;
            s->turn[i] = a.rows[i].turn;
            s->d[i] = a.rows[i].kl;
            if (a.rows[i].iv == 1) s->conv_intervention[c] = 1;
        }
    }
    al_strtab_free(&a.names);
    al_free(a.rows);
    al_free(order);
    al_free(rank);
    al_free(num);
    return st;
}
