/* The catalogue of analyses: rows in the order of AL_ANALYSIS_LIST, every analysis a command, every command a
 * catalogue row or one that writes inputs; sinks' options generated from it with their fields and bounds; the
 * sinks statistics merge exactly (counts add, rates of a merged copy unchanged) and save and load bit for bit. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyses/catalog.h"
#include "analyses/sinks.h"
#include "experiments/commands.h"
#include "testutil.h"

Test(catalog, rows_follow_the_list) {
    for (int i = 0; i < AL_ANALYSIS_COUNT; i++) {
        cr_assert_str_eq(al_analyses[i].name, al_analysis_names[i]);
        cr_assert(al_analysis_find(al_analysis_names[i]) == &al_analyses[i]);
        cr_assert(al_analyses[i].summary && al_analyses[i].params, "%s", al_analyses[i].name);
    }
    cr_assert_null(al_analysis_find("run"));
}

Test(catalog, analyses_and_commands_agree) {
    /* commands that write inputs, drive others, or inspect a model file (gguf) */
    static const char *const writers[] = {"run", "merge", "synth", "import", "record", "stats", "gguf", NULL};
    for (int i = 0; i < AL_ANALYSIS_COUNT; i++) {
        const al_command *c = al_commands;
        while (c->name && strcmp(c->name, al_analyses[i].name) != 0)
            c++;
        cr_assert(c->name, "analysis %s has no command", al_analyses[i].name);
        cr_assert_str_eq(c->summary, al_analyses[i].summary);
    }
    for (const al_command *c = al_commands; c->name; c++) {
        int w = 0;
        for (const char *const *x = writers; *x; x++)
            w |= !strcmp(*x, c->name);
        cr_assert(w || al_analysis_find(c->name), "command %s is neither an analysis nor an input writer or tool",
                  c->name);
    }
}

Test(catalog, sinks_options_from_the_catalogue) {
    al_sinks_params p;
    al_sinks_defaults(&p);
    al_opt opts[AL_OPTS_MAX];
    int n = al_cmd_catalog_opts(&al_analyses[AL_AN_SINKS], &p, 0, opts, 0);
    cr_assert_eq(n, 5); /* from-qk is a common option */
    cr_assert_str_eq(opts[3].name, "hidden-threshold");
    cr_assert_eq(opts[3].dst, &p.hidden_threshold);
    cr_assert_eq(opts[3].kind, AL_OPT_DOUBLE);
    cr_assert_eq(opts[4].dst, &p.hidden_min_queries);
    cr_assert_eq(opts[4].kind, AL_OPT_INT);
    cr_assert(opts[4].min == 1 && opts[1].dst == &p.tokens);
    cr_assert_eq(al_cmd_catalog_opts(&al_analyses[AL_AN_SINKS], &p, 1, opts, 0), 4); /* tokens is the pass's */
    cr_assert_not_null(al_fused_param(&al_analyses[AL_AN_SINKS], "epsilon"));
    cr_assert_null(al_fused_param(&al_analyses[AL_AN_SINKS], "from-qk"));
}

Test(catalog, sinks_statistics_merge_exactly) {
    int64_t hits_a[2] = {3, 1}, hits_b[2] = {1, 0};
    double sum_a[2 * 1 * 2] = {0.5, 0.25, 1.5, 0.125}, sum_b[4] = {0.5, 0.75, 0.5, 0.875};
    al_sinks_out a = {.N = 2, .L = 2, .H = 1, .T = 2, .K = 1, .causal = 1, .hits = hits_a, .alpha_sum = sum_a};
    al_sinks_out b = {.N = 1, .L = 2, .H = 1, .T = 2, .K = 1, .causal = 1, .hits = hits_b, .alpha_sum = sum_b};
    al_sinks_defaults(&a.params);
    al_sinks_defaults(&b.params);
    al_error e;
    al_error_clear(&e);
    cr_assert_eq(al_sinks_merge(&a, &b, &e), AL_OK);
    cr_assert(a.N == 3 && hits_a[0] == 4 && hits_a[1] == 1);
    double rate[1], lrate[2], mean[2];
    al_sinks_rates(&a, rate, lrate);
    cr_assert(rate[0] == 100.0 * 5 / 6 && lrate[0] == 100.0 * 4 / 3 && lrate[1] == 100.0 / 3);
    al_sinks_head_alpha(&a, 1, 0, mean);
    cr_assert(mean[0] == 2.0 / 3 && mean[1] == 1.0 / 3);
    b.K = 2;
    cr_assert_eq(al_sinks_merge(&a, &b, &e), AL_ESHAPE);
    b.K = 1;
    b.params.epsilon = 0.5;
    cr_assert_eq(al_sinks_merge(&a, &b, &e), AL_EUSAGE);
}

Test(catalog, sinks_statistics_saved_exactly) {
    int64_t hits[2] = {3, 1};
    double sum[4] = {0.1 + 0.2, 1.0 / 3, 1e-300, 2.5};
    al_sinks_out a = {.N = 2, .L = 2, .H = 1, .T = 2, .K = 1, .causal = 1, .hits = hits, .alpha_sum = sum}, b;
    al_sinks_defaults(&a.params);
    a.params.tokens = 2, a.params.positions = 1;
    al_error e;
    al_error_clear(&e);
    char path[] = "/tmp/attnlab-sinks-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    cr_assert_eq(al_sinks_save(&a, path, &e), AL_OK);
    cr_assert_eq(al_sinks_load(path, &b, &e), AL_OK);
    cr_assert(b.N == 2 && b.hits[0] == 3 && b.hits[1] == 1 && b.params.epsilon == a.params.epsilon);
    for (int i = 0; i < 4; i++)
        cr_assert(b.alpha_sum[i] == sum[i], "alpha_sum[%d] %.17g != %.17g", i, b.alpha_sum[i], sum[i]);
    al_sinks_out_free(&b);
    FILE *f = fopen(path, "w");
    fputs("attnlab-sinks-statistics 1\nparams 0.3 2 1 0.1 16\nshape 2 2 1 2 1 1\nhits 3\n", f);
    fclose(f);
    cr_assert_eq(al_sinks_load(path, &b, &e), AL_EFORMAT); /* one count short */
    cr_assert_null(b.hits);
    remove(path);
}
