/* libattnlab: analyses of transformer internals as typed library calls. Open a recording, fill an al_exec,
 * call an analysis's compute function, read the plain arrays of its output struct. See docs/architecture.md. */
#ifndef ATTNLAB_H
#define ATTNLAB_H

#include "exec.h"
#include "export.h"
#include "recording.h"
#include "sinks.h"
#include "status.h"
#include "version.h"

#endif
