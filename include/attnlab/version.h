/* The library's version. */
#ifndef ATTNLAB_VERSION_H
#define ATTNLAB_VERSION_H

#include "export.h"

/* "0.1.0" */
AL_API const char *al_version(void);

#endif
