/* SHA-256 (FIPS 180-4) for input fingerprints in provenance records.
 * Streaming interface: init, update any number of times, final. */
#ifndef AL_SHA256_H
#define AL_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t len; /* bytes hashed so far */
    uint8_t buf[64];
    size_t nbuf;
} al_sha256;

void al_sha256_init(al_sha256 *s);
void al_sha256_update(al_sha256 *s, const void *data, size_t n);
void al_sha256_final(al_sha256 *s, uint8_t out[32]);
void al_sha256_hex(const uint8_t d[32], char hex[65]);

/* Block functions behind al_sha256_update: the portable one and the SHA-NI one (core/sha256_ni.c), used when
 * the processor has it unless al_sha256_portable(1) was called (tests compare the two). */
extern const uint32_t al_sha256_k[64]; /* the round constants, shared by both */
int al_sha256_ni_available(void);
void al_sha256_blocks_ni(uint32_t h[8], const uint8_t *p, size_t nblocks);
void al_sha256_portable(int on);

#endif
