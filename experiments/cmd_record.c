/* `attnlab record MODEL -o OUT.h5`: runs a llama2.c checkpoint or a GGUF model (told apart by the file's
 * magic) on the CPU and writes a format-v1 recording, or with --drift (llama2.c) a drift file for kl-drift. */
#include <stdio.h>
#include <string.h>

#include "../analyses/record.h"
#include "../core/alloc.h"
#include "../model/llama_gguf.h"
#include "commands.h"
#include "record_inputs.h"

/* Flags that only make sense in one of the two modes. */
static al_status al_record_modes(const al_opt *o, int n, int drift, al_error *e) {
    static const char *const plain[] = {"tokens", "generate", "temperature", "seed",       "samples",    "what",
                                        "span",   "ids",      "text",        "chat", "ignore-eos", "no-special",
                                        "tokenizer"};
    static const char *const drift_only[] = {"prefix", "no-bos"};
    for (int i = 0; i < n; i++) {
        if (!o[i].seen) continue;
        for (size_t k = 0; drift && k < sizeof plain / sizeof *plain; k++)
            if (!strcmp(o[i].name, plain[k]))
                return al_fail(e, AL_EUSAGE, "--drift", NULL, "--%s is not used with --drift", o[i].name);
        for (size_t k = 0; !drift && k < sizeof drift_only / sizeof *drift_only; k++)
            if (!strcmp(o[i].name, drift_only[k]))
                return al_fail(e, AL_EUSAGE, "record", NULL, "--%s needs --drift CONV.txt", o[i].name);
    }
    return AL_OK;
}

static al_status al_record_plain(al_rec_model *m, al_record_params *p, al_rec_inputs *in, const char *what,
                                 const al_strlist *spans, const al_opt *samples_opt, const al_common *c, al_error *e) {
    char why[256];
    if (what && al_record_parse_what(what, &p->what, why, sizeof why) != 0)
        return al_fail(e, AL_EUSAGE, "--what", NULL, "%s", why);
    if (spans->n > AL_MAX_SPANS) return al_fail(e, AL_EUSAGE, "--span", NULL, "at most %d spans", AL_MAX_SPANS);
    for (int i = 0; i < spans->n; i++)
        if (al_record_parse_span(spans->v[i], &p->spans[i], why, sizeof why) != 0)
            return al_fail(e, AL_EUSAGE, "--span", NULL, "%s", why);
    p->n_spans = spans->n;
    int n_in = al_rec_inputs_count(in);
    if (n_in == 0 && p->generate == 0)
        return al_fail(e, AL_EUSAGE, "record", NULL,
                       "nothing to record: give --tokens IDS (or --text, --chat) and/or --generate N");
    if (n_in > 1 && samples_opt->seen && p->samples != n_in)
        return al_fail(e, AL_EUSAGE, "--samples", NULL,
                       "%lld samples but %d prompts (each --tokens, --text or --chat is one sample)",
                       (long long)p->samples, n_in);
    al_status st = al_rec_inputs_build(in, m, p, e);
    if (st == AL_OK) st = al_record_run(m, p, c->out, e);
    return st;
}

static al_status al_record_drift_cmd(const al_llama *m, const char *conv, const char *prefix, int no_bos,
                                     const char *model_name, const al_common *c, al_error *e) {
    if (!prefix)
        return al_fail(e, AL_EUSAGE, "--drift", NULL,
                       "--prefix IDS (the goal-restating prefix of the reference run) is required");
    char why[256];
    int32_t *pre = NULL;
    int64_t np = al_ids_parse(prefix, strlen(prefix), m->c.vocab_size, &pre, why, sizeof why);
    if (np < 0) return al_fail(e, np == -2 ? AL_ENOMEM : AL_EUSAGE, "--prefix", NULL, "%s", why);
    al_convs cv;
    al_status st = al_convs_read(conv, m->c.vocab_size, &cv, e);
    if (st == AL_OK) {
        al_record_drift_params dp = {model_name, pre, np, !no_bos, c->quiet};
        st = al_record_drift(m, &cv, &dp, conv, c->out, e);
        al_convs_free(&cv);
    }
    al_free(pre);
    return st;
}

