/* Named spans of a recording (/spans [N, S, 2] with attribute names), read whole and validated: each span is
 * [-1, -1] (absent from that sample) or 0 <= start <= end <= the sample's valid length. */
#ifndef AL_SPANS_H
#define AL_SPANS_H

#include <stdint.h>

#include "recording.h"

/* out: [N, S, 2] allocated here (al_free). Fails (exit 2) when /spans is missing or a span is out of range,
 * naming the sample and span. */
al_status al_spans_load(al_rec *r, int32_t **out, al_error *e);
/* Index of span name in r->span_names, or -1. */
int al_span_index(const al_rec *r, const char *name);

#endif
