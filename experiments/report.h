/* report.md: every combined table (Markdown) and figure with the provenance that identifies them, built only
 * from the spec, the units' states and the tables, so it is the same for a clean, resumed or merged run. */
#ifndef AL_REPORT_H
#define AL_REPORT_H

#include "combine.h"
#include "run.h"

/* ts: [nsteps] combined tables; figwhy: [nfigs] "" when the spec's figure was drawn, else why not. */
al_status al_report_write(al_run *r, const al_tabset *ts, char (*figwhy)[400], al_error *e);

#endif
