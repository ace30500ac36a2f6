/*
 * SHA-256 against the FIPS 180-4 examples, incremental hashing and the script checksum. The
 * vectors run twice: with the fastest code the CPU allows (SHA-NI where present) and with the
 * portable code forced; the two are also compared on random messages.
 */
#include "helpers.h"
#include "suites.h"

#include "mig_sha256.h"

#include <stdio.h>
#include <stdlib.h>

/* Loop index 0: the fastest code the CPU allows; 1: the portable code. */
static void use_implementation(int i)
{
    mig_sha256_force_portable(i == 1);
    if (i == 1)
        ck_assert_str_eq(mig_sha256_implementation(), "portable");
}

/* Hex of the digest of data fed through init/update/final in the given pieces. */
static void hex_of_pieces(const unsigned char *data, const size_t *cuts, size_t ncuts, size_t len,
                          char out[65])
{
    mig_sha256 ctx;
    unsigned char digest[32];
    mig_sha256_init(&ctx);
    size_t at = 0;
    for (size_t i = 0; i < ncuts; i++) {
        mig_sha256_update(&ctx, data + at, cuts[i] - at);
        at = cuts[i];
    }
    mig_sha256_update(&ctx, data + at, len - at);
    mig_sha256_final(&ctx, digest);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[64] = '\0';
}

/* Check the hex digest of a NUL-terminated text. */
static void expect_hex(const char *text, const char *want)
{
    char out[65];
    mig_sha256_hex(text, strlen(text), out);
    ck_assert_str_eq(out, want);
}

/* Check that the checksum of a script equals the SHA-256 of want_text. */
static void expect_checksum_of(const char *script, size_t len, const char *want_text)
{
    char got[65], want[65];
    mig_checksum(script, len, got);
    mig_sha256_hex(want_text, strlen(want_text), want);
    ck_assert_str_eq(got, want);
}

