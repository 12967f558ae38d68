/* `attnlab gguf MODEL.gguf`: what a GGUF file holds (metadata, tensors with type and shape), a tensor
 * dequantised to float32 .npy (--tensor NAME -o OUT.npy), or a text's token ids (--tokenize TEXT). */
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../model/gguf.h"
#include "../model/quant.h"
#include "../model/tokenizer.h"
#include "commands.h"

static const char *const al_gv_names[AL_GV_COUNT] = {"u8",   "i8",     "u16",   "i16", "u32", "i32", "f32",
                                                     "bool", "string", "array", "u64", "i64", "f64"};

static void al_gguf_print_kv(const al_gguf *g, const al_gguf_kv *kv) {
    char key[300];
    snprintf(key, sizeof key, "%.*s", (int)(kv->key_len < 290 ? kv->key_len : 290), kv->key);
    if (kv->type == AL_GV_ARRAY) {
        printf("%s = [%s x %llu]\n", key, kv->elem < AL_GV_COUNT ? al_gv_names[kv->elem] : "?",
               (unsigned long long)kv->count);
    } else if (kv->type == AL_GV_STRING) {
        int n = kv->count > 120 ? 120 : (int)kv->count;
        printf("%s = \"", key);
        for (int i = 0; i < n; i++)
            putchar(kv->val[i] == '\n' ? ' ' : kv->val[i]);
        printf("%s\"\n", kv->count > 120 ? "..." : "");
    } else {
        double v = 0;
        int64_t iv = 0;
        al_error e;
        if (al_gguf_get_int(g, key, 1, &iv, &e) == AL_OK)
            printf("%s = %lld\n", key, (long long)iv);
        else if (al_gguf_get_float(g, key, 1, &v, &e) == AL_OK)
            printf("%s = %.9g\n", key, v);
        else
            printf("%s = %s\n", key, kv->val[0] ? "true" : "false");
    }
}

static void al_gguf_print(const al_gguf *g) {
    printf("file: %s\nGGUF version %u, %lld metadata entries, %lld tensors, alignment %llu\n", g->path, g->version,
           (long long)g->n_kv, (long long)g->n_tensors, (unsigned long long)g->alignment);
    for (int64_t i = 0; i < g->n_kv; i++)
        al_gguf_print_kv(g, &g->kv[i]);
    for (int64_t i = 0; i < g->n_tensors; i++) {
        const al_gguf_tensor *t = &g->tensor[i];
        printf("tensor %s %s [", t->name, al_gguf_type_name(t->type));
        for (int d = 0; d < t->n_dims; d++)
            printf(d ? ", %lld" : "%lld", (long long)t->ne[d]);
        printf("]\n");
    }
}

/* Writes x [rows, cols] float32 as a 2-D .npy (a 1-D tensor as [cols]). */
static al_status al_gguf_write_npy(const char *out, const float *x, int64_t rows, int64_t cols, int one_d,
                                   al_error *e) {
    char hdr[128];
    int n = one_d ? snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%lld,), }",
                             (long long)cols)
                  : snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%lld, %lld), }",
                             (long long)rows, (long long)cols);
    while ((n + 11) % 64)
        hdr[n++] = ' ';
    hdr[n - 1] = '\n';
    FILE *f = fopen(out, "wb");
    if (!f) return al_fail(e, AL_EWRITE, out, NULL, "cannot create");
    uint16_t hl = (uint16_t)n;
    int ok = fwrite("\x93NUMPY\x01\x00", 1, 8, f) == 8 && fwrite(&hl, 2, 1, f) == 1 &&
             fwrite(hdr, 1, (size_t)n, f) == (size_t)n &&
             fwrite(x, sizeof(float), (size_t)(rows * cols), f) == (size_t)(rows * cols);
    if (fclose(f) != 0 || !ok) {
        remove(out);
        return al_fail(e, AL_EWRITE, out, NULL, "cannot write");
    }
    return AL_OK;
}

static al_status al_gguf_dump_tensor(const al_gguf *g, const char *name, const char *out, int ref, al_error *e) {
    const al_gguf_tensor *t = al_gguf_tensor_find(g, name);
    if (!t) return al_fail(e, AL_EUSAGE, g->path, name, "no such tensor");
    if (!out) return al_fail(e, AL_EUSAGE, "--tensor", NULL, "-o OUT.npy is required");
    int64_t cols = t->ne[0], rows = t->ne[1] * t->ne[2] * t->ne[3];
    float *x = al_malloc((size_t)(rows * cols), sizeof(float)); /* [rows, cols] */
    if (!x) return al_fail(e, AL_ENOMEM, g->path, name, "out of memory");
    if (ref)
        al_dequant_ref(t->type, t->data, rows * cols, x);
    else
        al_dequant(t->type, t->data, rows * cols, x);
    al_status st = al_gguf_write_npy(out, x, rows, cols, t->n_dims == 1, e);
    al_free(x);
    return st;
}

static al_status al_gguf_tokenize_cmd(const al_gguf *g, const char *text, int special, al_error *e) {
    al_tokenizer *tk = NULL;
    if (al_tok_open(g, &tk, e) != AL_OK) return e->status;
    int32_t *ids = NULL;
    int64_t n = 0;
    al_status st = al_tok_encode(tk, text, strlen(text), special, &ids, &n, e);
    for (int64_t i = 0; st == AL_OK && i < n; i++)
        printf(i ? ",%d" : "%d", ids[i]);
    if (st == AL_OK) printf("\n");
    al_free(ids);
    al_tok_close(tk);
    return st;
}

int al_cmd_gguf(int argc, char **argv) {
    al_error e;
    al_error_clear(&e);
    al_common c;
    al_common_defaults(&c);
    const char *tensor = NULL, *text = NULL;
    int ref = 0, no_special = 0;
    al_opt opts[AL_OPTS_MAX] = {
        {"tensor", 0, AL_OPT_STRING, &tensor, "NAME", "write this tensor dequantised to float32 into -o OUT.npy", 0, 0,
         NULL, 0, 0},
        {"reference", 0, AL_OPT_FLAG, &ref, NULL, "with --tensor: use the element-by-element reference dequantiser", 0,
         0, NULL, 0, 0},
        {"tokenize", 0, AL_OPT_STRING, &text, "TEXT",
         "print TEXT's token ids (the file's tokenizer, BOS as the file says)", 0, 0, NULL, 0, 0},
        {"no-special", 0, AL_OPT_FLAG, &no_special, NULL, "with --tokenize: special-token text is plain text", 0, 0,
         NULL, 0, 0},
    };
    int nopts = 4, npos = 0, done = 0;
    const char *pos[1];
    al_status st =
        al_cmd_parse(argc, argv, opts, &nopts, &c, "gguf MODEL.gguf [--tensor NAME -o OUT.npy | --tokenize TEXT]",
                     "Shows a GGUF file's metadata and tensors (type, shape) after validating it, writes one\n"
                     "tensor dequantised to float32 (.npy), or prints a text's token ids. See docs/gguf.md.",
                     pos, &npos, 1, 1, &done, &e);
    if (st != AL_OK || done) return al_cmd_finish(st, &e);
    al_gguf *g = NULL;
    if ((st = al_gguf_open(pos[0], &g, &e)) != AL_OK) return al_cmd_finish(st, &e);
    if (tensor)
        st = al_gguf_dump_tensor(g, tensor, c.out, ref, &e);
    else if (text)
        st = al_gguf_tokenize_cmd(g, text, !no_special, &e);
    else
        al_gguf_print(g);
    al_gguf_close(g);
    return al_cmd_finish(st, &e);
}
