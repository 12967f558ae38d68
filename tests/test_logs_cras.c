/* CRAS (METRICS.md section 6) on a worked example in both input formats, role weights, the seeded bootstrap,
 * correlations as scipy computes them, and reader messages that name query, role and record. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analyses/cras.h"
#include "metrics/corr.h"
#include "testutil.h"

/* q1: role A records (5,4,3,4) -> 4 and (3,3,3,3) -> 3, mean 3.5; role B (1,2,3,4) -> 2.5; q1 = 3.
 * q2: role A (5,5,5,5) -> 5; q2 = 5. CRAS = 4; role A = 4.25 (n 2), B = 2.5 (n 1);
 * GA = 3.75, RC = 3.875, KBA = 4, CC = 4.375. */
static const char *worked_json =
    "{\"q1\": {\"A\": [{\"GA\": {\"score\": 5, \"justification\": \"x\"}, \"RC\": {\"score\": 4}, \"KBA\": {\"score\": 3}, \"CC\": {\"score\": 4}},\n"
    "                {\"GA\": {\"score\": 3}, \"RC\": {\"score\": 3}, \"KBA\": {\"score\": 3}, \"CC\": {\"score\": \"3\"}}],\n"
    "         \"B\": [{\"GA\": {\"score\": 1}, \"RC\": {\"score\": 2}, \"KBA\": {\"score\": 3}, \"CC\": {\"score\": 4}}]},\n"
    " \"q2\": {\"A\": [{\"GA\": {\"score\": 5}, \"RC\": {\"score\": 5}, \"KBA\": {\"score\": 5}, \"CC\": {\"score\": 5}}]}}\n";

static const char *worked_jsonl =
    "{\"query\": \"q1\", \"role\": \"A\", \"GA\": 5, \"RC\": 4, \"KBA\": 3, \"CC\": 4, \"correct\": 0}\n"
    "{\"query\": \"q2\", \"role\": \"A\", \"GA\": 5, \"RC\": 5, \"KBA\": 5, \"CC\": 5, \"correct\": 1}\n"
    "{\"query\": \"q1\", \"role\": \"B\", \"GA\": 1, \"RC\": 2, \"KBA\": 3, \"CC\": 4}\n"
    "\n"
    "{\"query\": \"q1\", \"role\": \"A\", \"GA\": 3, \"RC\": 3, \"KBA\": 3, \"CC\": 3}\n";

static const char *write_tmp(const char *name, const char *text) {
    static char path[8][300];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 300, "%s/%s", al_test_tmpdir(), name);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
    return p;
}

static void check_worked(const al_cras_data *d, const al_cras_est *o) {
    cr_assert_eq(o->nq, 2);
    cr_assert_eq(d->nrec, 4);
    cr_assert(al_close_rel(o->cras, 4.0, 1e-15, 0), "cras %.17g", o->cras);
    cr_assert(al_close_rel(o->query[0], 3.0, 1e-15, 0) && al_close_rel(o->query[1], 5.0, 1e-15, 0));
    const double dims[4] = {3.75, 3.875, 4.0, 4.375};
    for (int k = 0; k < 4; k++) cr_assert(al_close_rel(o->dims[k], dims[k], 1e-15, 0), "dimension %d", k);
    cr_assert_str_eq(d->roles.s[0], "A");
    cr_assert(al_close_rel(o->role[0], 4.25, 1e-15, 0) && o->role_n[0] == 2);
    cr_assert(al_close_rel(o->role[1], 2.5, 1e-15, 0) && o->role_n[1] == 1);
}

Test(cras, worked_example_both_formats) {
    al_error e;
    const char *paths[2] = {write_tmp("scores.json", worked_json), write_tmp("scores.jsonl", worked_jsonl)};
    for (int k = 0; k < 2; k++) {
        al_error_clear(&e);
        al_cras_data d;
        al_cras_est o;
        al_cras_weights w;
        al_cras_weights_equal(&w);
        cr_assert_eq(al_cras_read(paths[k], &d, &e), AL_OK, "%s", e.msg);
        cr_assert_eq(al_cras_estimate(&d, &w, &o, &e), AL_OK);
        check_worked(&d, &o);
        cr_assert_eq(d.has_correct, k == 1);
        if (k == 1) cr_assert(d.correct[0] == 0 && d.correct[1] == 1);
        al_cras_est_free(&o);
        al_cras_free(&d);
    }
}

