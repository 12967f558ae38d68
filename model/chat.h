/* Chat rendering for GGUF models: the family of tokenizer.chat_template (ChatML as SmolLM2 and Qwen2 use
 * it, Llama 3 headers) is recognised and each message rendered as that template renders it, so that each
 * message's tokens (its span) are known. Templates of other families are refused with a message. */
#ifndef AL_CHAT_H
#define AL_CHAT_H

#include "../core/status.h"
#include "gguf.h"

typedef struct {
    const char *role, *content;
} al_chat_msg;

/* Renders msgs[0 .. n-1]; out[i] (allocated, al_free each) is message i's text, out[n] the generation prompt
 * ("" when add_gen is 0). *sys_added is 1 when the template's default system message was put first: then
 * out[0] is that message and message i is out[i + 1] (out has n + 2 entries). */
al_status al_chat_render(const al_gguf *g, const al_chat_msg *msgs, int n, int add_gen, char ***out, int *sys_added,
                         al_error *e);

#endif
