/* AL_API marks the functions libattnlab exports; everything else is built with hidden visibility. */
#ifndef ATTNLAB_EXPORT_H
#define ATTNLAB_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define AL_API __attribute__((visibility("default")))
#else
#define AL_API
#endif

#endif
