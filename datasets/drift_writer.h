/* Creating multi-turn drift files (RECORDING.md "Other inputs", attnlab_format = "drift"). The datasets are
 * then made and filled with the format-v1 writer's al_v1_dataset / al_v1_write / al_v1_write_i32. */
#ifndef AL_DRIFT_WRITER_H
#define AL_DRIFT_WRITER_H

#include "../core/status.h"
#include "writer.h"

/* Creates PATH.tmp-PID (float datasets in float32) with the root attributes attnlab_format = "drift",
 * format_version = 1, model, source and note (free text, e.g. how the reference was made);
 * al_v1_finish renames it into place, al_v1_abort removes it. */
al_status al_driftw_create(al_v1_writer *w, const char *path, const char *model, const char *source, const char *note,
                          al_error *e);

#endif
