/*
 * Schema drift in the core: comparing two descriptions names each object added, removed or
 * changed with its kind, and nothing when they are the same; the setting's names.
 */
#include "helpers.h"
#include "suites.h"

#include "mig_alloc.h"
#include "mig_drift.h"

#include <string.h>

static const char recorded[] = "table\tusers\t\n"
                               "column\tusers.email\ttext not null\n"
                               "column\tusers.id\tinteger primary key\n"
                               "column\tusers.name\ttext default 'x'\n";

/* The same description compares equal: no row. */
START_TEST(same_description_is_in_sync)
{
    mig_drift d = {0};
    mig_error err;
    mig_error_init(&err);
    ck_assert_int_eq(mig_schema_diff(recorded, recorded, &d, &err), MIG_OK);
    ck_assert_uint_eq(d.count, 0);
    mig_drift_free(&d);
}
END_TEST

/* A dropped column, a changed default and a new index are each named with their kind. */
START_TEST(each_change_is_named)
{
    const char live[] = "table\tusers\t\n"
                        "column\tusers.id\tinteger primary key\n"
                        "column\tusers.name\ttext default 'y'\n"
                        "index\tusers_name\tcreate index users_name on users(name)\n";
    mig_drift d = {0};
    mig_error err;
    mig_error_init(&err);
    ck_assert_int_eq(mig_schema_diff(recorded, live, &d, &err), MIG_OK);
    ck_assert_uint_eq(d.count, 3);
    ck_assert_str_eq(d.rows[0].kind, "column");
    ck_assert_str_eq(d.rows[0].name, "users.email");
    ck_assert_str_eq(d.rows[0].change, "removed");
    ck_assert_str_eq(d.rows[0].recorded, "text not null");
    ck_assert_ptr_null(d.rows[0].live);
    ck_assert_str_eq(d.rows[1].name, "users.name");
    ck_assert_str_eq(d.rows[1].change, "changed");
    ck_assert_str_eq(d.rows[1].recorded, "text default 'x'");
    ck_assert_str_eq(d.rows[1].live, "text default 'y'");
    ck_assert_str_eq(d.rows[2].kind, "index");
    ck_assert_str_eq(d.rows[2].change, "added");
    ck_assert_ptr_null(d.rows[2].recorded);
    char *summary = mig_drift_summary(&d, 2);
    ck_assert_str_eq(summary, "column users.email removed, column users.name changed and 1 more");
    mig_free(summary);
    mig_drift_free(&d);
}
END_TEST

/* Line order does not matter to the comparison: both sides are sorted first. */
START_TEST(order_does_not_matter)
{
    const char shuffled[] = "column\tusers.name\ttext default 'x'\n"
                            "column\tusers.id\tinteger primary key\n"
                            "table\tusers\t\n"
                            "column\tusers.email\ttext not null";
    mig_drift d = {0};
    mig_error err;
    mig_error_init(&err);
    ck_assert_int_eq(mig_schema_diff(recorded, shuffled, &d, &err), MIG_OK);
    ck_assert_uint_eq(d.count, 0);
    mig_drift_free(&d);
}
END_TEST

/* The setting takes exactly error, warn and ignore; a zeroed policy warns. */
START_TEST(setting_names)
{
    int mode = -1;
    ck_assert(mig_drift_mode_parse("error", &mode));
    ck_assert_int_eq(mode, MIG_DRIFT_ERROR);
    ck_assert(mig_drift_mode_parse("ignore", &mode));
    ck_assert_int_eq(mode, MIG_DRIFT_IGNORE);
    ck_assert(!mig_drift_mode_parse("Warn", &mode));
    ck_assert(!mig_drift_mode_parse(NULL, &mode));
    ck_assert_str_eq(mig_drift_mode_name(0), "warn");
}
END_TEST

Suite *drift_suite(void)
{
    Suite *s = suite_create("drift");
    TCase *tc = tcase_create("diff");
    tcase_add_test(tc, same_description_is_in_sync);
    tcase_add_test(tc, each_change_is_named);
    tcase_add_test(tc, order_does_not_matter);
    tcase_add_test(tc, setting_names);
    suite_add_tcase(s, tc);
    return s;
}