/* FIPS 180-4 example "abc". */
START_TEST(vector_abc)
{
    use_implementation(_i);
    expect_hex("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

/* The empty message. */
START_TEST(vector_empty)
{
    use_implementation(_i);
    expect_hex("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

/* FIPS 180-4 two-block example (448 bits). */
START_TEST(vector_448_bits)
{
    use_implementation(_i);
    expect_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
               "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

/* NIST 896-bit example. */
START_TEST(vector_896_bits)
{
    use_implementation(_i);
    expect_hex(
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnop"
        "qrlmnopqrsmnopqrstnopqrstu",
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}
END_TEST

/* One million 'a', in one call and in 1000-byte and odd-sized updates. */
START_TEST(vector_million_a)
{
    use_implementation(_i);
    static const char *want = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    const size_t n = 1000000;
    char *data = malloc(n);
    ck_assert_ptr_nonnull(data);
    memset(data, 'a', n);
    char out[65];
    mig_sha256_hex(data, n, out);
    ck_assert_str_eq(out, want);

    for (size_t step = 1000; step; step = step == 1000 ? 777 : 0) {
        mig_sha256 ctx;
        unsigned char digest[32], once[32];
        mig_sha256_init(&ctx);
        for (size_t at = 0; at < n; at += step)
            mig_sha256_update(&ctx, data + at, n - at < step ? n - at : step);
        mig_sha256_final(&ctx, digest);
        mig_sha256_init(&ctx);
        mig_sha256_update(&ctx, data, n);
        mig_sha256_final(&ctx, once);
        ck_assert_mem_eq(digest, once, 32);
    }
    free(data);
}
END_TEST

/* Lengths around the padding boundaries (55, 56, 63, 64, 65, 119, 120, 128 bytes of 'a'). */
START_TEST(padding_boundaries)
{
    use_implementation(_i);
    static const struct {
        size_t n;
        const char *hex;
    } cases[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
        {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
        {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
        {128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e"},
    };
    char data[128], out[65];
    memset(data, 'a', sizeof data);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        mig_sha256_hex(data, cases[i].n, out);
        ck_assert_msg(strcmp(out, cases[i].hex) == 0, "%zu x 'a': %s", cases[i].n, out);
    }
}
END_TEST

/* Splitting a message into two updates at every offset (and byte by byte) changes nothing. */
START_TEST(incremental_every_offset)
{
    use_implementation(_i);
    unsigned char data[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 131 + 7);
    for (size_t len = 0; len <= sizeof data; len += len < 130 ? 1 : 17) {
        char once[65], split[65];
        mig_sha256_hex(data, len, once);
        for (size_t cut = 0; cut <= len; cut++) {
            hex_of_pieces(data, &cut, 1, len, split);
            ck_assert_msg(strcmp(once, split) == 0, "len %zu split at %zu", len, cut);
        }
        size_t cuts[300];
        for (size_t i = 0; i < len; i++)
            cuts[i] = i;
        hex_of_pieces(data, cuts, len, len, split);
        ck_assert_msg(strcmp(once, split) == 0, "len %zu byte by byte", len);
    }
}
END_TEST

/* Three-way splits at every pair of offsets of a 150-byte message. */
START_TEST(incremental_three_pieces)
{
    use_implementation(_i);
    unsigned char data[150];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(255 - i);
    char once[65], split[65];
    mig_sha256_hex(data, sizeof data, once);
    for (size_t a = 0; a <= sizeof data; a++)
        for (size_t b = a; b <= sizeof data; b++) {
            size_t cuts[2] = {a, b};
            hex_of_pieces(data, cuts, 2, sizeof data, split);
            ck_assert_msg(strcmp(once, split) == 0, "cuts %zu %zu", a, b);
        }
}
END_TEST

/* Digest of a message with the implementation chosen by portable, fed in the given pieces. */
static void digest_with(bool portable, const unsigned char *data, size_t len, size_t cut,
                        unsigned char digest[32])
{
    mig_sha256 ctx;
    mig_sha256_force_portable(portable);
    mig_sha256_init(&ctx);
    mig_sha256_update(&ctx, data, cut);
    mig_sha256_update(&ctx, data + cut, len - cut);
    mig_sha256_final(&ctx, digest);
}

/* The accelerated and the portable code agree on random messages of random lengths and splits. */
START_TEST(implementations_agree)
{
    mig_sha256_force_portable(false);
    const char *fast = mig_sha256_implementation();
    if (strcmp(fast, "portable") == 0)
        fprintf(stderr, "sha256: this CPU has no SHA extensions; only the portable code runs\n");
    enum { MAX = 5000 };
    unsigned char *data = malloc(MAX);
    ck_assert_ptr_nonnull(data);
    unsigned seed = 20240101;
    for (int round = 0; round < 400; round++) {
        seed = seed * 1103515245u + 12345u;
        size_t len = (seed >> 8) % (round < 200 ? 300 : MAX);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            data[i] = (unsigned char)(seed >> 16);
        }
        size_t cut = len ? (seed >> 4) % (len + 1) : 0;
        unsigned char a[32], b[32];
        digest_with(false, data, len, cut, a);
        digest_with(true, data, len, len - cut, b);
        ck_assert_msg(memcmp(a, b, 32) == 0, "%s and portable differ at length %zu", fast, len);
    }
    mig_sha256_force_portable(false);
    free(data);
}
END_TEST

/* MIGRATE_SHA256=portable in the environment selects the portable code. */
START_TEST(environment_selects_portable)
{
    setenv("MIGRATE_SHA256", "portable", 1);
    mig_sha256_force_portable(false); /* chooses again, reading the environment */
    ck_assert_str_eq(mig_sha256_implementation(), "portable");
    unsetenv("MIGRATE_SHA256");
    mig_sha256_force_portable(false);
    expect_hex("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

/* The checksum of a plain LF script is its SHA-256. */
START_TEST(checksum_plain)
{
    const char *lf = "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n";
    expect_checksum_of(lf, strlen(lf), lf);
    expect_checksum_of("", 0, "");
    char out[65];
    mig_checksum("abc", 3, out);
    ck_assert_str_eq(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

/* A BOM, CRLF line endings, or both, give the checksum of the plain LF script. */
START_TEST(checksum_bom_and_crlf)
{
    const char *lf = "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n";
    const char *bom = "\xEF\xBB\xBF"
                      "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n";
    const char *crlf = "CREATE TABLE t (id int);\r\nINSERT INTO t VALUES (1);\r\n";
    const char *both = "\xEF\xBB\xBF"
                       "CREATE TABLE t (id int);\r\nINSERT INTO t VALUES (1);\r\n";
    const char *mixed = "CREATE TABLE t (id int);\r\nINSERT INTO t VALUES (1);\n";
    char want[65], got[65];
    mig_checksum(lf, strlen(lf), want);
    mig_checksum(bom, strlen(bom), got);
    ck_assert_str_eq(got, want);
    mig_checksum(crlf, strlen(crlf), got);
    ck_assert_str_eq(got, want);
    mig_checksum(both, strlen(both), got);
    ck_assert_str_eq(got, want);
    mig_checksum(mixed, strlen(mixed), got);
    ck_assert_str_eq(got, want);
    /* a BOM alone is an empty script */
    expect_checksum_of("\xEF\xBB\xBF", 3, "");
    /* CRLF at the very start and end */
    expect_checksum_of("\r\nx\r\n", 5, "\nx\n");
}
END_TEST

/* A lone CR is kept, as are CRs not followed by LF, partial BOMs and BOMs past the start. */
START_TEST(checksum_lone_cr_kept)
{
    char lone[65], lf[65], none[65];
    mig_checksum("a\rb", 3, lone);
    mig_checksum("a\nb", 3, lf);
    mig_checksum("ab", 2, none);
    ck_assert_str_ne(lone, lf);
    ck_assert_str_ne(lone, none);
    expect_checksum_of("a\rb", 3, "a\rb");
    expect_checksum_of("a\r", 2, "a\r");
    expect_checksum_of("\r", 1, "\r");
    expect_checksum_of("\r\r\n", 3, "\r\n");
    expect_checksum_of("a\n\rb", 4, "a\n\rb");
    expect_checksum_of("\xEF\xBB", 2, "\xEF\xBB");
    expect_checksum_of("x\xEF\xBB\xBF", 4, "x\xEF\xBB\xBF");
    expect_checksum_of("\xEF\xBB\xBF\xEF\xBB\xBF", 6, "\xEF\xBB\xBF");
}
END_TEST

/* The checksum reads only len bytes. */
START_TEST(checksum_respects_len)
{
    expect_checksum_of("abcdef", 3, "abc");
    expect_checksum_of("x\r\n", 2, "x\r");
}
END_TEST

/* After each test: the fastest code again, for the tests that follow in the same process. */
static void fastest_again(void)
{
    mig_sha256_force_portable(false);
}

Suite *sha256_suite(void)
{
    Suite *s = suite_create("sha256");
    TCase *tc = tcase_create("vectors");
    tcase_add_loop_test(tc, vector_abc, 0, 2);
    tcase_add_loop_test(tc, vector_empty, 0, 2);
    tcase_add_loop_test(tc, vector_448_bits, 0, 2);
    tcase_add_loop_test(tc, vector_896_bits, 0, 2);
    tcase_add_loop_test(tc, vector_million_a, 0, 2);
    tcase_add_loop_test(tc, padding_boundaries, 0, 2);
    tcase_add_loop_test(tc, incremental_every_offset, 0, 2);
    tcase_add_loop_test(tc, incremental_three_pieces, 0, 2);
    tcase_add_test(tc, implementations_agree);
    tcase_add_test(tc, environment_selects_portable);
    tcase_add_checked_fixture(tc, NULL, fastest_again);
    suite_add_tcase(s, tc);
    tc = tcase_create("checksum");
    tcase_add_test(tc, checksum_plain);
    tcase_add_test(tc, checksum_bom_and_crlf);
    tcase_add_test(tc, checksum_lone_cr_kept);
    tcase_add_test(tc, checksum_respects_len);
    suite_add_tcase(s, tc);
    return s;
}
