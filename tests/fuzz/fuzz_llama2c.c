/* libFuzzer target: llama2.c checkpoints, the seven-value header checked on its own (against a file
 * length taken from the input too) and whole files opened and mapped by the reader. */
#include <stdint.h>
#include <string.h>

#include "datasets/llama2c.h"
#include "fuzzutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    al_fuzz_init();
    al_error e;
    al_error_clear(&e);
    if (size >= 36) {
        int32_t h[7];
        uint64_t bytes;
        memcpy(h, data, sizeof h);
        memcpy(&bytes, data + 28, sizeof bytes);
        al_llama_config c;
        al_llama_check_header(h, bytes, &c, "fuzz.bin", &e);
        if (e.status == AL_OK) al_llama_file_bytes(&c);
    }
    const char *path = al_fuzz_file(data, size, ".bin");
    al_error_clear(&e);
    al_llama *m = NULL;
    if (al_llama_open(path, &m, &e) == AL_OK) al_llama_close(m);
    return 0;
}
