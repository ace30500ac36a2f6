/* migrate_add_unique's pure parts: column lists, derived names, quoting, on_duplicate. */
#include "helpers.h"
#include "suites.h"

#include "mig_alloc.h"
#include "mig_unique.h"

#include <string.h>

/* Parse list and expect exactly the names given (NULL-terminated). */
static void expect_columns(const char *list, const char *const *want)
{
    char **names = NULL;
    int count = -1;
    mig_error err;
    mig_error_init(&err);
    ck_assert_int_eq(mig_unique_columns("migrate_add_unique", list, &names, &count, &err), MIG_OK);
    int n = 0;
    while (want[n])
        n++;
    ck_assert_int_eq(count, n);
    for (int i = 0; i < n; i++)
        ck_assert_str_eq(names[i], want[i]);
    mig_unique_columns_free(names, count);
    mig_error_clear(&err);
}

/* Parse list and expect a refusal whose message holds fragment. */
static void expect_columns_refused(const char *list, const char *fragment)
{
    char **names = NULL;
    int count = -1;
    mig_error err;
    mig_error_init(&err);
    ck_assert_int_ne(mig_unique_columns("migrate_add_unique", list, &names, &count, &err), MIG_OK);
    ck_assert_ptr_null(names);
    ck_assert_msg(err.message && strstr(err.message, fragment), "\"%s\": got \"%s\"", list,
                  err.message ? err.message : "(none)");
    mig_error_clear(&err);
}

/* White space around each name goes; inside a name (and any other byte) it stays. */
START_TEST(columns_trimmed)
{
    expect_columns("email", (const char *[]){"email", NULL});
    expect_columns(" team_id ,\temail\n", (const char *[]){"team_id", "email", NULL});
    expect_columns("first name,we\"ird;--", (const char *[]){"first name", "we\"ird;--", NULL});
}
END_TEST

START_TEST(columns_refused)
{
    expect_columns_refused("", "empty column name");
    expect_columns_refused("a,,b", "empty column name");
    expect_columns_refused("a, ", "empty column name");
    expect_columns_refused("a, b, a", "a");
    char **names = NULL;
    int count = 0;
    mig_error err;
    mig_error_init(&err);
    ck_assert_int_ne(mig_unique_columns("migrate_add_unique", NULL, &names, &count, &err), MIG_OK);
    ck_assert_str_eq(err.message, "migrate_add_unique needs a list of columns");
    mig_error_clear(&err);
}
END_TEST

/* Short names are the plain concatenation; long ones fit in 63 bytes, stay distinct, keep the
 * suffix and never split a UTF-8 character. */
START_TEST(derived_names)
{
    char *cols[] = {"team_id", "email"};
    char *name = mig_unique_index_name("users", cols, 2);
    ck_assert_str_eq(name, "users_team_id_email_key");
    mig_free(name);
    name = mig_unique_quarantine_name("users");
    ck_assert_str_eq(name, "users_duplicates");
    mig_free(name);

    char table[80], other[80];
    memset(table, 't', 60), table[60] = '\0';
    memcpy(other, table, 61), other[59] = 'u';
    char *a = mig_unique_quarantine_name(table), *b = mig_unique_quarantine_name(other);
    ck_assert_uint_eq(strlen(a), MIG_MAX_IDENTIFIER);
    ck_assert_uint_eq(strlen(b), MIG_MAX_IDENTIFIER);
    ck_assert_str_ne(a, b);
    ck_assert_str_eq(a + strlen(a) - strlen("_duplicates"), "_duplicates");
    ck_assert_int_eq(strncmp(a, table, 40), 0);
    mig_free(a), mig_free(b);

    char *one[] = {"email"};
    a = mig_unique_index_name(table, one, 1);
    ck_assert_uint_eq(strlen(a), MIG_MAX_IDENTIFIER);
    ck_assert_str_eq(a + strlen(a) - 4, "_key");
    mig_free(a);

    /* 2-byte characters: the cut falls on a character boundary */
    char wide[121] = "";
    for (int i = 0; i < 30; i++)
        strcat(wide, "\xc3\xa9"); /* é */
    a = mig_unique_quarantine_name(wide);
    ck_assert_uint_le(strlen(a), MIG_MAX_IDENTIFIER);
    size_t prefix = strlen(a) - strlen("_12345678_duplicates");
    ck_assert_uint_eq(prefix % 2, 0);
    ck_assert_int_eq(strncmp(a, wide, prefix), 0);
    mig_free(a);
}
END_TEST

START_TEST(quoting_and_policy)
{
    char *q = mig_quote_ident("we\"ird");
    ck_assert_str_eq(q, "\"we\"\"ird\"");
    mig_free(q);
    mig_on_duplicate policy;
    mig_error err;
    mig_error_init(&err);
    ck_assert_int_eq(mig_unique_on_duplicate(NULL, &policy, &err), MIG_OK);
    ck_assert_int_eq(policy, MIG_DUP_FAIL);
    ck_assert_int_eq(mig_unique_on_duplicate("keep_last", &policy, &err), MIG_OK);
    ck_assert_int_eq(policy, MIG_DUP_KEEP_LAST);
    ck_assert_int_eq(mig_unique_on_duplicate("keep_first", &policy, &err), MIG_OK);
    ck_assert_int_eq(policy, MIG_DUP_KEEP_FIRST);
    ck_assert_int_eq(mig_unique_on_duplicate("merge", &policy, &err), MIG_OK);
    ck_assert_int_eq(policy, MIG_DUP_MERGE);
    ck_assert_int_ne(mig_unique_on_duplicate("KEEP_FIRST", &policy, &err), MIG_OK);
    ck_assert_ptr_nonnull(strstr(err.message, "KEEP_FIRST"));
    mig_error_clear(&err);
}
END_TEST

Suite *unique_suite(void)
{
    Suite *s = suite_create("unique");
    TCase *tc = tcase_create("unique");
    tcase_add_test(tc, columns_trimmed);
    tcase_add_test(tc, columns_refused);
    tcase_add_test(tc, derived_names);
    tcase_add_test(tc, quoting_and_policy);
    suite_add_tcase(s, tc);
    return s;
}
