/* The text of a number in every output, so TSV and JSON carry the same bits. */
#ifndef AL_NUMTEXT_H
#define AL_NUMTEXT_H

#include <stddef.h>

/* "%.15g", or "%.17g" when 15 digits do not read back to the same double; "nan", "inf", "-inf". */
void al_num_str(double v, char *buf, size_t n);

#endif
