/* Every float16 and bfloat16 bit pattern converted by attnlab against numpy's conversion, bit for bit,
 * plus the round-to-nearest-even encoders used by writers. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/dtype.h"
#include "testutil.h"

static const char *ref_py =
    "import sys, numpy as np\n"
    "u = np.arange(65536, dtype=np.uint16)\n"
    "u.view(np.float16).astype(np.float32).tofile(sys.argv[1])\n"
    "(u.astype(np.uint32) << 16).view(np.float32).tofile(sys.argv[2])\n";

static uint32_t bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

Test(dtype, all_f16_and_bf16_patterns_match_numpy) {
    const char *d = al_test_tmpdir();
    char f16[300], bf16[300];
    snprintf(f16, sizeof f16, "%s/f16.bin", d);
    snprintf(bf16, sizeof bf16, "%s/bf16.bin", d);
    cr_assert_eq(al_test_python(ref_py, f16, bf16), 0, "python reference failed");
    static float ref_h[65536], ref_b[65536], got[65536];
    static uint16_t all[65536];
    FILE *f = fopen(f16, "rb");
    cr_assert(f && fread(ref_h, 4, 65536, f) == 65536);
    fclose(f);
    f = fopen(bf16, "rb");
    cr_assert(f && fread(ref_b, 4, 65536, f) == 65536);
    fclose(f);
    for (uint32_t i = 0; i < 65536; i++) all[i] = (uint16_t)i;
    /* scalar reference and bulk path (SIMD where the CPU has it), f16; an odd length exercises the tail */
    al_convert_to_f32(AL_DT_F16, all, got, 65536);
    static float tail[13];
    al_convert_to_f32(AL_DT_F16, all + 0x3bf8, tail, 13);
    for (int i = 0; i < 13; i++) cr_assert_eq(bits(tail[i]), bits(ref_h[0x3bf8 + i]));
    for (uint32_t i = 0; i < 65536; i++) {
        float s = al_f16_to_f32_ref((uint16_t)i);
        if (isnan(ref_h[i])) {
            cr_assert(isnan(s) && isnan(got[i]), "f16 %04x: NaN expected", i);
        } else {
            cr_assert_eq(bits(s), bits(ref_h[i]), "f16 %04x: scalar %a, numpy %a", i, s, ref_h[i]);
            cr_assert_eq(bits(got[i]), bits(ref_h[i]), "f16 %04x: bulk %a, numpy %a", i, got[i], ref_h[i]);
        }
    }
    al_convert_to_f32(AL_DT_BF16, all, got, 65536);
    for (uint32_t i = 0; i < 65536; i++) {
        cr_assert_eq(bits(al_bf16_to_f32_ref((uint16_t)i)), bits(ref_b[i]), "bf16 %04x scalar", i);
        cr_assert_eq(bits(got[i]), bits(ref_b[i]), "bf16 %04x bulk", i);
    }
}

Test(dtype, encoders_round_trip_and_round_to_nearest_even) {
    for (uint32_t i = 0; i < 65536; i++) {
        float f = al_f16_to_f32_ref((uint16_t)i);
        if (!isnan(f)) cr_assert_eq(al_f32_to_f16(f), i, "f16 %04x does not round-trip", i);
        float b = al_bf16_to_f32_ref((uint16_t)i);
        if (!isnan(b)) cr_assert_eq(al_f32_to_bf16(b), i, "bf16 %04x does not round-trip", i);
    }
    /* halfway cases go to the even neighbour */
    cr_assert_eq(al_f32_to_f16(1.0f + 0x1p-11f), 0x3c00);             /* 1 + half ulp -> 1 (even) */
    cr_assert_eq(al_f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3c02);         /* -> 1 + 2 ulp (even) */
    cr_assert_eq(al_f32_to_f16(65520.0f), 0x7c00);                    /* overflows to Inf */
    cr_assert_eq(al_f32_to_f16(0x1p-25f), 0x0000);                    /* half of the smallest subnormal: even 0 */
    cr_assert_eq(al_f32_to_f16(3 * 0x1p-25f), 0x0002);
    cr_assert_eq(al_f32_to_bf16(1.0f + 0x1p-8f), 0x3f80);
    cr_assert_eq(al_f32_to_bf16(1.0f + 3 * 0x1p-8f), 0x3f82);
    cr_assert(isnan(al_bf16_to_f32_ref(al_f32_to_bf16(NAN))));
}
