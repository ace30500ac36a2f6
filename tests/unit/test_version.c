/* Versions: the prefix grammar, validation of targets and ordering. */
#include "helpers.h"
#include "suites.h"

#include "mig_version.h"

#include <stdlib.h>

/* Check the prefix length and where its digits start for the whole of s. */
static void expect_prefix(const char *s, size_t want_len, size_t want_start)
{
    size_t start = 999;
    size_t got = mig_version_prefix(s, strlen(s), &start);
    ck_assert_msg(got == want_len, "prefix of \"%s\": got %zu, want %zu", s, got, want_len);
    ck_assert_msg(start == want_start, "digits of \"%s\" start at %zu, want %zu", s, start,
                  want_start);
}

/* The sign of a comparison: -1, 0 or 1. */
static int sign(int c)
{
    return (c > 0) - (c < 0);
}

/* Check a < b, b > a (or equality both ways when want is 0). */
static void expect_order(const char *a, const char *b, int want)
{
    int ab = sign(mig_version_compare(a, b));
    int ba = sign(mig_version_compare(b, a));
    ck_assert_msg(ab == want, "compare(\"%s\", \"%s\") = %d, want %d", a, b, ab, want);
    ck_assert_msg(ba == -want, "compare(\"%s\", \"%s\") = %d, want %d", b, a, ba, -want);
}

/* Runs of digits joined by separators make the prefix; a run followed by a letter does not. */
START_TEST(prefix_grammar)
{
    expect_prefix("20240101_init", 8, 0);
    expect_prefix("20220204-01-add-billing", 11, 0);
    expect_prefix("v2.15.0-series-column-unique", 7, 1);
    expect_prefix("V12", 3, 1);
    expect_prefix("20240101_2fa_setup", 8, 0);
    expect_prefix("1_2", 3, 0);
    expect_prefix("0001", 4, 0);
    expect_prefix("12345678901234567890", 20, 0);
    expect_prefix("1.2.3", 5, 0);
}
END_TEST

/* Edge cases of the prefix: nothing, a lone v, trailing or doubled separators, digits+letters. */
START_TEST(prefix_edges)
{
    size_t start = 999;
    ck_assert_uint_eq(mig_version_prefix("", 0, &start), 0);
    expect_prefix("v", 0, 1);
    expect_prefix("V", 0, 1);
    expect_prefix("init", 0, 0);
    expect_prefix("2fa", 0, 0);
    expect_prefix("-1", 0, 0);
    expect_prefix("_1", 0, 0);
    expect_prefix("vv1", 0, 1);
    expect_prefix("1.", 1, 0);
    expect_prefix("1..2", 1, 0);
    expect_prefix("1.2a", 1, 0);
    expect_prefix("1_", 1, 0);
    expect_prefix("x1", 0, 0);
    /* len bounds the text: the end of the given length counts as the end */
    ck_assert_uint_eq(mig_version_prefix("2024abc", 4, NULL), 4);
    ck_assert_uint_eq(mig_version_prefix("20240101_init", 4, NULL), 4);
    ck_assert_uint_eq(mig_version_prefix("1.2", 2, NULL), 1);
    /* digits_start may be NULL */
    ck_assert_uint_eq(mig_version_prefix("v3_x", 4, NULL), 2);
}
END_TEST