Test(cras, role_weights) {
    al_error e;
    al_error_clear(&e);
    al_cras_data d;
    al_cras_est o;
    al_cras_weights w;
    /* role B weighs GA 3: its record (1,2,3,4) -> (3 + 2 + 3 + 4) / 6 = 2; q1 = 2.75; CRAS = 3.875 */
    const char *wf = write_tmp("w.json", "{\"roles\": {\"B\": {\"GA\": 3, \"RC\": 1, \"KBA\": 1, \"CC\": 1}}}");
    cr_assert_eq(al_cras_weights_read(wf, &w, &e), AL_OK, "%s", e.msg);
    cr_assert_eq(al_cras_read(write_tmp("s.json", worked_json), &d, &e), AL_OK);
    cr_assert_eq(al_cras_estimate(&d, &w, &o, &e), AL_OK);
    cr_assert(al_close_rel(o.cras, 3.875, 1e-15, 0), "cras %.17g", o.cras);
    cr_assert(al_close_rel(o.role[1], 2.0, 1e-15, 0));
    /* the dimensions ignore weights */
    cr_assert(al_close_rel(o.dims[0], 3.75, 1e-15, 0));
    al_cras_est_free(&o);
    al_cras_weights_free(&w);
    /* --weights: all four, numbers >= 0, positive sum */
    cr_assert_eq(al_cras_weights_parse("GA=2,RC=1,KBA=0,CC=1", &w, &e), AL_OK);
    cr_assert(w.def[0] == 2 && w.def[2] == 0);
    const char *badw[] = {"GA=1,RC=1,KBA=1", "GA=1,RC=1,KBA=1,CC=-1", "GA=1,RC=1,KBA=1,XX=1", "GA=0,RC=0,KBA=0,CC=0",
                          "GA=1,GA=1,KBA=1,CC=1", "GA=1,RC=1,KBA=1,CC=x", "GA=1,RC=1,KBA=1,CC=1,"};
    for (size_t k = 0; k < sizeof badw / sizeof *badw; k++) {
        al_error_clear(&e);
        cr_assert_eq(al_cras_weights_parse(badw[k], &w, &e), AL_EUSAGE, "accepted %s", badw[k]);
    }
    al_cras_free(&d);
}

Test(cras, bootstrap_is_seeded_and_contains_the_estimate) {
    al_error e;
    al_error_clear(&e);
    al_cras_data d;
    al_cras_est o;
    al_cras_weights w;
    al_cras_weights_equal(&w);
    cr_assert_eq(al_cras_read(write_tmp("s.json", worked_json), &d, &e), AL_OK);
    cr_assert_eq(al_cras_estimate(&d, &w, &o, &e), AL_OK);
    al_cras_params p = {300, 4};
    double ci[2], ci2[2], dci[8], dci2[8], rci[4], rci2[4];
    cr_assert_eq(al_cras_bootstrap(&d, &o, &p, ci, dci, rci, &e), AL_OK);
    cr_assert_eq(al_cras_bootstrap(&d, &o, &p, ci2, dci2, rci2, &e), AL_OK);
    cr_assert(!memcmp(ci, ci2, sizeof ci) && !memcmp(dci, dci2, sizeof dci) && !memcmp(rci, rci2, sizeof rci));
    /* two queries with values 3 and 5: resample means are 3, 4 or 5 */
    cr_assert(ci[0] >= 3 && ci[0] <= 4 && ci[1] >= 4 && ci[1] <= 5, "ci [%g, %g]", ci[0], ci[1]);
    cr_assert(ci[0] <= o.cras && o.cras <= ci[1]);
    /* role B appears in q1 only: its resamples always give 2.5 when q1 is drawn */
    cr_assert(rci[2] == 2.5 && rci[3] == 2.5);
    al_cras_est_free(&o);
    al_cras_free(&d);
}

