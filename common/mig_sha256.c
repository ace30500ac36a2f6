/*
 * SHA-256 (FIPS 180-4), self-contained so that both engines compute the same checksums, and
 * the script checksum: the hash of a script read as if it had no BOM and LF line endings, so
 * a file checked out with CRLF is not seen as modified.
 *
 * Blocks are compressed by the CPU's SHA extensions (x86 SHA-NI) when the CPU has them, found
 * at run time with cpuid, else by the portable code. The accelerated function alone is compiled
 * for those instructions (a target attribute, not -msha), so the module still runs on a CPU
 * without them. MIGRATE_SHA256=portable in the environment, or mig_sha256_force_portable,
 * selects the portable code, so tests and benchmarks can run both.
 */
#include "mig_sha256.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define MIG_SHA256_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t round_constants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t rotr(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

/* Fold one 64-byte block into the state (FIPS 180-4, 6.2.2), portably. */
static void sha256_block(uint32_t state[8], const unsigned char *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) +
                      round_constants[i] + w[i];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
}

/* Fold nblocks consecutive 64-byte blocks into the state, portably. */
static void blocks_portable(uint32_t state[8], const unsigned char *p, size_t nblocks)
{
    for (; nblocks; nblocks--, p += 64)
        sha256_block(state, p);
}

#ifdef MIG_SHA256_X86
/*
 * Four rounds with the SHA-NI instructions, and the next four message words: w0..w3 hold
 * W[4g..4g+15]; with next set, w0 becomes W[4g+16..4g+19] (FIPS 180-4, 6.2.2 step 1).
 */
#define SHANI_ROUNDS(g, w0, w1, w2, w3, next)                                                      \
    do {                                                                                           \
        __m128i msg_ =                                                                             \
            _mm_add_epi32(w0, _mm_loadu_si128((const __m128i *)&round_constants[4 * (g)]));        \
        cdgh = _mm_sha256rnds2_epu32(cdgh, abef, msg_);                                            \
        abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(msg_, 0x0E));                   \
        if (next)                                                                                  \
            w0 = _mm_sha256msg2_epu32(                                                             \
                _mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4)), w3);      \
    } while (0)

/*
 * Fold nblocks consecutive 64-byte blocks into the state with the SHA-NI instructions, which
 * keep the state as the two halves ABEF and CDGH.
 */
__attribute__((target("sha,sse4.1"))) static void
blocks_shani(uint32_t state[8], const unsigned char *p, size_t nblocks)
{
    const __m128i byteswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i dcba = _mm_loadu_si128((const __m128i *)&state[0]);
    __m128i hgfe = _mm_loadu_si128((const __m128i *)&state[4]);
    __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
    __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);
    for (; nblocks; nblocks--, p += 64) {
        __m128i abef_in = abef, cdgh_in = cdgh;
        __m128i w0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p), byteswap);
        __m128i w1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), byteswap);
        __m128i w2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), byteswap);
        __m128i w3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), byteswap);
        SHANI_ROUNDS(0, w0, w1, w2, w3, 1);
        SHANI_ROUNDS(1, w1, w2, w3, w0, 1);
        SHANI_ROUNDS(2, w2, w3, w0, w1, 1);
        SHANI_ROUNDS(3, w3, w0, w1, w2, 1);
        SHANI_ROUNDS(4, w0, w1, w2, w3, 1);
        SHANI_ROUNDS(5, w1, w2, w3, w0, 1);
        SHANI_ROUNDS(6, w2, w3, w0, w1, 1);
        SHANI_ROUNDS(7, w3, w0, w1, w2, 1);
        SHANI_ROUNDS(8, w0, w1, w2, w3, 1);
        SHANI_ROUNDS(9, w1, w2, w3, w0, 1);
        SHANI_ROUNDS(10, w2, w3, w0, w1, 1);
        SHANI_ROUNDS(11, w3, w0, w1, w2, 1);
        SHANI_ROUNDS(12, w0, w1, w2, w3, 0);
        SHANI_ROUNDS(13, w1, w2, w3, w0, 0);
        SHANI_ROUNDS(14, w2, w3, w0, w1, 0);
        SHANI_ROUNDS(15, w3, w0, w1, w2, 0);
        abef = _mm_add_epi32(abef, abef_in);
        cdgh = _mm_add_epi32(cdgh, cdgh_in);
    }
    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(dchg, feba, 8));
}

/* Whether the CPU has the SHA extensions and the SSSE3 and SSE4.1 the code around them uses. */
static bool cpu_has_shani(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1))
        return false;
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
}
#endif

typedef void (*blocks_fn)(uint32_t state[8], const unsigned char *p, size_t nblocks);

