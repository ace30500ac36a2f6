/* Lifecycle against the fake engine: rollback, migrate_to, baseline, validate, repair. */
#include "fake_engine.h"
#include "helpers.h"
#include "suites.h"

#include "mig_alloc.h"
#include "mig_record.h"
#include "mig_run.h"
#include "mig_sha256.h"

#include <stdio.h>
#include <stdlib.h>

#define A_UP   "CREATE TABLE a (x int);\n"
#define A_DOWN "DROP TABLE a;\n"
#define B_UP   "CREATE TABLE b (x int);\n"
#define B_DOWN "DROP TABLE b;\n"
#define C_UP   "CREATE TABLE c (x int);\n"
#define C_DOWN "DROP TABLE c;\n"
/* down section on line 6 */
#define B_FILE "-- adds b\n-- migrate:up\n" B_UP "\n-- migrate:down\n" B_DOWN

#define LOG_START "savepoint(migrate_call) lock prepare(create) load"

/* A pair, a sectioned file and a folder, each with a down script. */
static char *lifecycle_folder(void)
{
    char *dir = tmp_dir();
    write_file(dir, "20240101_a.up.sql", A_UP);
    write_file(dir, "20240101_a.down.sql", A_DOWN);
    write_file(dir, "20240102_b.sql", B_FILE);
    make_dir(dir, "20240103_c");
    write_file(dir, "20240103_c/up.sql", C_UP);
    write_file(dir, "20240103_c/down.sql", C_DOWN);
    return dir;
}

/* Run a call that must succeed and return how many migrations it ran. */
static int run_ok(const mig_engine *eng, const char *dir, mig_plan_kind kind, const char *target,
                  long steps, mig_policy policy)
{
    mig_call call = {kind, target, steps, policy};
    mig_error err;
    mig_error_init(&err);
    int count = -1;
    int rc = mig_run(eng, FOLDER(dir), &call, &count, &err);
    char msg[512];
    snprintf(msg, sizeof msg, "%s", err.message ? err.message : "");
    mig_error_clear(&err);
    ck_assert_msg(rc == MIG_OK, "call failed: %s", msg);
    return count;
}

/* The state of each status row, joined: "applied pending ...". */
static void expect_states(const mig_engine *eng, const char *dir, const char *want)
{
    mig_snapshot snap;
    mig_error err;
    mig_error_init(&err);
    ck_assert_int_eq(mig_snapshot_load(eng, FOLDER(dir), &snap, &err), MIG_OK);
    char got[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < snap.status.count; i++)
        used += (size_t)snprintf(got + used, sizeof got - used, "%s%s", i ? " " : "",
                                 mig_state_name(snap.status.rows[i].state));
    mig_snapshot_free(&snap);
    ck_assert_str_eq(got, want);
}

static const mig_policy no_policy = {false, false, 0};

