/* Chat templates by family: the Jinja source in tokenizer.chat_template is not run; its family is told by
 * its markers, and a default system message written literally in it (SmolLM2, Qwen2) is used as it does. */
#include "chat.h"

#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"

static char *al_chat_fmt(const char *a, const char *b, size_t bl, const char *c, const char *d) {
    size_t n = strlen(a) + bl + strlen(c) + strlen(d) + 1;
    char *s = al_malloc(n, 1);
    if (s) snprintf(s, n, "%s%.*s%s%s", a, (int)bl, b, c, d);
    return s;
}

/* The literal default system message of a ChatML template ("<|im_start|>system\n...<|im_end|>" inside a
 * quoted string), or NULL. */
static char *al_chatml_default_system(const char *tpl) {
    const char *k = "'<|im_start|>system\n";
    const char *p = strstr(tpl, k);
    if (!p) return NULL;
    p += strlen(k);
    const char *end = strstr(p, "<|im_end|>");
    if (!end || memchr(p, '\'', (size_t)(end - p)) || memchr(p, '{', (size_t)(end - p))) return NULL;
    return al_chat_fmt("", p, (size_t)(end - p), "", "");
}

/* Content with leading and trailing whitespace removed (Llama 3's template trims). */
static const char *al_trim(const char *s, size_t *n) {
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
        s++;
    size_t l = strlen(s);
    while (l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\n' || s[l - 1] == '\t' || s[l - 1] == '\r'))
        l--;
    *n = l;
    return s;
}

static char *al_chat_one(int llama3, const char *role, const char *content) {
    if (!llama3) {
        char *head = al_chat_fmt("<|im_start|>", role, strlen(role), "\n", "");
        char *s = head ? al_chat_fmt(head, content, strlen(content), "<|im_end|>\n", "") : NULL;
        al_free(head);
        return s;
    }
    size_t n;
    const char *c = al_trim(content, &n);
    char *head = al_chat_fmt("<|start_header_id|>", role, strlen(role), "<|end_header_id|>\n\n", "");
    char *s = head ? al_chat_fmt(head, c, n, "<|eot_id|>", "") : NULL;
    al_free(head);
    return s;
}

al_status al_chat_render(const al_gguf *g, const al_chat_msg *msgs, int n, int add_gen, char ***out, int *sys_added,
                         al_error *e) {
    *out = NULL;
    *sys_added = 0;
    const al_gguf_kv *kv = al_gguf_find(g, "tokenizer.chat_template");
    if (!kv || kv->type != AL_GV_STRING)
        return al_fail(e, AL_EUSAGE, g->path, "tokenizer.chat_template",
                       "the model has no chat template: give --text with the rendered chat");
    char *tpl = al_chat_fmt("", (const char *)kv->val, (size_t)kv->count, "", "");
    if (!tpl) return al_fail(e, AL_ENOMEM, g->path, NULL, "out of memory");
    int chatml = strstr(tpl, "<|im_start|>") != NULL, llama3 = strstr(tpl, "<|start_header_id|>") != NULL;
    if (!chatml && !llama3) {
        al_free(tpl);
        return al_fail(
            e, AL_EUSAGE, g->path, "tokenizer.chat_template",
            "chat template family not recognised (ChatML and Llama 3 are): give --text with the rendered chat");
    }
    char *sys = chatml && (n == 0 || strcmp(msgs[0].role, "system") != 0) ? al_chatml_default_system(tpl) : NULL;
    al_free(tpl);
    int k = 0, err = 0;
    char **r = al_calloc((size_t)n + 2, sizeof *r);
    err |= !r;
    if (!err && sys) {
        r[k++] = al_chat_one(0, "system", sys);
        *sys_added = 1;
    }
    for (int i = 0; !err && i < n; i++)
        err |= !(r[k++] = al_chat_one(llama3, msgs[i].role, msgs[i].content));
    if (!err) {
        const char *gen = !add_gen ? ""
                          : llama3 ? "<|start_header_id|>assistant<|end_header_id|>\n\n"
                                   : "<|im_start|>assistant\n";
        err |= !(r[k] = al_chat_fmt(gen, "", 0, "", ""));
    }
    al_free(sys);
    if (err) {
        for (int i = 0; r && i < n + 2; i++)
            al_free(r[i]);
        al_free(r);
        return al_fail(e, AL_ENOMEM, g->path, NULL, "out of memory");
    }
    *out = r;
    return AL_OK;
}
