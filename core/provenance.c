/* Fingerprints and provenance records. The fingerprint reads at most 2 MiB, so it is cheap on 100 GB
 * recordings; --hash full reads everything for a true content hash. */
#include "provenance.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "alloc.h"
#include "buf.h"
#include "json.h"
#include "sha256.h"

#ifndef AL_VERSION_STRING
#define AL_VERSION_STRING "0.1.0"
#endif
#ifndef AL_GIT_HASH
#define AL_GIT_HASH "unknown"
#endif

const char *al_version(void) { return AL_VERSION_STRING; }
const char *al_git_hash(void) { return AL_GIT_HASH; }

enum { AL_MIB = 1 << 20 };

static int al_hash_range(FILE *f, al_sha256 *s, long long off, long long len, uint8_t *buf) {
    if (fseeko(f, off, SEEK_SET) != 0) return -1;
    while (len > 0) {
        size_t want = len > AL_MIB ? AL_MIB : (size_t)len;
        size_t got = fread(buf, 1, want, f);
        if (got != want) return -1;
        al_sha256_update(s, buf, got);
        len -= (long long)got;
    }
    return 0;
}

cJSON *al_input_json(const char *path, int full, al_error *e) {
    struct stat st;
    if (stat(path, &st) != 0) {
        al_fail(e, AL_ENOENT, path, NULL, "%s", strerror(errno));
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    uint8_t *buf = al_malloc(AL_MIB, 1);
    cJSON *o = cJSON_CreateObject();
    if (!f || !buf || !o) {
        if (!f) al_fail(e, AL_EIO, path, NULL, "%s", strerror(errno));
        else al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
        goto fail;
    }
    long long size = (long long)st.st_size;
    al_sha256 s;
    uint8_t d[32];
    char hex[65];
    al_sha256_init(&s);
    uint8_t le[8];
    for (int i = 0; i < 8; i++) le[i] = (uint8_t)((uint64_t)size >> (8 * i));
    al_sha256_update(&s, le, 8);
    long long head = size < AL_MIB ? size : AL_MIB;
    long long tail_off = size - AL_MIB > head ? size - AL_MIB : head;
    if (al_hash_range(f, &s, 0, head, buf) || al_hash_range(f, &s, tail_off, size - tail_off, buf)) {
        al_fail(e, AL_EIO, path, NULL, "read failed while fingerprinting");
        goto fail;
    }
    al_sha256_final(&s, d);
    al_sha256_hex(d, hex);
    char mtime[32];
    struct tm tm;
    gmtime_r(&st.st_mtime, &tm);
    strftime(mtime, sizeof mtime, "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON_AddStringToObject(o, "path", path);
    cJSON_AddNumberToObject(o, "size", (double)size);
    cJSON_AddStringToObject(o, "mtime", mtime);
    cJSON_AddStringToObject(o, "fingerprint", hex);
    if (full) {
        al_sha256_init(&s);
        if (al_hash_range(f, &s, 0, size, buf)) {
            al_fail(e, AL_EIO, path, NULL, "read failed while hashing");
            goto fail;
        }
        al_sha256_final(&s, d);
        al_sha256_hex(d, hex);
        cJSON_AddStringToObject(o, "sha256", hex);
    }
    fclose(f);
    al_free(buf);
    return o;
fail:
    if (f) fclose(f);
    al_free(buf);
    cJSON_Delete(o);
    return NULL;
}

cJSON *al_provenance(const char *command, int argc, char **argv, const char *const *inputs, int ninputs,
                     cJSON *params, int full_hash, al_error *e) {
    cJSON *p = cJSON_CreateObject();
    al_buf cmd = {0};
    if (!p) goto oom;
    al_buf_printf(&cmd, "attnlab");
    for (int i = 0; i < argc; i++) al_buf_printf(&cmd, " %s", argv[i]);
    if (cmd.failed) goto oom;
    char ver[96];
    snprintf(ver, sizeof ver, "%s (%s)", al_version(), al_git_hash());
    uint64_t failed0 = al_alloc_cjson_failures();
    cJSON_AddStringToObject(p, "attnlab_version", ver);
    cJSON_AddStringToObject(p, "command", cmd.s);
    cJSON *in = cJSON_AddArrayToObject(p, "inputs");
    if (!in) goto oom;
    for (int i = 0; i < ninputs; i++) {
        cJSON *x = al_input_json(inputs[i], full_hash, e);
        if (!x) goto fail;
        if (al_json_push(in, x) != 0) goto oom;
    }
    cJSON *prm = params;
    params = NULL;
    if (al_json_add(p, "params", prm) != 0) goto oom;
    if (al_alloc_cjson_failures() != failed0) goto oom; /* a field left out */
    al_buf_free(&cmd);
    return p;
oom:
    al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
fail:
    cJSON_Delete(params);
    cJSON_Delete(p);
    al_buf_free(&cmd);
    return NULL;
}

int al_provenance_tsv(const cJSON *prov, FILE *f) {
    /* rendered whole first, so that running out of memory writes nothing rather than a partial header */
    al_buf b = {0};
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(prov, "attnlab_version");
    if (cJSON_IsString(v)) al_buf_printf(&b, "# attnlab_version: %s\n", v->valuestring);
    v = cJSON_GetObjectItemCaseSensitive(prov, "command");
    if (cJSON_IsString(v)) al_buf_printf(&b, "# command: %s\n", v->valuestring);
    const cJSON *in;
    int bad = 0;
    cJSON_ArrayForEach(in, cJSON_GetObjectItemCaseSensitive(prov, "inputs")) {
        char *s = cJSON_PrintUnformatted(in);
        if (s) al_buf_printf(&b, "# input: %s\n", s);
        bad |= !s;
        cJSON_free(s);
    }
    char *s = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(prov, "params"));
    if (s) al_buf_printf(&b, "# params: %s\n", s);
    bad |= !s || b.failed;
    cJSON_free(s);
    if (!bad && b.s) fputs(b.s, f);
    al_buf_free(&b);
    return bad ? -1 : 0;
}