int al_cmd_record(int argc, char **argv) {
    al_error e;
    al_error_clear(&e);
    al_common c;
    al_common_defaults(&c);
    al_record_params p;
    al_record_defaults(&p);
    al_strlist tokens = {0}, spans = {0}, ids = {0}, texts = {0}, chats = {0};
    const char *what = NULL, *dtype = "f32", *drift = NULL, *prefix = NULL;
    int64_t seed = 0;
    int no_bos = 0, ignore_eos = 0, no_special = 0;
    al_opt opts[AL_OPTS_MAX] = {
        {"tokens", 0, AL_OPT_LIST, &tokens, "IDS",
         "prompt token ids, e.g. 1,2,3; repeat for more samples (default: BOS = 1)", 0, 0, NULL, 0, 0},
        {"generate", 0, AL_OPT_INT, &p.generate, "N", "append N generated tokens to each prompt (default 0)", 0,
         AL_LLAMA_MAX_SEQ, NULL, 0, 0},
        {"temperature", 0, AL_OPT_DOUBLE, &p.temperature, "TEMP",
         "0: greedy (default); > 0: sample softmax(logits / TEMP)", 0, 1e6, NULL, 0, 0},
        {"seed", 0, AL_OPT_INT, &seed, "S", "seed of the sampling (sample n uses stream n; default 0)", 0, 9e15, NULL,
         0, 0},
        {"samples", 0, AL_OPT_INT, &p.samples, "N", "samples drawn from one prompt (default 1)", 1, 1e6, NULL, 0, 0},
        {"what", 0, AL_OPT_STRING, &what, "LIST", "tensors to store (default attention,q,k,v,hidden,logits)", 0, 0,
         NULL, 0, 0},
        {"span", 0, AL_OPT_LIST, &spans, "NAME:A:B", "named token range [A, B) written to /spans; repeatable", 0, 0,
         NULL, 0, 0},
        {"dtype", 0, AL_OPT_CHOICE, &dtype, "TYPE", "storage type f32|f16|bf16 (default f32)", 0, 0, "f32|f16|bf16", 0,
         0},
        {"model", 0, AL_OPT_STRING, &p.model_name, "NAME", "model attribute (default: the checkpoint's file name)", 0,
         0, NULL, 0, 0},
        {"drift", 0, AL_OPT_STRING, &drift, "CONV.txt",
         "drift mode: conversations (one turn of ids per line, blank line between)", 0, 0, NULL, 0, 0},
        {"prefix", 0, AL_OPT_STRING, &prefix, "IDS", "drift: goal-restating prefix of the reference run", 0, 0, NULL, 0,
         0},
        {"no-bos", 0, AL_OPT_FLAG, &no_bos, NULL, "drift: do not start both runs with BOS (token 1)", 0, 0, NULL, 0, 0},
        {"tokenizer", 0, AL_OPT_STRING, &p.tokenizer, "FILE",
         "llama2.c tokenizer.bin: write /token_text (each token's decoded text)", 0, 0, NULL, 0, 0},
        {"ids", 0, AL_OPT_LIST, &ids, "IDS", "same as --tokens", 0, 0, NULL, 0, 0},
        {"text", 0, AL_OPT_LIST, &texts, "TEXT",
         "GGUF: a prompt as text, tokenized by the file's tokenizer (BOS as the file says); repeatable", 0, 0, NULL, 0,
         0},
        {"chat", 0, AL_OPT_LIST, &chats, "FILE.json",
         "GGUF: a chat [{\"role\", \"content\"}...] rendered with the file's chat template; spans per role", 0, 0, NULL,
         0, 0},
        {"ignore-eos", 0, AL_OPT_FLAG, &ignore_eos, NULL,
         "GGUF: generate all N tokens (default: a sample ends at its end-of-sequence/turn token)", 0, 0, NULL, 0, 0},
        {"no-special", 0, AL_OPT_FLAG, &no_special, NULL,
         "GGUF: in --text, special-token text (<|im_start|>) is plain text", 0, 0, NULL, 0, 0},
    };
    int nopts = 18, npos = 0, done = 0;
    const char *pos[1];
    al_status st =
        al_cmd_parse(argc, argv, opts, &nopts, &c, "record MODEL.bin|MODEL.gguf -o OUT.h5 [options]",
                     "Runs a llama2.c checkpoint (legacy version-0 header) or a GGUF model (llama, qwen2\n"
                     "architectures; any of F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q4_K Q5_K Q6_K) on the CPU\n"
                     "and writes a format-v1 recording: tokens, attention maps, q and k after rotary\n"
                     "embedding, v, hidden states (embeddings and each block's output, before the final\n"
                     "norm) and logits, each layer written as it is produced. Prompts come from --tokens,\n"
                     "or for GGUF models --text and --chat (samples in that order); --generate N extends\n"
                     "each one (greedy, or sampled with --temperature and --seed); the final sequences are\n"
                     "recorded. GGUF recordings add /token_text and the model's name, architecture and\n"
                     "quantization as root attributes.\n"
                     "With --drift CONV.txt --prefix IDS: a drift file (attnlab_format \"drift\") with the\n"
                     "logits of each conversation as is (test) and after the prefix (ref), for kl-drift.\n"
                     "See docs/record.md.",
                     pos, &npos, 1, 1, &done, &e);
    if (st != AL_OK || done) goto out;
    if (!c.out) {
        st = al_fail(&e, AL_EUSAGE, "record", NULL, "-o OUT.h5 is required");
        goto out;
    }
    if (c.device && !strcmp(c.device, "cuda")) {
        st = al_fail(&e, AL_EUSAGE, "--device", NULL, "record runs on the CPU only");
        goto out;
    }
    if ((st = al_record_modes(opts, nopts, drift != NULL, &e)) != AL_OK) goto out;
    if (drift && strcmp(dtype, "f32") != 0) {
        st = al_fail(&e, AL_EUSAGE, "--dtype", NULL, "drift files hold float32 logits");
        goto out;
    }
    p.seed = (uint64_t)seed;
    p.dtype = !strcmp(dtype, "f16") ? AL_DT_F16 : !strcmp(dtype, "bf16") ? AL_DT_BF16 : AL_DT_F32;
    p.quiet = c.quiet;
    al_rec_inputs in = {&tokens, &ids, &texts, &chats, !no_special, !ignore_eos};
    if (al_gguf_is_gguf(pos[0])) {
        if (drift) {
            st = al_fail(&e, AL_EUSAGE, "--drift", NULL, "drift recordings run llama2.c checkpoints only");
            goto out;
        }
        al_gl_model *g = NULL;
        if ((st = al_gl_open(pos[0], &g, &e)) != AL_OK) goto out;
        al_rec_model rm;
        al_rec_model_gguf(g, &rm);
        st = al_record_plain(&rm, &p, &in, what, &spans, &opts[4], &c, &e);
        al_rec_inputs_free(&in);
        al_gl_close(g);
    } else {
        al_llama *m = NULL;
        if ((st = al_llama_open(pos[0], &m, &e)) != AL_OK) goto out;
        al_rec_model rm;
        al_rec_model_llama2c(m, &rm);
        if (drift)
            st = al_record_drift_cmd(m, drift, prefix, no_bos, p.model_name, &c, &e);
        else
            st = al_record_plain(&rm, &p, &in, what, &spans, &opts[4], &c, &e);
        al_rec_inputs_free(&in);
        al_llama_close(m);
    }
    if (st == AL_OK && !c.quiet) fprintf(stderr, "attnlab record: wrote %s\n", c.out);
out:
    al_free((void *)tokens.v);
    al_free((void *)spans.v);
    al_free((void *)ids.v);
    al_free((void *)texts.v);
    al_free((void *)chats.v);
    return al_cmd_finish(st, &e);
}
