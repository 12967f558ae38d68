/* The text of a number in every output: TSV cells and JSON numbers (core/table.c, core/json_print.c). */
#include "numtext.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

void al_num_str(double v, char *buf, size_t n) {
    if (isnan(v)) {
        snprintf(buf, n, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, n, v > 0 ? "inf" : "-inf");
        return;
    }
    snprintf(buf, n, "%.15g", v);
    if (strtod(buf, NULL) != v) snprintf(buf, n, "%.17g", v);
}
