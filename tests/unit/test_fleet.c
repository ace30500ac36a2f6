/*
 * The engine-neutral parts of migrate_fleet: the plan (files of a pattern, workers capped by the
 * files and by a single-threaded library) and the summary line.
 */
#include "helpers.h"
#include "suites.h"

#include "mig_alloc.h"
#include "mig_error.h"
#include "mig_fleet.h"

#include <stdio.h>
#include <stdlib.h>

/* A folder with n empty files t0.db .. t<n-1>.db; the pattern of them in *pattern. */
static char *fleet_dir(int n, char **pattern)
{
    char *dir = tmp_dir();
    for (int i = 0; i < n; i++) {
        char rel[32];
        snprintf(rel, sizeof rel, "t%d.db", i);
        write_file(dir, rel, "");
    }
    *pattern = path_join(dir, "t*.db");
    return dir;
}

/* Sorted paths; one per core by default, never more workers than files. */
START_TEST(plan_files_and_workers)
{
    char *pattern;
    char *dir = fleet_dir(3, &pattern);
    mig_fleet_plan plan;
    mig_error err;
    mig_error_init(&err);
    ck_assert_int_eq(mig_fleet_plan_make("f", pattern, 0, 2, true, &plan, &err), MIG_OK);
    ck_assert_uint_eq(plan.count, 3);
    ck_assert_str_contains(plan.paths[0], "t0.db");
    ck_assert_str_contains(plan.paths[2], "t2.db");
    ck_assert_int_eq(plan.workers, 2);
    ck_assert_ptr_null(plan.note);
    mig_fleet_plan_free(&plan);
    ck_assert_int_eq(mig_fleet_plan_make("f", pattern, 16, 2, true, &plan, &err), MIG_OK);
    ck_assert_int_eq(plan.workers, 3);
    mig_fleet_plan_free(&plan);
    free(pattern);
    tmp_dir_free(dir);
}
END_TEST

/* A single-threaded library gets one worker, and the note says why. */
START_TEST(plan_single_threaded_library)
{
    char *pattern;
    char *dir = fleet_dir(4, &pattern);
    mig_fleet_plan plan;
    mig_error err;
    mig_error_init(&err);
    ck_assert_int_eq(mig_fleet_plan_make("f", pattern, 4, 2, false, &plan, &err), MIG_OK);
    ck_assert_int_eq(plan.workers, 1);
    ck_assert_str_contains(plan.note, "sqlite3_threadsafe() is 0");
    mig_fleet_plan_free(&plan);
    free(pattern);
    tmp_dir_free(dir);
}
END_TEST

/* A pattern that matches nothing, and a NULL one, are errors of their classes. */
START_TEST(plan_refusals)
{
    mig_fleet_plan plan;
    mig_error err;
    mig_error_init(&err);
    ck_assert_int_eq(
        mig_fleet_plan_make("migrate_fleet", "/nonexistent/*.db", 0, 2, true, &plan, &err),
        MIG_ERR_NO_FILE);
    ck_assert_str_eq(err.message, "migrate_fleet: no database file matches /nonexistent/*.db");
    mig_error_clear(&err);
    ck_assert_int_eq(mig_fleet_plan_make("migrate_fleet", NULL, 0, 2, true, &plan, &err),
                     MIG_ERR_NULL);
    mig_error_clear(&err);
}
END_TEST

/* A list: sorted, each file once (the same text or another name), a NULL or empty path kept
 * with an error naming its row; an empty list is refused. */
START_TEST(plan_from_a_list)
{
    char *pattern;
    char *dir = fleet_dir(2, &pattern);
    char *t0 = path_join(dir, "t0.db"), *t1 = path_join(dir, "t1.db");
    char *t1_again = path_join(dir, "./t1.db");
    char *paths[] = {t1, NULL, t0, t1_again, "", t0};
    mig_fleet_plan plan;
    mig_error err;
    mig_error_init(&err);
    ck_assert_int_eq(mig_fleet_plan_list("f", "table t", paths, 6, 0, 4, true, &plan, &err),
                     MIG_OK);
    ck_assert_uint_eq(plan.count, 4);
    ck_assert_uint_eq(plan.duplicates, 2);
    ck_assert_str_eq(plan.paths[0], "");
    ck_assert_str_eq(plan.errors[0], "f: table t, row 2: the path is NULL");
    ck_assert_str_eq(plan.errors[1], "f: table t, row 5: the path is empty");
    ck_assert_str_eq(plan.paths[2], t1_again);
    ck_assert_ptr_null(plan.errors[2]);
    ck_assert_str_eq(plan.paths[3], t0);
    ck_assert_int_eq(plan.workers, 4);
    mig_fleet_plan_free(&plan);
    ck_assert_int_eq(mig_fleet_plan_list("f", "table t", paths, 0, 0, 4, true, &plan, &err),
                     MIG_ERR_NO_FILE);
    ck_assert_str_eq(err.message, "f: table t lists no database file");
    mig_error_clear(&err);
    free(t0), free(t1), free(t1_again), free(pattern);
    tmp_dir_free(dir);
}
END_TEST

/* The summary counts each state, leaves out the empty ones, and adds the note. */
START_TEST(summary_line)
{
    mig_fleet_row rows[4] = {
        {.state = MIG_FLEET_MIGRATED, .applied = 3},
        {.state = MIG_FLEET_MIGRATED, .applied = 1},
        {.state = MIG_FLEET_CURRENT},
        {.state = MIG_FLEET_LOCKED},
    };
    char *line = mig_fleet_summary(rows, 4, 2, 17, false, 0, NULL);
    ck_assert_str_eq(line, "4 databases, 2 workers: 2 migrated (4 migrations), 1 current, "
                           "1 locked, in 17 ms");
    mig_free(line);
    rows[0].state = MIG_FLEET_PENDING;
    line = mig_fleet_summary(rows, 1, 1, 5, true, 0, "one worker: why");
    ck_assert_str_eq(line, "1 database, 1 worker: 1 pending (3 migrations), in 5 ms; one "
                           "worker: why");
    mig_free(line);
    rows[1].drift = true;
    line = mig_fleet_summary(rows, 2, 2, 9, false, 3, NULL);
    ck_assert_str_eq(line, "2 databases, 2 workers: 1 migrated (4 migrations), 1 pending, in 9 ms; "
                           "1 with schema drift; 3 paths named a file already listed");
    mig_free(line);
}
END_TEST

Suite *fleet_suite(void)
{
    Suite *s = suite_create("fleet");
    TCase *tc = tcase_create("plan");
    tcase_add_unchecked_fixture(tc, tmp_root_setup, tmp_root_teardown);
    tcase_add_test(tc, plan_files_and_workers);
    tcase_add_test(tc, plan_single_threaded_library);
    tcase_add_test(tc, plan_refusals);
    tcase_add_test(tc, plan_from_a_list);
    tcase_add_test(tc, summary_line);
    suite_add_tcase(s, tc);
    return s;
}