/* Targets that are versions are accepted. */
START_TEST(valid_targets)
{
    static const char *const good[] = {"1",
                                       "0001",
                                       "2.15.0",
                                       "20220204-01",
                                       "1_2",
                                       "v1",
                                       "V2.0",
                                       "20240101120000",
                                       "123456789012345678901234567890"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        ck_assert_msg(mig_version_valid(good[i]), "\"%s\" should be a version", good[i]);
}
END_TEST

/* Anything else is refused as a target. */
START_TEST(invalid_targets)
{
    static const char *const bad[] = {"",    "v",   "V",   "abc",    "1.",  "1..2",
                                      ".1",  "1a",  " 1",  "1 ",     "-1",  "1.x",
                                      "vv1", "2fa", "1/2", "latest", "1,2", "_1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(!mig_version_valid(bad[i]), "\"%s\" should not be a version", bad[i]);
}
END_TEST

/* Segments compare as numbers: 2.9.0 < 2.15.0, 1.9 < 1.10, 9 < 10. */
START_TEST(compare_numeric_segments)
{
    expect_order("2.9.0", "2.15.0", -1);
    expect_order("1.9", "1.10", -1);
    expect_order("9", "10", -1);
    expect_order("2.15.0", "2.15.1", -1);
    expect_order("1.2.3", "1.3", -1);
    expect_order("2.15.0", "20240101", -1);
    expect_order("1", "1", 0);
}
END_TEST

/* Date-and-counter versions order by date, then counter. */
START_TEST(compare_date_counters)
{
    expect_order("20220204-01", "20220204-02", -1);
    expect_order("20220204-02", "20220205-01", -1);
    expect_order("20220204-01", "20220205-01", -1);
    expect_order("20240101120000", "20240101120001", -1);
}
END_TEST

/* Leading zeros, separators and a leading v do not matter; a missing segment counts as 0. */
START_TEST(compare_equivalences)
{
    expect_order("0001", "1", 0);
    expect_order("0", "000", 0);
    expect_order("1.02", "1.2", 0);
    expect_order("1.2.3", "1_2_3", 0);
    expect_order("1-2-3", "1.2.3", 0);
    expect_order("20220204-01", "20220204.1", 0);
    expect_order("v1", "1", 0);
    expect_order("V1.0", "1", 0);
    expect_order("1", "1.0.0", 0);
    expect_order("1.0.1", "1", 1);
    expect_order("1.2", "1.2.0.0.0.1", -1);
    expect_order("0", "0.0.1", -1);
}
END_TEST

/* Numbers longer than any integer type still compare correctly. */
START_TEST(compare_long_numbers)
{
    expect_order("123456789012345678901234567890", "123456789012345678901234567891", -1);
    expect_order("999999999999999999999999999999", "1000000000000000000000000000000", -1);
    expect_order("000123456789012345678901234567890", "123456789012345678901234567890", 0);
    expect_order("1.123456789012345678901234567890", "1.99999999999999999999999999999", 1);
    expect_order("18446744073709551616", "18446744073709551615", 1); /* 2^64 vs 2^64-1 */
}
END_TEST

/* Sorting with the comparison gives the order a DBA expects. */
static int compare_strings(const void *a, const void *b)
{
    return mig_version_compare(*(const char *const *)a, *(const char *const *)b);
}

/* qsort with mig_version_compare orders a mixed list numerically. */
START_TEST(compare_sorts)
{
    const char *list[] = {"20220205-01", "2.15.0", "10",          "2.9.0",
                          "20220204-02", "v1.1",   "20220204-01", "9"};
    const char *want[] = {"v1.1", "2.9.0",       "2.15.0",      "9",
                          "10",   "20220204-01", "20220204-02", "20220205-01"};
    qsort(list, sizeof list / sizeof *list, sizeof *list, compare_strings);
    for (size_t i = 0; i < sizeof list / sizeof *list; i++)
        ck_assert_str_eq(list[i], want[i]);
}
END_TEST

Suite *version_suite(void)
{
    Suite *s = suite_create("version");
    TCase *tc = tcase_create("prefix");
    tcase_add_test(tc, prefix_grammar);
    tcase_add_test(tc, prefix_edges);
    tcase_add_test(tc, valid_targets);
    tcase_add_test(tc, invalid_targets);
    suite_add_tcase(s, tc);
    tc = tcase_create("compare");
    tcase_add_test(tc, compare_numeric_segments);
    tcase_add_test(tc, compare_date_counters);
    tcase_add_test(tc, compare_equivalences);
    tcase_add_test(tc, compare_long_numbers);
    tcase_add_test(tc, compare_sorts);
    suite_add_tcase(s, tc);
    return s;
}
