/* Core utilities: SHA-256 test vectors, strict option parsing, status codes, table writers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/cli.h"
#include "core/sha256.h"
#include "core/status.h"
#include "core/table.h"
#include "testutil.h"

static void hex_of(const char *msg, size_t n, char hex[65]) {
    al_sha256 s;
    uint8_t d[32];
    al_sha256_init(&s);
    al_sha256_update(&s, msg, n);
    al_sha256_final(&s, d);
    al_sha256_hex(d, hex);
}

Test(core, sha256_vectors) {
    char h[65];
    hex_of("", 0, h);
    cr_assert_str_eq(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hex_of("abc", 3, h);
    cr_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(m, strlen(m), h);
    cr_assert_str_eq(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    static char mil[1000000];
    memset(mil, 'a', sizeof mil);
    hex_of(mil, sizeof mil, h);
    cr_assert_str_eq(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* The SHA-NI and portable block functions agree on messages of every length around the block size and on
 * a long random one (on a processor without SHA-NI both runs take the portable path). */
Test(core, sha256_ni_matches_portable) {
    static unsigned char msg[70000];
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < sizeof msg; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        msg[i] = (unsigned char)x;
    }
    size_t lens[] = {0, 1, 55, 56, 63, 64, 65, 127, 128, 129, 1000, 4096, sizeof msg};
    for (size_t k = 0; k < sizeof lens / sizeof *lens; k++) {
        char a[65], b[65];
        al_sha256_portable(1);
        hex_of((const char *)msg, lens[k], a);
        al_sha256_portable(0);
        hex_of((const char *)msg, lens[k], b);
        cr_assert_str_eq(a, b, "length %zu", lens[k]);
    }
    cr_log_info("SHA-NI %s", al_sha256_ni_available() ? "present: compared" : "absent: portable path only");
}

Test(core, strict_number_parsing) {
    double d;
    int64_t i;
    cr_assert_eq(al_parse_double_str("0.3", &d), 0);
    cr_assert_eq(d, 0.3);
    cr_assert_neq(al_parse_double_str("abc", &d), 0);
    cr_assert_neq(al_parse_double_str("0.3x", &d), 0);
    cr_assert_neq(al_parse_double_str("nan", &d), 0);
    cr_assert_neq(al_parse_double_str("", &d), 0);
    cr_assert_eq(al_parse_int_str("64", &i), 0);
    cr_assert_neq(al_parse_int_str("6.4", &i), 0);
    cr_assert_eq(al_parse_size_str("512M", &i), 0);
    cr_assert_eq(i, 512LL << 20);
    cr_assert_eq(al_parse_size_str("1G", &i), 0);
    cr_assert_eq(i, 1LL << 30);
    cr_assert_neq(al_parse_size_str("12Q", &i), 0);
    int64_t idx[16];
    cr_assert_eq(al_parse_index_list("3,0-2,2", idx, 16), 4);
    cr_assert(idx[0] == 0 && idx[3] == 3);
    cr_assert_eq(al_parse_index_list("1,", idx, 16), -1);
}

Test(core, option_table_rejects_bad_values) {
    double eps = 0.3;
    int64_t tokens = 0;
    al_opt o[2] = {{"epsilon", 0, AL_OPT_DOUBLE, &eps, "EPS", "", 0, 1, NULL, 0, 0},
                   {"tokens", 0, AL_OPT_INT, &tokens, "T", "", 1, 100, NULL, 0, 0}};
    const char *pos[2];
    int npos;
    al_error e;
    char *a1[] = {"sinks", "f.h5", "--epsilon", "abc"};
    al_error_clear(&e);
    cr_assert_eq(al_parse_args(4, a1, o, 2, pos, &npos, 2, &e), AL_EUSAGE);
    cr_assert_str_eq(e.where, "--epsilon");
    cr_assert(strstr(e.msg, "abc"));
    char *a2[] = {"sinks", "--tokens=500"};
    al_error_clear(&e);
    cr_assert_eq(al_parse_args(2, a2, o, 2, pos, &npos, 2, &e), AL_EUSAGE);
    char *a3[] = {"sinks", "--bogus", "1"};
    al_error_clear(&e);
    cr_assert_eq(al_parse_args(3, a3, o, 2, pos, &npos, 2, &e), AL_EUSAGE);
    char *a4[] = {"sinks", "f.h5", "--epsilon=0.25", "--tokens", "48"};
    al_error_clear(&e);
    cr_assert_eq(al_parse_args(5, a4, o, 2, pos, &npos, 2, &e), AL_OK);
    cr_assert(eps == 0.25 && tokens == 48 && npos == 1);
}

Test(core, status_table) {
    cr_assert_eq(al_exit_code(AL_OK), 0);
    cr_assert_eq(al_exit_code(AL_EFORMAT), 2);
    cr_assert_eq(al_exit_code(AL_ENOMEM), 1);
    cr_assert_str_eq(al_status_name(AL_EVALUE), "AL_EVALUE");
    al_error e;
    al_error_clear(&e);
    al_fail(&e, AL_EVALUE, "f.h5", "attention/L000", "NaN");
    al_fail(&e, AL_EIO, "other", NULL, "later failures do not overwrite the first");
    cr_assert_str_eq(e.where, "f.h5:attention/L000");
    cr_assert_str_eq(e.msg, "NaN");
}

Test(core, table_formats) {
    al_table *t = al_table_new("t", "T", "name,x");
    al_cell *c = al_table_row(t);
    al_cell_str(&c[0], "a,b");
    al_cell_num(&c[1], 0.1);
    char path[300];
    snprintf(path, sizeof path, "%s/t.csv", al_test_tmpdir());
    FILE *f = fopen(path, "w");
    al_table_write(t, AL_FMT_CSV, f);
    fclose(f);
    char buf[256] = {0};
    f = fopen(path, "r");
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    cr_assert_str_eq(buf, "name,x\n\"a,b\",0.1\n");
    char num[64];
    al_num_str(0.1 + 0.2, num, sizeof num);
    cr_assert_str_eq(num, "0.30000000000000004");
    al_table_free(t);
}
