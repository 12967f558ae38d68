/* Status codes and error context shared by every layer of attnlab.
 * One X-macro list generates the enum and its messages; errors carry the file and dataset they concern. */
#ifndef AL_STATUS_H
#define AL_STATUS_H

#include <stdarg.h>

#include "attnlab/status.h" /* the X-macro list, al_status, al_error */

int al_exit_code(al_status st);

/* Records the first failure in e (later ones are kept out) and returns st. file and dset may be NULL. */
al_status al_fail(al_error *e, al_status st, const char *file, const char *dset, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* "attnlab: error: WHERE: MSG" on stderr. */
void al_error_print(const al_error *e);

#endif
