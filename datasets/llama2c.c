/* llama2.c checkpoint reader. The header is 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
 * vocab_size, seq_len); a negative vocab_size means a separate classifier is stored after the RoPE tables. */
#include "llama2c.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/alloc.h"

static const char *const al_hdr_names[7] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};

/* Tensors in file order: name, floats per layer (or in total when per_layer is 0). */
typedef struct {
    const char *name;
    int per_layer;
    uint64_t n;
} al_llama_part;

static int al_llama_parts(const al_llama_config *c, al_llama_part p[13]) {
    uint64_t d = (uint64_t)c->dim, hd = (uint64_t)c->hidden_dim, kv = (uint64_t)c->kv_dim, V = (uint64_t)c->vocab_size;
    al_llama_part t[13] = {
        {"token embedding", 0, V * d}, {"attention RMSNorm", 1, d}, {"wq", 1, d * d},   {"wk", 1, kv * d},
        {"wv", 1, kv * d},             {"wo", 1, d * d},            {"FFN RMSNorm", 1, d}, {"w1", 1, hd * d},
        {"w2", 1, d * hd},             {"w3", 1, hd * d},           {"final RMSNorm", 0, d},
        {"RoPE tables (unused)", 0, (uint64_t)c->seq_len * (uint64_t)c->head_size},
        {"classifier", 0, c->shared_classifier ? 0 : V * d},
    };
    memcpy(p, t, sizeof t);
    return 13;
}

uint64_t al_llama_file_bytes(const al_llama_config *c) {
    al_llama_part p[13];
    uint64_t n = 0;
    for (int i = 0; i < al_llama_parts(c, p); i++) n += p[i].n * (p[i].per_layer ? (uint64_t)c->n_layers : 1);
    return 28 + 4 * n;
}

al_status al_llama_check_header(const int32_t h[7], uint64_t file_bytes, al_llama_config *c, const char *path,
                                al_error *e) {
    memset(c, 0, sizeof *c);
    if (h[0] == 0x616b3432)
        return al_fail(e, AL_EFORMAT, path, NULL,
                       "a llama2.c version-%d export (magic \"ak42\"); only the legacy version-0 header is supported "
                       "(export with --version 0)", h[1]);
    static const int64_t lim[7] = {AL_LLAMA_MAX_DIM, AL_LLAMA_MAX_HIDDEN, AL_LLAMA_MAX_LAYERS, AL_LLAMA_MAX_DIM,
                                   AL_LLAMA_MAX_DIM, AL_LLAMA_MAX_VOCAB, AL_LLAMA_MAX_SEQ};
    for (int i = 0; i < 7; i++) {
        int64_t v = i == 5 ? (h[i] < 0 ? -(int64_t)h[i] : h[i]) : h[i];
        if (v < 1 || v > lim[i])
            return al_fail(e, AL_EFORMAT, path, NULL,
                           "header %s = %d is outside 1..%lld%s: not a llama2.c checkpoint (legacy header) or corrupted",
                           al_hdr_names[i], h[i], (long long)lim[i], i == 5 ? " in absolute value" : "");
    }
    c->dim = h[0];
    c->hidden_dim = h[1];
    c->n_layers = h[2];
    c->n_heads = h[3];
    c->n_kv_heads = h[4];
    c->shared_classifier = h[5] > 0;
    c->vocab_size = h[5] < 0 ? -(int64_t)h[5] : h[5];
    c->seq_len = h[6];
    if (c->dim % c->n_heads != 0)
        return al_fail(e, AL_EFORMAT, path, NULL, "header: dim %lld is not a multiple of n_heads %lld", (long long)c->dim,
                       (long long)c->n_heads);
    c->head_size = c->dim / c->n_heads;
    if (c->head_size % 2 != 0)
        return al_fail(e, AL_EFORMAT, path, NULL, "header: head size %lld (dim / n_heads) is odd; rotary embedding needs pairs",
                       (long long)c->head_size);
    if (c->n_kv_heads > c->n_heads || c->n_heads % c->n_kv_heads != 0)
        return al_fail(e, AL_EFORMAT, path, NULL, "header: n_kv_heads %lld does not divide n_heads %lld",
                       (long long)c->n_kv_heads, (long long)c->n_heads);
    c->kv_dim = c->n_kv_heads * c->head_size;
    uint64_t want = al_llama_file_bytes(c);
    if (file_bytes < want)
        return al_fail(e, AL_EFORMAT, path, NULL,
                       "truncated: the header (dim %lld, hidden_dim %lld, n_layers %lld, vocab %lld, seq_len %lld) implies "
                       "%llu bytes, the file has %llu",
                       (long long)c->dim, (long long)c->hidden_dim, (long long)c->n_layers, (long long)c->vocab_size,
                       (long long)c->seq_len, (unsigned long long)want, (unsigned long long)file_bytes);
    if (file_bytes > want)
        return al_fail(e, AL_EFORMAT, path, NULL,
                       "the header implies %llu bytes but the file has %llu (%llu extra): sizes disagree with the file "
                       "(a newer export format, or a header with the wrong vocab_size sign?)",
                       (unsigned long long)want, (unsigned long long)file_bytes, (unsigned long long)(file_bytes - want));
    return AL_OK;
}

