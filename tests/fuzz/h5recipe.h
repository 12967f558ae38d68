/* Structure-aware fuzzing of HDF5 recordings: the fuzz input is read as a recipe (attributes with their
 * values and types, groups, shapes, dtypes, layouts, filters, data and planted defects) and a well-formed
 * HDF5 file is written from it through the HDF5 API, so the fuzzer explores attnlab's validation rather
 * than the HDF5 library's own decoder (HDF5 1.10's bugs on corrupt metadata are not ours to fix). */
#ifndef AL_H5RECIPE_H
#define AL_H5RECIPE_H

#include <stddef.h>
#include <stdint.h>

/* Writes the recording the recipe describes to path; returns 0, or -1 when HDF5 refused (skip the input). */
int al_h5_recipe_write(const uint8_t *data, size_t size, const char *path);

#endif
