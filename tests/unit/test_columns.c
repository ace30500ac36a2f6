/* The pure parts of migrate_set_not_null, migrate_add_column and migrate_rebuild: fill checks,
 * CREATE TABLE text. */
#include <check.h>
#include <string.h>

#include "helpers.h"
#include "mig_alloc.h"
#include "mig_columns.h"
#include "mig_ddl.h"
#include "suites.h"

/* fill must be one expression; each refusal names why. */
START_TEST(fill_checked)
{
    mig_error err;
    mig_error_init(&err);
    ck_assert_int_eq(mig_columns_fill_check("lower(name) || '@x'", &err), MIG_OK);
    ck_assert_int_eq(mig_columns_fill_check("(SELECT v FROM d WHERE k = 'a;b')", &err), MIG_OK);
    ck_assert_int_eq(mig_columns_fill_check("'it''s (' || \"we\"\"ird\"", &err), MIG_OK);
    static const char *const bad[][2] = {
        {"1; DROP TABLE t", "fill holds a ';'"},
        {"1) WHERE 0 --", "fill has unbalanced parentheses"},
        {"(1", "fill has unbalanced parentheses"},
        {")(", "fill has unbalanced parentheses"},
        {"'open", "fill ends inside a string literal"},
        {"$$x$$", "fill holds a '$' outside quotes"},
        {"  -- nothing\n", "fill is empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_int_eq(mig_columns_fill_check(bad[i][0], &err), MIG_ERR_ARGUMENT);
        ck_assert_str_contains(err.message, bad[i][1]);
        mig_error_clear(&err);
    }
    /* migrate_add_column's type and default: the same check, naming the argument */
    ck_assert_int_eq(mig_columns_sql_check("type", "varchar(20) COLLATE \"C\"", &err), MIG_OK);
    ck_assert_int_eq(mig_columns_sql_check("type", "text); DROP TABLE t; --", &err),
                     MIG_ERR_ARGUMENT);
    ck_assert_str_contains(err.message, "type holds a ';'");
    mig_error_clear(&err);
    ck_assert_int_eq(mig_columns_sql_check("default", "0)", &err), MIG_ERR_ARGUMENT);
    ck_assert_str_eq(err.message,
                     "default has unbalanced parentheses: it must be one SQL expression");
    mig_error_clear(&err);
    mig_on_null policy;
    ck_assert_int_eq(mig_columns_on_null(NULL, &policy, &err), MIG_OK);
    ck_assert_int_eq(policy, MIG_NULL_FAIL);
    ck_assert_int_eq(mig_columns_on_null("quarantine", &policy, &err), MIG_OK);
    ck_assert_int_eq(policy, MIG_NULL_QUARANTINE);
    ck_assert_int_eq(mig_columns_on_null("keep", &policy, &err), MIG_ERR_ARGUMENT);
    mig_error_clear(&err);
}
END_TEST

/* retarget: the table's name replaced (quoted, qualified, bracketed), or a body given a head. */
START_TEST(ddl_retarget)
{
    static const char *const cases[][3] = {
        {"CREATE TABLE users (id INTEGER)", "CREATE TABLE \"n\" (id INTEGER)", "users"},
        {"create table \"we\"\"ird\" (a); ", "create table \"n\" (a); ", "we\"ird"},
        {"CREATE TABLE main.[t x](a, CHECK (a > 0)) WITHOUT ROWID",
         "CREATE TABLE \"n\"(a, CHECK (a > 0)) WITHOUT ROWID", "t x"},
        {"  (a INTEGER, b TEXT)", "CREATE TABLE \"n\"   (a INTEGER, b TEXT)", NULL},
    };
    mig_error err;
    mig_error_init(&err);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *out = NULL, *named = NULL;
        ck_assert_int_eq(mig_ddl_retarget(cases[i][0], "\"n\"", &out, &named, &err), MIG_OK);
        ck_assert_str_eq(out, cases[i][1]);
        if (cases[i][2])
            ck_assert_str_eq(named, cases[i][2]);
        else
            ck_assert_ptr_null(named);
        mig_free(out);
        mig_free(named);
    }
    static const char *const bad[] = {
        "CREATE TEMP TABLE t (a)",    "CREATE TABLE IF NOT EXISTS t (a)",
        "CREATE TABLE t AS SELECT 1", "CREATE TABLE t (a); DROP TABLE x",
        "CREATE TABLE t (a",          "DROP TABLE t",
        "CREATE TABLE t (a) (b)",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *out = NULL, *named = NULL;
        ck_assert_int_eq(mig_ddl_retarget(bad[i], "\"n\"", &out, &named, &err), MIG_ERR_ARGUMENT);
        ck_assert_ptr_null(out);
        ck_assert_ptr_null(named);
        mig_error_clear(&err);
    }
}
END_TEST

/* NOT NULL goes at the end of the column's own definition, whatever its quoting. */
START_TEST(ddl_add_not_null)
{
    mig_error err;
    mig_error_init(&err);
    char *out = NULL;
    ck_assert_int_eq(mig_ddl_add_not_null("CREATE TABLE t (id INTEGER PRIMARY KEY, \"E\"\"m\" "
                                          "TEXT DEFAULT (lower('A,B')) -- note, here\n, n TEXT, "
                                          "CHECK (n <> ''))",
                                          "e\"M", &out, &err),
                     MIG_OK);
    ck_assert_str_eq(out, "CREATE TABLE t (id INTEGER PRIMARY KEY, \"E\"\"m\" TEXT DEFAULT "
                          "(lower('A,B')) NOT NULL -- note, here\n, n TEXT, CHECK (n <> ''))");
    mig_free(out);
    ck_assert_int_eq(mig_ddl_add_not_null("CREATE TABLE t (a, b)", "b", &out, &err), MIG_OK);
    ck_assert_str_eq(out, "CREATE TABLE t (a, b NOT NULL)");
    mig_free(out);
    ck_assert_int_eq(mig_ddl_add_not_null("CREATE TABLE t (a, CHECK (a))", "check", &out, &err),
                     MIG_ERR_NOT_FOUND);
    mig_error_clear(&err);
    ck_assert(
        mig_ddl_has_word("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT)", "autoincrement"));
    ck_assert(!mig_ddl_has_word("CREATE TABLE t (\"AUTOINCREMENT\" TEXT DEFAULT 'AUTOINCREMENT')",
                                "AUTOINCREMENT"));
}
END_TEST

/* The new entries of a sorted list, the first ten shown. */
START_TEST(fresh_entries)
{
    char *before[] = {"a", "c"}, *after[] = {"a", "b", "c", "d"};
    char *detail = NULL;
    ck_assert_uint_eq(mig_columns_fresh(before, 2, after, 4, &detail), 2);
    ck_assert_str_eq(detail, "b\nd");
    mig_free(detail);
    ck_assert_uint_eq(mig_columns_fresh(after, 4, before, 2, &detail), 0);
    ck_assert_ptr_null(detail);
}
END_TEST

Suite *columns_suite(void)
{
    Suite *s = suite_create("columns");
    TCase *tc = tcase_create("columns");
    tcase_add_test(tc, fill_checked);
    tcase_add_test(tc, ddl_retarget);
    tcase_add_test(tc, ddl_add_not_null);
    tcase_add_test(tc, fresh_entries);
    suite_add_tcase(s, tc);
    return s;
}
