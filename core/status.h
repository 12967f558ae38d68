/* Status codes and error context shared by every layer of attnlab.
 * One X-macro list generates the enum and its messages; errors carry the file and dataset they concern. */
#ifndef AL_STATUS_H
#define AL_STATUS_H

#include <stdarg.h>

/* name, exit code, default message */
#define AL_STATUS_MAP(X)                                         \
    X(OK, 0, "success")                                          \
    X(EUSAGE, 2, "bad usage")                                    \
    X(ENOENT, 2, "no such file")                                 \
    X(EIO, 2, "cannot read")                                     \
    X(EFORMAT, 2, "unsupported or malformed file")               \
    X(ESHAPE, 2, "wrong rank or shape")                          \
    X(EDTYPE, 2, "unsupported data type")                        \
    X(EVALUE, 2, "bad value in data")                            \
    X(ERANGE, 2, "value out of range")                           \
    X(ENOMEM, 1, "out of memory")                                \
    X(EWRITE, 1, "cannot write output")                          \
    X(ENODEV, 2, "device not available")                         \
    X(EINTERNAL, 1, "internal failure")

typedef enum {
#define AL_STATUS_ENUM(name, code, msg) AL_##name,
    AL_STATUS_MAP(AL_STATUS_ENUM)
#undef AL_STATUS_ENUM
        AL_STATUS_COUNT
} al_status;

/* Where and why something failed; filled by al_fail, printed once by the program. */
typedef struct {
    al_status status;
    char where[1024]; /* FILE or FILE:DATASET or a flag name */
    char msg[1024];
} al_error;

const char *al_strerror(al_status st);
const char *al_status_name(al_status st);
int al_exit_code(al_status st);

/* Records the first failure in e (later ones are kept out) and returns st. file and dset may be NULL. */
al_status al_fail(al_error *e, al_status st, const char *file, const char *dset, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void al_error_clear(al_error *e);
/* "attnlab: error: WHERE: MSG" on stderr. */
void al_error_print(const al_error *e);

#endif
