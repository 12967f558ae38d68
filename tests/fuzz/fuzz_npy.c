/* libFuzzer target: the .npy header parser on bytes in memory, then the file-level open (size checks)
 * and a read of the first and last element when the header is accepted. */
#include <stdint.h>

#include "core/npy.h"
#include "fuzzutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    al_fuzz_init();
    al_error e;
    al_error_clear(&e);
    al_npy h;
    al_npy_parse_header(data, size, &h, "fuzz.npy", &e);
    const char *path = al_fuzz_file(data, size, ".npy");
    al_npy f;
    al_error_clear(&e);
    if (al_npy_open(path, &f, &e) != AL_OK) return 0;
    int64_t count = 1;
    for (int i = 0; i < f.rank; i++) count *= f.shape[i];
    uint8_t buf[8];
    if (count > 0) {
        al_npy_read(&f, 0, 1, buf, path, &e);
        al_npy_read(&f, count - 1, 1, buf, path, &e);
    }
    al_npy_close(&f);
    return 0;
}
