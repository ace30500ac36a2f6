/* SHA-256 (FIPS 180-4), with the CPU's SHA extensions when present, and the normalised script
 * checksum. */
#ifndef MIG_SHA256_H
#define MIG_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mig_sha256 {
    uint32_t state[8];
    uint64_t bytes;
    unsigned char block[64];
    size_t used;
} mig_sha256;

void mig_sha256_init(mig_sha256 *ctx);
void mig_sha256_update(mig_sha256 *ctx, const void *data, size_t len);
void mig_sha256_final(mig_sha256 *ctx, unsigned char digest[32]);
/* Hex digest of data into out (65 bytes with the terminator). */
void mig_sha256_hex(const void *data, size_t len, char out[65]);

/*
 * Test hook: from now on use the portable code (on) or the fastest code the CPU allows (off).
 * MIGRATE_SHA256=portable in the environment has the effect of on for the whole process.
 */
void mig_sha256_force_portable(bool on);
/* Name of the code in force: "sha-ni" (x86 SHA extensions) or "portable". */
const char *mig_sha256_implementation(void);

/* Checksum of a script as stored: BOM removed and CRLF read as LF, so line endings never matter. */
void mig_checksum(const char *script, size_t len, char out[65]);

#endif
