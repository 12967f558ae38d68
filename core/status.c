/* Status strings, exit codes and the one-line error report of attnlab.
 * The first failure wins: callers up the stack add nothing, so the message names where it began. */
#include "status.h"

#include <stdio.h>
#include <string.h>

static const char *const al_msgs[] = {
#define AL_STATUS_MSG(name, code, msg) msg,
    AL_STATUS_MAP(AL_STATUS_MSG)
#undef AL_STATUS_MSG
};
static const char *const al_names[] = {
#define AL_STATUS_NAME(name, code, msg) "AL_" #name,
    AL_STATUS_MAP(AL_STATUS_NAME)
#undef AL_STATUS_NAME
};
static const int al_codes[] = {
#define AL_STATUS_CODE(name, code, msg) code,
    AL_STATUS_MAP(AL_STATUS_CODE)
#undef AL_STATUS_CODE
};

const char *al_strerror(al_status st) {
    return (unsigned)st < AL_STATUS_COUNT ? al_msgs[st] : "unknown status";
}

const char *al_status_name(al_status st) {
    return (unsigned)st < AL_STATUS_COUNT ? al_names[st] : "AL_?";
}

int al_exit_code(al_status st) {
    return (unsigned)st < AL_STATUS_COUNT ? al_codes[st] : 1;
}

void al_error_clear(al_error *e) {
    if (e) memset(e, 0, sizeof *e);
}

al_status al_fail(al_error *e, al_status st, const char *file, const char *dset, const char *fmt, ...) {
    if (!e || e->status != AL_OK) return st;
    e->status = st;
    if (file && dset && *dset)
        snprintf(e->where, sizeof e->where, "%s:%s", file, dset);
    else
        snprintf(e->where, sizeof e->where, "%s", file ? file : "attnlab");
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    } else {
        snprintf(e->msg, sizeof e->msg, "%s", al_strerror(st));
    }
    return st;
}

void al_error_print(const al_error *e) {
    fprintf(stderr, "attnlab: error: %s: %s\n", e->where[0] ? e->where : "attnlab", e->msg[0] ? e->msg : al_strerror(e->status));
}