Test(cras, reader_messages_name_query_role_record) {
    struct {
        const char *text, *needle;
    } bad[] = {
        {"{\"q1\": {\"A\": [{\"GA\": {\"score\": 5}, \"RC\": {\"score\": 4}, \"KBA\": {\"score\": 3}, \"CC\": {\"score\": 4}},"
         " {\"GA\": {\"score\": 7.5}, \"RC\": {\"score\": 4}, \"KBA\": {\"score\": 3}, \"CC\": {\"score\": 4}}]}}",
         "query \"q1\", role \"A\", record 1: GA score 7.5 is outside 1..5"},
        {"{\"q1\": {\"A\": [{\"GA\": {\"score\": 5}, \"RC\": {\"score\": 4}, \"CC\": {\"score\": 4}}]}}",
         "query \"q1\", role \"A\", record 0: dimension KBA is missing"},
        {"{\"q1\": {\"A\": [{\"GA\": {\"score\": 0.5}, \"RC\": {\"score\": 4}, \"KBA\": {\"score\": 3}, \"CC\": {\"score\": 4}}]}}",
         "GA score 0.5 is outside 1..5"},
        {"{\"q1\": {\"A\": [{\"GA\": {\"score\": \"good\"}, \"RC\": {\"score\": 4}, \"KBA\": {\"score\": 3}, \"CC\": {\"score\": 4}}]}}",
         "GA score is a string, not a number"},
        {"{\"q1\": {\"A\": [ {\"GA\": ", "truncated"},
        {"{\"q1\": {\"A\": []}}", "non-empty list"},
        {"{\"query\": \"q1\", \"role\": \"A\", \"GA\": 5, \"RC\": 4, \"KBA\": 3, \"CC\": 9}\n", "line 1 (query \"q1\", role \"A\"): CC score 9"},
        {"{\"query\": \"q1\", \"role\": \"A\", \"GA\": 5, \"RC\": 4, \"KBA\": 3, \"CC\": 2}\n{\"query\": \"q1\", \"ro", "line 2"},
        {"{\"query\": \"q1\", \"role\": \"A\", \"GA\": 5, \"RC\": 4, \"KBA\": 3, \"CC\": 2, \"correct\": 1}\n"
         "{\"query\": \"q1\", \"role\": \"B\", \"GA\": 5, \"RC\": 4, \"KBA\": 3, \"CC\": 2, \"correct\": 0}\n",
         "line 2 (query \"q1\", role \"B\"): 'correct' is 0 here but 1"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        al_error e;
        al_error_clear(&e);
        al_cras_data d;
        al_status st = al_cras_read(write_tmp("bad.json", bad[k].text), &d, &e);
        cr_assert(st != AL_OK && al_exit_code(st) == 2, "case %zu accepted", k);
        cr_assert(strstr(e.msg, bad[k].needle), "case %zu: message '%s' lacks '%s'", k, e.msg, bad[k].needle);
    }
}

Test(corr, pearson_and_spearman_as_scipy) {
    double x[5] = {1, 2, 3, 4, 5}, y[5] = {5, 6, 7, 8, 7}, wd[16];
    int64_t wi[8];
    cr_assert(al_close_rel(al_pearson(x, y, 5), 0.8320502943378436, 1e-14, 0));
    cr_assert(al_close_rel(al_spearman(x, y, 5, wd, wi), 0.8207826816681233, 1e-14, 0));
    double a[8] = {3, 1, 4, 1, 5, 9, 2, 6}, b[8] = {2, 7, 1, 8, 2, 8, 1, 8};
    cr_assert(al_close_rel(al_spearman(a, b, 8, wd, wi), 0.19885368120992467, 1e-14, 0));
    double c[3] = {1, 1, 1};
    cr_assert(isnan(al_pearson(c, x, 3)) && isnan(al_pearson(x, y, 1)));
}
