/* Status codes and error context of every libattnlab call. One X-macro list generates the enum and its messages;
 * errors carry the file and dataset they concern. A call never exits or prints: it returns a status and fills
 * an al_error. */
#ifndef ATTNLAB_STATUS_H
#define ATTNLAB_STATUS_H

#include "export.h"

/* name, exit code of the attnlab program, default message */
#define AL_STATUS_MAP(X)                                                                                               \
    X(OK, 0, "success")                                                                                                \
    X(EUSAGE, 2, "bad usage")                                                                                          \
    X(ENOENT, 2, "no such file")                                                                                       \
    X(EIO, 2, "cannot read")                                                                                           \
    X(EFORMAT, 2, "unsupported or malformed file")                                                                     \
    X(ESHAPE, 2, "wrong rank or shape")                                                                                \
    X(EDTYPE, 2, "unsupported data type")                                                                              \
    X(EVALUE, 2, "bad value in data")                                                                                  \
    X(ERANGE, 2, "value out of range")                                                                                 \
    X(ENOMEM, 1, "out of memory")                                                                                      \
    X(EWRITE, 1, "cannot write output")                                                                                \
    X(ENODEV, 2, "device not available")                                                                               \
    X(EINTERNAL, 1, "internal failure")

typedef enum {
#define AL_STATUS_ENUM(name, code, msg) AL_##name,
    AL_STATUS_MAP(AL_STATUS_ENUM)
#undef AL_STATUS_ENUM
        AL_STATUS_COUNT
} al_status;

/* Where and why something failed. */
typedef struct {
    al_status status;
    char where[1024]; /* FILE or FILE:DATASET or a parameter name */
    char msg[1024];
} al_error;

AL_API const char *al_strerror(al_status st);
AL_API const char *al_status_name(al_status st);
AL_API void al_error_clear(al_error *e);

#endif