/* Every weight finite: a NaN in the checkpoint would otherwise surface as NaN maps with no explanation. */
static al_status al_llama_check_finite(al_llama *m, al_error *e) {
    al_llama_part p[13];
    int np = al_llama_parts(&m->c, p);
    const float *x = (const float *)((const char *)m->map + 28);
    for (int i = 0; i < np; i++) {
        uint64_t reps = p[i].per_layer ? (uint64_t)m->c.n_layers : 1;
        int unused = !strncmp(p[i].name, "RoPE", 4);
        for (uint64_t r = 0; r < reps; r++) {
            for (uint64_t k = 0; !unused && k < p[i].n; k++)
                if (!isfinite(x[k])) {
                    char where[96] = "";
                    if (p[i].per_layer) snprintf(where, sizeof where, " of layer %llu", (unsigned long long)r);
                    return al_fail(e, AL_EVALUE, m->path, NULL, "weight %llu of %s%s is %g (not finite)",
                                   (unsigned long long)k, p[i].name, where, (double)x[k]);
                }
            x += p[i].n;
        }
    }
    return AL_OK;
}

al_status al_llama_open(const char *path, al_llama **out, al_error *e) {
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return al_fail(e, AL_ENOENT, path, NULL, "cannot open the checkpoint");
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return al_fail(e, AL_EIO, path, NULL, "not a regular file");
    }
    int32_t h[7];
    if (sb.st_size < 28 || pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h) {
        close(fd);
        return al_fail(e, AL_EFORMAT, path, NULL, "truncated: %lld bytes, shorter than the 28-byte llama2.c header",
                       (long long)sb.st_size);
    }
    al_llama_config c;
    if (al_llama_check_header(h, (uint64_t)sb.st_size, &c, path, e) != AL_OK) {
        close(fd);
        return e->status;
    }
    al_llama *m = al_calloc(1, sizeof *m);
    if (!m) {
        close(fd);
        return al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
    }
    snprintf(m->path, sizeof m->path, "%s", path);
    m->c = c;
    m->map_bytes = (size_t)sb.st_size;
    m->map = mmap(NULL, m->map_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m->map == MAP_FAILED) {
        al_free(m);
        return al_fail(e, AL_EIO, path, NULL, "cannot map the checkpoint into memory");
    }
    const float *x = (const float *)((const char *)m->map + 28);
    uint64_t L = (uint64_t)c.n_layers, d = (uint64_t)c.dim, hd = (uint64_t)c.hidden_dim, kv = (uint64_t)c.kv_dim;
    uint64_t V = (uint64_t)c.vocab_size;
    al_llama_weights *w = &m->w;
    w->tok_emb = x, x += V * d;
    w->rms_att = x, x += L * d;
    w->wq = x, x += L * d * d;
    w->wk = x, x += L * kv * d;
    w->wv = x, x += L * kv * d;
    w->wo = x, x += L * d * d;
    w->rms_ffn = x, x += L * d;
    w->w1 = x, x += L * hd * d;
    w->w2 = x, x += L * d * hd;
    w->w3 = x, x += L * hd * d;
    w->rms_final = x, x += d;
    x += (uint64_t)c.seq_len * (uint64_t)c.head_size;
    w->wcls = c.shared_classifier ? w->tok_emb : x;
    if (al_llama_check_finite(m, e) != AL_OK) {
        al_llama_close(m);
        return e->status;
    }
    *out = m;
    return AL_OK;
}

void al_llama_close(al_llama *m) {
    if (!m) return;
    if (m->map && m->map != MAP_FAILED) munmap(m->map, m->map_bytes);
    al_free(m);
}
