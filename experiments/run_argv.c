/* Building the argv of an in-process command from spec values, and calling it through the command table with
 * its stderr captured: the driver prints one line per failed unit and keeps the reason for the report. */
#include "run_argv.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/table.h"
#include "commands.h"
#include "runfs.h"

void al_arg(al_argv *a, const char *s) {
    if (a->n >= 255 || !(a->v[a->n] = al_strdup(s))) {
        a->bad = 1;
        return;
    }
    a->v[++a->n] = NULL;
}

void al_argv_free(al_argv *a) {
    for (int i = 0; i < a->n; i++)
        al_free(a->v[i]);
    a->n = 0;
}

void al_param_flags(al_argv *a, const char *canon, const cJSON *v, int ids_joined) {
    char flag[80], num[64];
    snprintf(flag, sizeof flag, "--%s", canon);
    if (cJSON_IsBool(v)) {
        if (cJSON_IsTrue(v)) al_arg(a, flag);
        return;
    }
    if (cJSON_IsArray(v) && ids_joined) {
        char list[4096] = "";
        const cJSON *x;
        cJSON_ArrayForEach(x, v) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s%lld", l ? "," : "", (long long)x->valuedouble);
        }
        al_arg(a, flag);
        al_arg(a, list);
        return;
    }
    if (cJSON_IsArray(v)) {
        const cJSON *x;
        cJSON_ArrayForEach(x, v) al_param_flags(a, canon, x, 0);
        return;
    }
    al_arg(a, flag);
    if (cJSON_IsString(v))
        al_arg(a, v->valuestring);
    else { /* integral values as integers: "9e+15" would not parse as an integer flag */
        double x = v->valuedouble;
        if (x > -9007199254740992.0 && x < 9007199254740992.0 && x == (double)(long long)x)
            snprintf(num, sizeof num, "%lld", (long long)x);
        else
            al_num_str(x, num, sizeof num);
        al_arg(a, num);
    }
}

void al_json_exact(al_buf *b, const cJSON *v) {
    char num[40];
    if (cJSON_IsNumber(v)) {
        al_num_str(v->valuedouble, num, sizeof num);
        al_buf_printf(b, "%s", num);
    } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        int obj = cJSON_IsObject(v), first = 1;
        al_buf_printf(b, obj ? "{" : "[");
        for (const cJSON *x = v->child; x; x = x->next) {
            al_buf_printf(b, first ? "" : ",");
            first = 0;
            if (obj) {
                cJSON tmp = {.type = cJSON_String, .valuestring = x->string};
                al_json_exact(b, &tmp);
                al_buf_printf(b, ":");
            }
            al_json_exact(b, x);
        }
        al_buf_printf(b, obj ? "}" : "]");
    } else {
        char *s = cJSON_PrintUnformatted(v); /* strings (escaped), true, false, null */
        if (s)
            al_buf_printf(b, "%s", s);
        else
            b->failed = 1;
        cJSON_free(s);
    }
}

/* Runs argv through the command table with stderr captured, so a failure's one error line can be kept
 * (report.md, run.json) and shown once by the driver. */
int al_run_command(al_argv *a, const char *errfile, char *errline, size_t n) {
    const al_command *c = al_commands;
    while (c->name && strcmp(c->name, a->v[0]) != 0)
        c++;
    errline[0] = 0;
    if (!c->name) {
        snprintf(errline, n, "%s: no such command in this attnlab", a->v[0]);
        return 2;
    }
    fflush(stderr);
    int saved = dup(STDERR_FILENO), fd = open(errfile, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0666);
    if (saved >= 0 && fd >= 0) dup2(fd, STDERR_FILENO);
    int rc = c->fn(a->n, a->v);
    fflush(stderr);
    if (saved >= 0 && fd >= 0) dup2(saved, STDERR_FILENO);
    if (fd >= 0) close(fd);
    if (saved >= 0) close(saved);
    al_error e;
    char *text = al_fs_read(errfile, NULL, &e);
    unlink(errfile);
    if (text && rc != 0) { /* the last "attnlab: error: " line, without the prefix */
        char *line = NULL;
        for (char *q = strstr(text, "attnlab: error: "); q; q = strstr(q + 1, "attnlab: error: "))
            line = q;
        if (line) {
            line += strlen("attnlab: error: ");
            line[strcspn(line, "\n")] = 0;
            if (!strncmp(line, "attnlab: ", 9)) line += 9; /* no file to name: the driver's line says "attnlab" */
            snprintf(errline, n, "%s", line);
        }
    }
    al_free(text);
    if (rc != 0 && !errline[0]) snprintf(errline, n, "%s exited with status %d", a->v[0], rc);
    return rc;
}