/* The implementation in force: 0 not chosen yet, 1 portable, 2 SHA-NI. */
static atomic_int chosen;
/* Set by mig_sha256_force_portable. */
static atomic_bool forced_portable;

/* Choose once: SHA-NI when the CPU has it, unless the portable code is asked for. */
static int choose(void)
{
    int c = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (c)
        return c;
    c = 1;
#ifdef MIG_SHA256_X86
    const char *env = getenv("MIGRATE_SHA256");
    bool portable = atomic_load_explicit(&forced_portable, memory_order_relaxed) ||
                    (env && strcmp(env, "portable") == 0);
    if (!portable && cpu_has_shani())
        c = 2;
#endif
    atomic_store_explicit(&chosen, c, memory_order_relaxed);
    return c;
}

/* Fold nblocks blocks with the implementation in force. */
static void blocks(uint32_t state[8], const unsigned char *p, size_t nblocks)
{
#ifdef MIG_SHA256_X86
    if (choose() == 2) {
        blocks_shani(state, p, nblocks);
        return;
    }
#endif
    blocks_portable(state, p, nblocks);
}

/* Test hook: the portable code (on) or the best the CPU allows (off) from now on. */
void mig_sha256_force_portable(bool on)
{
    atomic_store_explicit(&forced_portable, on, memory_order_relaxed);
    atomic_store_explicit(&chosen, 0, memory_order_relaxed);
}

/* Name of the implementation in force: "sha-ni" or "portable". */
const char *mig_sha256_implementation(void)
{
    return choose() == 2 ? "sha-ni" : "portable";
}

/* Start a digest with the initial hash value of FIPS 180-4, 5.3.3. */
void mig_sha256_init(mig_sha256 *ctx)
{
    static const uint32_t initial[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(ctx->state, initial, sizeof initial);
    ctx->bytes = 0;
    ctx->used = 0;
}

/* Feed len bytes. */
void mig_sha256_update(mig_sha256 *ctx, const void *data, size_t len)
{
    const unsigned char *p = data;
    ctx->bytes += len;
    if (ctx->used) {
        size_t take = 64 - ctx->used < len ? 64 - ctx->used : len;
        memcpy(ctx->block + ctx->used, p, take);
        ctx->used += take;
        p += take;
        len -= take;
        if (ctx->used < 64)
            return;
        blocks(ctx->state, ctx->block, 1);
        ctx->used = 0;
    }
    if (len >= 64) {
        blocks(ctx->state, p, len / 64);
        p += len & ~(size_t)63;
        len &= 63;
    }
    memcpy(ctx->block, p, len);
    ctx->used = len;
}

/* Pad, finish and write the 32-byte digest. */
void mig_sha256_final(mig_sha256 *ctx, unsigned char digest[32])
{
    uint64_t bits = ctx->bytes * 8;
    static const unsigned char pad[64] = {0x80};
    size_t padlen = ctx->used < 56 ? 56 - ctx->used : 120 - ctx->used;
    mig_sha256_update(ctx, pad, padlen);
    unsigned char length[8];
    for (int i = 0; i < 8; i++)
        length[i] = (unsigned char)(bits >> (56 - 8 * i));
    mig_sha256_update(ctx, length, 8);
    for (int i = 0; i < 8; i++) {
        digest[4 * i] = (unsigned char)(ctx->state[i] >> 24);
        digest[4 * i + 1] = (unsigned char)(ctx->state[i] >> 16);
        digest[4 * i + 2] = (unsigned char)(ctx->state[i] >> 8);
        digest[4 * i + 3] = (unsigned char)ctx->state[i];
    }
}

/* Write 32 digest bytes as 64 lowercase hex digits. */
static void digest_to_hex(const unsigned char digest[32], char out[65])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[64] = '\0';
}

/* Hex SHA-256 of a buffer. */
void mig_sha256_hex(const void *data, size_t len, char out[65])
{
    mig_sha256 ctx;
    unsigned char digest[32];
    mig_sha256_init(&ctx);
    mig_sha256_update(&ctx, data, len);
    mig_sha256_final(&ctx, digest);
    digest_to_hex(digest, out);
}

/* Hash the script as if it had no BOM and LF line endings, without copying it. */
void mig_checksum(const char *script, size_t len, char out[65])
{
    mig_sha256 ctx;
    unsigned char digest[32];
    mig_sha256_init(&ctx);
    if (len >= 3 && memcmp(script, "\xEF\xBB\xBF", 3) == 0) {
        script += 3;
        len -= 3;
    }
    size_t start = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (script[i] == '\r' && script[i + 1] == '\n') {
            mig_sha256_update(&ctx, script + start, i - start);
            start = i + 1;
        }
    }
    mig_sha256_update(&ctx, script + start, len - start);
    mig_sha256_final(&ctx, digest);
    digest_to_hex(digest, out);
}