/* Rolling back two steps runs the newest down scripts first and records 'down' rows. */
START_TEST(rollback_steps)
{
    char *dir = lifecycle_folder();
    fake f = {0};
    mig_engine eng = fake_engine(&f);
    ck_assert_int_eq(run_ok(&eng, dir, MIG_PLAN_APPLY, NULL, MIG_STEPS_ALL, no_policy), 3);
    fake_clear_log(&f);
    ck_assert_int_eq(run_ok(&eng, dir, MIG_PLAN_ROLLBACK, NULL, 2, no_policy), 2);
    ck_assert_str_eq(f.log, LOG_START " steps_begin exec(DROP TABLE c;) insert(20240103 down 1)"
                                      " exec(DROP TABLE b;) insert(20240102 down 1) steps_end"
                                      " release(migrate_call)");
    ck_assert_uint_eq(f.nrows, 5);
    fake_row *r = &f.rows[3];
    char sum[65];
    ck_assert_str_eq(r->col[1], "20240103");
    ck_assert_str_eq(r->col[3], "down");
    mig_sha256_hex(C_UP, strlen(C_UP), sum);
    ck_assert_str_eq(r->col[4], sum); /* the checksum that was in force */
    mig_sha256_hex(C_DOWN, strlen(C_DOWN), sum);
    ck_assert_str_eq(r->col[5], sum);
    ck_assert_str_eq(r->col[6], "20240103_c/down.sql");
    ck_assert_str_eq(r->down_sql, C_DOWN);
    ck_assert_str_eq(f.rows[4].col[6], "20240102_b.sql");
    ck_assert_str_contains(f.progress[7], "reverted 20240103 c (");
    fake_clear_log(&f);
    expect_states(&eng, dir, "applied pending pending");
    /* and apply brings them back */
    ck_assert_int_eq(run_ok(&eng, dir, MIG_PLAN_APPLY, NULL, MIG_STEPS_ALL, no_policy), 2);
    expect_states(&eng, dir, "applied applied applied");
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* A failing down script is located on its file line (a down section starting on line 6). */
START_TEST(rollback_failure_line)
{
    char *dir = lifecycle_folder();
    write_file(dir, "20240102_b.sql",
               "-- adds b\n-- migrate:up\n" B_UP "\n-- migrate:down\n" B_DOWN "DROP FAIL;\n");
    fake f = {0};
    mig_engine eng = fake_engine(&f);
    ck_assert_int_eq(run_ok(&eng, dir, MIG_PLAN_APPLY, NULL, MIG_STEPS_ALL, no_policy), 3);
    fake_clear_log(&f);
    f.fail_exec_on = "FAIL";
    mig_call call = {MIG_PLAN_ROLLBACK, NULL, 2, no_policy};
    mig_error err;
    mig_error_init(&err);
    int count = 99;
    ck_assert_int_eq(mig_run(&eng, FOLDER(dir), &call, &count, &err), MIG_ENGINE);
    ck_assert_int_eq(count, 0);
    ck_assert_str_eq(err.context, "migration 20240102 (20240102_b.sql, line 7)");
    ck_assert_str_eq(f.log, LOG_START " steps_begin exec(DROP TABLE c;) insert(20240103 down 1)"
                                      " exec(DROP TABLE b; DROP FAIL;) rollback(migrate_call)");
    ck_assert_uint_eq(f.nrows, 3);
    mig_error_clear(&err);
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* A migration without a down script cannot be reverted, unless its up script is blank too. */
START_TEST(rollback_without_down)
{
    char *dir = tmp_dir();
    write_file(dir, "20240101_a.up.sql", A_UP);
    write_file(dir, "20240102_noop.up.sql", "-- nothing to do\n");
    fake f = {0};
    mig_engine eng = fake_engine(&f);
    ck_assert_int_eq(run_ok(&eng, dir, MIG_PLAN_APPLY, NULL, MIG_STEPS_ALL, no_policy), 2);
    fake_clear_log(&f);
    ck_assert_int_eq(run_ok(&eng, dir, MIG_PLAN_ROLLBACK, NULL, 1, no_policy), 1);
    ck_assert_str_eq(f.log, LOG_START " load_scripts(2) steps_begin exec() insert(20240102 down 1)"
                                      " steps_end release(migrate_call)");
    fake_clear_log(&f);
    mig_call call = {MIG_PLAN_ROLLBACK, NULL, 1, no_policy};
    mig_error err;
    mig_error_init(&err);
    int count = 99;
    ck_assert_int_eq(mig_run(&eng, FOLDER(dir), &call, &count, &err), MIG_ERR_NOT_FOUND);
    ck_assert_int_eq(count, 0);
    ck_assert_str_eq(err.message, "20240101_a.up.sql: migration 20240101 has no down script, so it "
                                  "cannot be reverted; nothing was reverted");
    ck_assert_str_eq(f.log, LOG_START " load_scripts(1) rollback(migrate_call)");
    mig_error_clear(&err);
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* When the file is gone (missing=ignore), the down script history kept is run, and named so. */
START_TEST(rollback_from_history)
{
    char *dir = lifecycle_folder();
    fake f = {0};
    mig_engine eng = fake_engine(&f);
    ck_assert_int_eq(run_ok(&eng, dir, MIG_PLAN_APPLY, NULL, MIG_STEPS_ALL, no_policy), 3);
    char *gone = path_join(dir, "20240103_c");
    rm_tree(gone);
    free(gone);

    mig_call call = {MIG_PLAN_ROLLBACK, NULL, 1, no_policy};
    mig_error err;
    mig_error_init(&err);
    int count = 0;
    ck_assert_int_eq(mig_run(&eng, FOLDER(dir), &call, &count, &err), MIG_ERR_STATE);
    ck_assert_str_contains(err.message, "migration 20240103 was applied but its file is missing");
    mig_error_clear(&err);

    fake_clear_log(&f);
    call.policy.ignore_missing = true;
    f.fail_exec_on = "DROP TABLE c";
    ck_assert_int_eq(mig_run(&eng, FOLDER(dir), &call, &count, &err), MIG_ENGINE);
    ck_assert_str_eq(err.context, "migration 20240103 (the down script kept in migrate_history "
                                  "for 20240103_c/up.sql, line 1)");
    mig_error_clear(&err);

    fake_clear_log(&f);
    f.fail_exec_on = NULL;
    ck_assert_int_eq(run_ok(&eng, dir, MIG_PLAN_ROLLBACK, NULL, 1, call.policy), 1);
    ck_assert_str_eq(f.log, LOG_START " load_scripts(3) steps_begin exec(DROP TABLE c;)"
                                      " insert(20240103 down 1) steps_end release(migrate_call)");
    expect_states(&eng, dir, "applied applied");
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* migrate_to reverts what is newer than the target, or applies up to it. */
START_TEST(migrate_to)
{
    char *dir = lifecycle_folder();
    fake f = {0};
    mig_engine eng = fake_engine(&f);
    ck_assert_int_eq(run_ok(&eng, dir, MIG_PLAN_APPLY, NULL, MIG_STEPS_ALL, no_policy), 3);
    fake_clear_log(&f);
    ck_assert_int_eq(run_ok(&eng, dir, MIG_PLAN_TO, "20240101", 0, no_policy), 2);
    ck_assert_str_eq(f.log, LOG_START " steps_begin exec(DROP TABLE c;) insert(20240103 down 1)"
                                      " exec(DROP TABLE b;) insert(20240102 down 1) steps_end"
                                      " release(migrate_call)");
    fake_clear_log(&f);
    ck_assert_int_eq(run_ok(&eng, dir, MIG_PLAN_TO, "20240102", 0, no_policy), 1);
    ck_assert_str_eq(f.log, LOG_START " steps_begin exec(CREATE TABLE b (x int);)"
                                      " insert(20240102 up 1) steps_end release(migrate_call)");
    fake_clear_log(&f);
    ck_assert_int_eq(run_ok(&eng, dir, MIG_PLAN_TO, "20240102", 0, no_policy), 0);
    ck_assert_str_eq(f.log, LOG_START " release(migrate_call)");
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* migrate_plan(dir, target) shows migrate_to's steps with the texts and lines they would run. */
START_TEST(plan_load_to)
{
    char *dir = lifecycle_folder();
    fake f = {0};
    mig_engine eng = fake_engine(&f);
    ck_assert_int_eq(run_ok(&eng, dir, MIG_PLAN_APPLY, NULL, MIG_STEPS_ALL, no_policy), 3);
    fake_clear_log(&f);
    mig_snapshot snap;
    mig_error err;
    mig_error_init(&err);
    ck_assert_int_eq(mig_plan_load(&eng, dir, "20240101", &snap, &err), MIG_OK);
    ck_assert_str_eq(f.log, "prepare(nocreate) load");
    ck_assert_uint_eq(snap.plan.count, 2);
    ck_assert_str_eq(snap.plan.steps[0].direction, "down");
    ck_assert_str_eq(snap.plan.steps[0].script, "20240103_c/down.sql");
    ck_assert_str_eq(snap.plan.steps[0].text.ptr, C_DOWN);
    ck_assert_int_eq(snap.plan.steps[0].text.first_line, 1);
    ck_assert_str_eq(snap.plan.steps[1].script, "20240102_b.sql");
    ck_assert_str_eq(snap.plan.steps[1].text.ptr, B_DOWN);
    ck_assert_int_eq(snap.plan.steps[1].text.first_line, 6);
    ck_assert_int_eq(f.nrows, 3); /* nothing changed */
    mig_snapshot_free(&snap);
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* A baseline row marks a database built before migrate; apply then runs only newer migrations. */
START_TEST(baseline)
{
    char *dir = lifecycle_folder();
    fake f = {0};
    mig_engine eng = fake_engine(&f);
    mig_error err;
    mig_error_init(&err);
    ck_assert_int_eq(mig_baseline(&eng, "20240102", "legacy", &err), MIG_OK);
    ck_assert_str_eq(f.log, LOG_START " insert(20240102 baseline 1) release(migrate_call)");
    ck_assert_uint_eq(f.nrows, 1);
    ck_assert_str_eq(f.rows[0].col[2], "legacy");
    ck_assert_ptr_null(f.rows[0].col[4]);
    fake_clear_log(&f);
    expect_states(&eng, dir, "applied applied pending");
    fake_clear_log(&f);
    ck_assert_int_eq(run_ok(&eng, dir, MIG_PLAN_APPLY, NULL, MIG_STEPS_ALL, no_policy), 1);
    ck_assert_str_eq(f.log, LOG_START " steps_begin exec(CREATE TABLE c (x int);)"
                                      " insert(20240103 up 1) steps_end release(migrate_call)");

    fake_clear_log(&f);
    ck_assert_int_eq(mig_baseline(&eng, "20240104", NULL, &err), MIG_ERR_CONFLICT);
    ck_assert_str_contains(err.message, "refusing to baseline at 20240104");
    ck_assert_str_eq(f.log, LOG_START " rollback(migrate_call)");
    mig_error_clear(&err);
    fake_free(&f);

    /* bad versions never reach the engine; the name defaults to "baseline" */
    fake_clear_log(&f);
    ck_assert_int_eq(mig_baseline(&eng, "abc", NULL, &err), MIG_ERR_ARGUMENT);
    ck_assert_str_contains(err.message, "\"abc\"");
    ck_assert_int_eq(mig_baseline(&eng, NULL, NULL, &err), MIG_ERR_NULL);
    ck_assert_str_eq(f.log, "");
    ck_assert_int_eq(mig_baseline(&eng, "v7", "", &err), MIG_OK);
    ck_assert_str_eq(f.rows[0].col[1], "v7");
    ck_assert_str_eq(f.rows[0].col[2], "baseline");
    mig_error_clear(&err);
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* Rolling back below a baseline and applying again is a round trip (or the rollback refuses). */
START_TEST(baseline_rollback_round_trip)
{
    char *dir = lifecycle_folder();
    fake f = {0};
    mig_engine eng = fake_engine(&f);
    mig_error err;
    mig_error_init(&err);
    ck_assert_int_eq(mig_baseline(&eng, "20240105", NULL, &err), MIG_OK);
    expect_states(&eng, dir, "applied applied applied applied");
    mig_call call = {MIG_PLAN_ROLLBACK, NULL, 1, no_policy};
    int count = 0;
    int rc = mig_run(&eng, FOLDER(dir), &call, &count, &err);
    mig_error_clear(&err);
    if (rc == MIG_OK) {
        ck_assert_int_eq(count, 1); /* 20240103, the newest migration with a file */
        rc = mig_apply(&eng, dir, NULL, &count, &err);
        char msg[512];
        snprintf(msg, sizeof msg, "%s", err.message ? err.message : "");
        mig_error_clear(&err);
        fake_free(&f);
        tmp_dir_free(dir);
        ck_assert_msg(rc == MIG_OK, "apply after a rollback below the baseline failed: %s", msg);
        ck_assert_int_eq(count, 1);
        return;
    }
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* validate changes nothing and lists every problem, duplicate versions included. */
START_TEST(validate)
{
    char *dir = lifecycle_folder();
    fake f = {0};
    mig_engine eng = fake_engine(&f);
    mig_error err;
    mig_error_init(&err);
    ck_assert_int_eq(mig_validate(&eng, FOLDER(dir), NULL, &err), MIG_OK); /* no table yet */
    ck_assert_str_eq(f.log, "prepare(nocreate)");
    ck_assert(!f.exists);
    ck_assert_int_eq(run_ok(&eng, dir, MIG_PLAN_APPLY, NULL, MIG_STEPS_ALL, no_policy), 3);
    fake_clear_log(&f);
    ck_assert_int_eq(mig_validate(&eng, FOLDER(dir), NULL, &err), MIG_OK);
    ck_assert_str_eq(f.log, "prepare(nocreate) load");

    write_file(dir, "20240102_b.sql", "-- migrate:up\nCREATE TABLE b (y int);\n");
    write_file(dir, "20240102_other.sql", "SELECT 1;\n");
    ck_assert_int_eq(mig_validate(&eng, FOLDER(dir), NULL, &err), MIG_ERR_STATE);
    ck_assert_str_eq(err.message, "2 problems with the migrations; nothing was changed");
    ck_assert_str_contains(err.detail,
                           "duplicate version 20240102: 20240102_b.sql and 20240102_other.sql\n"
                           "20240102_b.sql: migration 20240102 was modified");
    ck_assert_uint_eq(f.nrows, 3);
    mig_error_clear(&err);
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* repair accepts modified checksums, forgets missing migrations and clears failures. */
START_TEST(repair)
{
    char *dir = lifecycle_folder();
    fake f = {0};
    mig_engine eng = fake_engine(&f);
    mig_error err;
    mig_error_init(&err);
    ck_assert_int_eq(run_ok(&eng, dir, MIG_PLAN_APPLY, NULL, MIG_STEPS_ALL, no_policy), 3);
    write_file(dir, "20240102_b.sql", "-- migrate:up\nCREATE TABLE b (y int);\n");
    char *gone = path_join(dir, "20240103_c");
    rm_tree(gone);
    free(gone);
    write_file(dir, "20240104_d.sql", "SELECT 4;\n");
    fake_add_row(&f, "20240104", "d", "up", "whatever", false);
    expect_states(&eng, dir, "applied modified missing failed");
    fake_clear_log(&f);

    char *summary = NULL;
    ck_assert_int_eq(mig_repair(&eng, FOLDER(dir), &summary, &err), MIG_OK);
    ck_assert_str_eq(summary, "accepted the new checksum of 1 modified migration (20240102); "
                              "forgot 1 missing migration (20240103); cleared 1 failed migration "
                              "(20240104)");
    mig_free(summary);
    ck_assert_str_eq(f.log, LOG_START " insert(20240102 repair 1) insert(20240103 repair 1)"
                                      " insert(20240104 repair 1) release(migrate_call)");
    char sum[65];
    const char *new_b = "CREATE TABLE b (y int);\n";
    mig_sha256_hex(new_b, strlen(new_b), sum);
    ck_assert_str_eq(f.rows[4].col[4], sum);
    ck_assert_ptr_null(f.rows[5].col[4]);
    fake_clear_log(&f);
    expect_states(&eng, dir, "applied applied pending");
    ck_assert_int_eq(mig_validate(&eng, FOLDER(dir), NULL, &err), MIG_OK);

    ck_assert_int_eq(mig_repair(&eng, FOLDER(dir), &summary, &err), MIG_OK);
    ck_assert_str_eq(summary, "nothing to repair");
    mig_free(summary);
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* read_all lists each duplicate once, keeps the first, and never calls a pair's down a duplicate.
 */
START_TEST(read_all_duplicates)
{
    char *dir = tmp_dir();
    write_file(dir, "20240101_a.up.sql", A_UP);
    write_file(dir, "20240101_a.down.sql", A_DOWN);
    write_file(dir, "20240101_dup.sql", "SELECT 2;\n");
    write_file(dir, "20240102_x.sql", "SELECT 3;\n");
    mig_set set;
    char *dups = NULL;
    mig_error err;
    mig_error_init(&err);
    int rc = mig_source_load(NULL, FOLDER(dir), 0, &set, &dups, &err);
    char got[512];
    snprintf(got, sizeof got, "%s", dups ? dups : "(none)");
    const char *kept_down = rc == MIG_OK && set.count ? set.items[0].down_script : NULL;
    char down[64];
    snprintf(down, sizeof down, "%s", kept_down ? kept_down : "(none)");
    size_t count = rc == MIG_OK ? set.count : 0;
    if (rc == MIG_OK)
        mig_set_free(&set);
    mig_free(dups);
    mig_error_clear(&err);
    tmp_dir_free(dir);
    ck_assert_int_eq(rc, MIG_OK);
    ck_assert_uint_eq(count, 2);
    ck_assert_str_eq(got, "duplicate version 20240101: 20240101_a.up.sql and 20240101_dup.sql");
    ck_assert_str_eq(down, "20240101_a.down.sql");
}
END_TEST

/* Without duplicates the loader says none and reads as without a list. */
START_TEST(read_all_clean)
{
    char *dir = lifecycle_folder();
    mig_set set;
    char *dups = (char *)"not touched";
    mig_error err;
    mig_error_init(&err);
    ck_assert_int_eq(mig_source_load(NULL, FOLDER(dir), 0, &set, &dups, &err), MIG_OK);
    ck_assert_ptr_null(dups);
    ck_assert_uint_eq(set.count, 3);
    ck_assert_str_eq(set.items[0].down_script, "20240101_a.down.sql");
    mig_set_free(&set);
    tmp_dir_free(dir);
}
END_TEST

Suite *lifecycle_suite(void)
{
    Suite *s = suite_create("lifecycle");
    TCase *tc = tcase_create("calls");
    tcase_add_unchecked_fixture(tc, tmp_root_setup, tmp_root_teardown);
    tcase_add_test(tc, rollback_steps);
    tcase_add_test(tc, rollback_failure_line);
    tcase_add_test(tc, rollback_without_down);
    tcase_add_test(tc, rollback_from_history);
    tcase_add_test(tc, migrate_to);
    tcase_add_test(tc, plan_load_to);
    tcase_add_test(tc, baseline);
    tcase_add_test(tc, baseline_rollback_round_trip);
    tcase_add_test(tc, validate);
    tcase_add_test(tc, repair);
    tcase_add_test(tc, read_all_duplicates);
    tcase_add_test(tc, read_all_clean);
    suite_add_tcase(s, tc);
    return s;
}
