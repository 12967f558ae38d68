/* Folder and file operations of the experiment driver: every write goes through a temporary name and a rename,
 * so a reader (or a rerun after kill -9) only ever sees complete files and folders. */
#ifndef AL_RUNFS_H
#define AL_RUNFS_H

#include <stddef.h>

#include "../core/status.h"

int al_fs_exists(const char *path);
int al_fs_isdir(const char *path);
/* mkdir -p; AL_OK when the folder exists afterwards. */
al_status al_fs_mkdirs(const char *path, al_error *e);
/* rm -r; missing paths are fine. Returns 0, or -1 when something could not be removed. */
int al_fs_rmtree(const char *path);
/* The whole file, NUL-terminated (al_free it); NULL with e set on failure. */
char *al_fs_read(const char *path, size_t *len, al_error *e);
/* Writes text to path through PATH.tmp-PID and a rename. */
al_status al_fs_write_atomic(const char *path, const char *text, al_error *e);
/* Copies the plain files of src (one level: unit folders are flat) into dst (created). */
al_status al_fs_copytree(const char *src, const char *dst, al_error *e);
/* Sorted names of the entries of dir that end with suffix ("" for all; dot-files excluded): their count, -1 when
 * dir cannot be opened, -2 when out of memory. Free with al_fs_names_free. */
int al_fs_list(const char *dir, const char *suffix, char ***names);
void al_fs_names_free(char **names, int n);
/* The same with every entry (dot-files too) but "." and "..". */
int al_fs_list_all(const char *dir, char ***names);
/* Absolute form of path (relative ones against the current folder), lexically normalised. */
void al_fs_abspath(const char *path, char *out, size_t n);
/* The absolute form of the output folder -o path into out[4096]: AL_EUSAGE when it leaves less than 512 bytes
 * below PATH_MAX for the paths the driver makes inside it (refused before anything is created). */
al_status al_fs_outpath(const char *path, char out[4096], al_error *e);
/* base/rel, or rel itself when it is absolute. */
/* rel under base, unless rel is absolute or starts with ~/ (then under $HOME). */
void al_fs_join(const char *base, const char *rel, char *out, size_t n);
/* Hex sha256 of a string. */
void al_sha256_text(const char *s, char hex[65]);

#endif
