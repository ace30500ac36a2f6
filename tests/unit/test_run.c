/* The runner against a fake engine that records every call in memory. */
#include "fake_engine.h"
#include "helpers.h"
#include "suites.h"

#include "mig_alloc.h"
#include "mig_check.h"
#include "mig_drift.h"
#include "mig_export.h"
#include "mig_run.h"
#include "mig_sha256.h"
#include "mig_columns.h"
#include "mig_unique.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define A_UP   "CREATE TABLE a (x int);\n"
#define A_DOWN "DROP TABLE a;\n"
#define B_FILE                                                                                     \
    "-- adds b\n-- migrate:up\nCREATE TABLE b (x int);\nCREATE INDEX b_x ON b (x);\n"              \
    "-- migrate:down\nDROP TABLE b;\n"
#define B_UP "CREATE TABLE b (x int);\nCREATE INDEX b_x ON b (x);\n"
#define C_UP "CREATE TABLE c (x int);\n"

#define LOG_START "savepoint(migrate_call) lock prepare(create) load"
#define LOG_A     "exec(CREATE TABLE a (x int);) insert(20240101 up 1)"
#define LOG_B     "exec(CREATE TABLE b (x int); CREATE INDEX b_x ON b (x);) insert(20240102 up 1)"
#define LOG_C     "exec(CREATE TABLE c (x int);) insert(20240103 up 1)"

/* A folder with a pair (20240101), a sectioned file whose up starts on line 3 (20240102) and
 * a folder migration (20240103). */
static char *standard_folder(void)
{
    char *dir = tmp_dir();
    write_file(dir, "20240101_a.up.sql", A_UP);
    write_file(dir, "20240101_a.down.sql", A_DOWN);
    write_file(dir, "20240102_b.sql", B_FILE);
    make_dir(dir, "20240103_c");
    write_file(dir, "20240103_c/up.sql", C_UP);
    write_file(dir, "README.md", "ignored\n");
    return dir;
}

static void sha(const char *text, char out[65])
{
    mig_sha256_hex(text, strlen(text), out);
}

/* A fresh database: savepoint, lock, history, every migration in order with its row, steps hooks,
 * release. */
START_TEST(apply_all_sequence)
{
    char *dir = standard_folder();
    fake f = {0};
    mig_engine eng = fake_engine(&f);
    mig_error err;
    mig_error_init(&err);
    int applied = 99;
    int rc = mig_apply(&eng, dir, NULL, &applied, &err);
    ck_assert_msg(rc == MIG_OK, "apply failed: %s", err.message ? err.message : "");
    ck_assert_int_eq(applied, 3);
    ck_assert_ptr_null(err.message);
    ck_assert_str_eq(f.log, LOG_START " steps_begin " LOG_A " " LOG_B " " LOG_C
                                      " steps_end release(migrate_call)");
    ck_assert_uint_eq(f.nrows, 3);
    ck_assert_uint_eq(f.nprogress, 6); /* applying and applied, each */
    ck_assert_str_eq(f.progress[0], "applying 1/3: 20240101 a (20240101_a.up.sql)");
    ck_assert_str_contains(f.progress[1], "applied 20240101 a (");
    ck_assert_str_eq(f.progress[2], "applying 2/3: 20240102 b (20240102_b.sql)");
    ck_assert_str_contains(f.progress[3], "applied 20240102 b (");
    ck_assert_str_contains(f.progress[5], "applied 20240103 c (");
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* The history rows the runner inserts carry the version, name, checksums, scripts, clock and user.
 */
START_TEST(apply_history_rows)
{
    char *dir = standard_folder();
    fake f = {0};
    mig_engine eng = fake_engine(&f);
    mig_error err;
    mig_error_init(&err);
    int applied = 0;
    ck_assert_int_eq(mig_apply(&eng, dir, NULL, &applied, &err), MIG_OK);
    ck_assert_uint_eq(f.nrows, 3);
    char sum[65];

    fake_row *r = &f.rows[0];
    ck_assert_str_eq(r->col[1], "20240101");
    ck_assert_str_eq(r->col[2], "a");
    ck_assert_str_eq(r->col[3], "up");
    sha(A_UP, sum);
    ck_assert_str_eq(r->col[4], sum);
    sha(A_DOWN, sum);
    ck_assert_str_eq(r->col[5], sum);
    ck_assert_str_eq(r->col[6], "20240101_a.up.sql");
    ck_assert_str_eq(r->col[7], "2024-05-06T07:08:09.123Z");
    ck_assert_str_eq(r->col[8], "alice");
    ck_assert_ptr_nonnull(r->col[9]);
    ck_assert(r->col[9][0] >= '0' && r->col[9][0] <= '9');
    ck_assert_str_eq(r->col[10], "1");
    ck_assert_str_eq(r->up_sql, A_UP);
    ck_assert_str_eq(r->down_sql, A_DOWN);

    r = &f.rows[1];
    ck_assert_str_eq(r->col[1], "20240102");
    ck_assert_str_eq(r->col[6], "20240102_b.sql");
    ck_assert_str_eq(r->up_sql, B_UP);
    ck_assert_str_eq(r->down_sql, "DROP TABLE b;\n");
    sha(B_UP, sum);
    ck_assert_str_eq(r->col[4], sum);

    r = &f.rows[2];
    ck_assert_str_eq(r->col[1], "20240103");
    ck_assert_str_eq(r->col[6], "20240103_c/up.sql");
    ck_assert_ptr_null(r->col[5]); /* no down script: NULL, not "" */
    ck_assert_ptr_null(r->down_sql);
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* A second apply finds everything applied: no steps hooks, no scripts, nothing inserted. */
START_TEST(apply_nothing_pending)
{
    char *dir = standard_folder();
    fake f = {0};
    mig_engine eng = fake_engine(&f);
    mig_error err;
    mig_error_init(&err);
    int applied = 0;
    ck_assert_int_eq(mig_apply(&eng, dir, NULL, &applied, &err), MIG_OK);
    ck_assert_int_eq(applied, 3);
    fake_clear_log(&f);
    applied = 99;
    ck_assert_int_eq(mig_apply(&eng, dir, NULL, &applied, &err), MIG_OK);
    ck_assert_int_eq(applied, 0);
    ck_assert_str_eq(f.log, LOG_START " release(migrate_call)");
    ck_assert_uint_eq(f.nrows, 3);
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* Only what history lacks runs, and a target stops at its version. */
START_TEST(apply_partial_and_target)
{
    char *dir = standard_folder();
    fake f = {0};
    char sum[65];
    sha(A_UP, sum);
    fake_add_row(&f, "20240101", "a", "up", sum, true);
    mig_engine eng = fake_engine(&f);
    mig_error err;
    mig_error_init(&err);
    int applied = 0;
    ck_assert_int_eq(mig_apply(&eng, dir, "20240102", &applied, &err), MIG_OK);
    ck_assert_int_eq(applied, 1);
    ck_assert_str_eq(f.log, LOG_START " steps_begin " LOG_B " steps_end release(migrate_call)");
    fake_clear_log(&f);
    ck_assert_int_eq(mig_apply(&eng, dir, "v20240103", &applied, &err), MIG_OK);
    ck_assert_int_eq(applied, 1);
    ck_assert_str_eq(f.log, LOG_START " steps_begin " LOG_C " steps_end release(migrate_call)");
    ck_assert_uint_eq(f.nrows, 3);
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* A failing statement rolls everything back and names migration, file and file line (up on line 3).
 */
START_TEST(apply_exec_failure_sectioned)
{
    char *dir = tmp_dir();
    write_file(dir, "20240101_a.up.sql", A_UP);
    write_file(dir, "20240102_b.sql",
               "-- adds b\n-- migrate:up\nCREATE TABLE b (x int);\nCREATE TABLE FAIL (;\n"
               "-- migrate:down\nDROP TABLE b;\n");
    write_file(dir, "20240103_c.sql", C_UP);
    fake f = {.fail_exec_on = "FAIL"};
    mig_engine eng = fake_engine(&f);
    mig_error err;
    mig_error_init(&err);
    int applied = 99;
    int rc = mig_apply(&eng, dir, NULL, &applied, &err);
    ck_assert_int_eq(rc, MIG_ENGINE);
    ck_assert_int_eq(err.code, MIG_ENGINE);
    ck_assert_int_eq(applied, 0);
    ck_assert_str_eq(err.message, "near \"FAIL\": syntax error");
    ck_assert_str_eq(err.sqlstate, "42601");
    ck_assert_str_eq(err.context, "migration 20240102 (20240102_b.sql, line 4)");
    ck_assert_str_eq(f.log, LOG_START " steps_begin " LOG_A
                                      " exec(CREATE TABLE b (x int); CREATE TABLE FAIL (;)"
                                      " rollback(migrate_call)");
    ck_assert_str_lacks(f.log, "release");
    ck_assert_uint_eq(f.nrows, 0); /* the first migration's row went with the rollback */
    ck_assert_uint_eq(f.nprogress, 3);
    char *text = mig_error_render(&err);
    ck_assert_str_eq(text,
                     "migration 20240102 (20240102_b.sql, line 4): near \"FAIL\": syntax error");
    mig_free(text);
    mig_error_clear(&err);
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* The line is the failing statement's, past blank lines and comments before it. */
START_TEST(apply_exec_failure_after_comment)
{
    char *dir = tmp_dir();
    write_file(dir, "20240102_b.sql",
               "-- adds b\n-- migrate:up\nCREATE TABLE b (x int);\n\n-- the next one fails\n"
               "/* really */\n  CREATE TABLE FAIL (;\n-- migrate:down\nDROP TABLE b;\n");
    fake f = {.fail_exec_on = "FAIL"};
    mig_engine eng = fake_engine(&f);
    mig_error err;
    mig_error_init(&err);
    int applied = 0;
    ck_assert_int_eq(mig_apply(&eng, dir, NULL, &applied, &err), MIG_ENGINE);
    ck_assert_str_eq(err.context, "migration 20240102 (20240102_b.sql, line 7)");
    mig_error_clear(&err);
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* Failures in a pair's up script and a folder's up.sql name those files and their lines. */
START_TEST(apply_exec_failure_pair_and_folder)
{
    char *dir = tmp_dir();
    write_file(dir, "20240101_a.up.sql", "-- first\n\nCREATE FAIL;\n");
    write_file(dir, "20240101_a.down.sql", A_DOWN);
    fake f = {.fail_exec_on = "FAIL"};
    mig_engine eng = fake_engine(&f);
    mig_error err;
    mig_error_init(&err);
    int applied = 0;
    ck_assert_int_eq(mig_apply(&eng, dir, NULL, &applied, &err), MIG_ENGINE);
    ck_assert_str_eq(err.context, "migration 20240101 (20240101_a.up.sql, line 3)");
    mig_error_clear(&err);
    fake_free(&f);
    tmp_dir_free(dir);

    dir = tmp_dir();
    make_dir(dir, "20240103_c");
    write_file(dir, "20240103_c/up.sql", "SELECT 1;\nSELECT 2;\nSELECT FAIL;\n");
    f = (fake){.fail_exec_on = "FAIL"};
    ck_assert_int_eq(mig_apply(&eng, dir, NULL, &applied, &err), MIG_ENGINE);
    ck_assert_str_eq(err.context, "migration 20240103 (20240103_c/up.sql, line 3)");
    ck_assert_str_eq(f.log, LOG_START " steps_begin exec(SELECT 1; SELECT 2; SELECT FAIL;)"
                                      " rollback(migrate_call)");
    mig_error_clear(&err);
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/*
 * With the failing token's position the context names its line in the file and its column,
 * and the excerpt shows that line with a caret under it (a dbmate section: lines of the file).
 */
START_TEST(apply_exec_failure_with_position)
{
    char *dir = tmp_dir();
    write_file(dir, "20240102_b.sql",
               "-- adds b\n-- migrate:up\nCREATE TABLE b (x int);\nINSERT INTO b\n\tSELECT FAIL;\n"
               "-- migrate:down\nDROP TABLE b;\n");
    fake f = {.fail_exec_on = "FAIL", .fail_exec_with_position = true};
    mig_engine eng = fake_engine(&f);
    mig_error err;
    mig_error_init(&err);
    int applied = 0;
    ck_assert_int_eq(mig_apply(&eng, dir, NULL, &applied, &err), MIG_ENGINE);
    ck_assert_str_eq(err.context, "migration 20240102 (20240102_b.sql, line 5, column 9)");
    ck_assert_str_eq(err.excerpt, "LINE 5: \tSELECT FAIL;\n        \t       ^");
    mig_error_clear(&err);
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* Without an offset from the engine the context names migration and file only. */
START_TEST(apply_exec_failure_without_offset)
{
    char *dir = tmp_dir();
    write_file(dir, "20240101_a.up.sql", "SELECT FAIL;\n");
    fake f = {.fail_exec_on = "FAIL", .fail_exec_without_offset = true};
    mig_engine eng = fake_engine(&f);
    mig_error err;
    mig_error_init(&err);
    int applied = 0;
    ck_assert_int_eq(mig_apply(&eng, dir, NULL, &applied, &err), MIG_ENGINE);
    ck_assert_str_eq(err.context, "migration 20240101 (20240101_a.up.sql)");
    mig_error_clear(&err);
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* check_script refuses before anything runs: no scripts executed, rolled back, located. */
START_TEST(apply_check_script_refuses)
{
    char *dir = tmp_dir();
    write_file(dir, "20240101_a.up.sql", A_UP);
    write_file(dir, "20240102_b.sql",
               "-- migrate:up\nCREATE TABLE b (x int);\nCREATE INDEX CONCURRENTLY i ON b (x);\n");
    fake f = {.refuse_check_on = "CONCURRENTLY"};
    mig_engine eng = fake_engine(&f);
    eng.hooks = &fake_hooks_checking;
    mig_error err;
    mig_error_init(&err);
    int applied = 0;
    ck_assert_int_eq(mig_apply(&eng, dir, NULL, &applied, &err), MIG_ERR_STATE);
    ck_assert_int_eq(applied, 0);
    ck_assert_str_eq(err.message, "CONCURRENTLY cannot run inside a transaction");
    ck_assert_str_eq(err.context, "migration 20240102 (20240102_b.sql, line 3)");
    ck_assert_str_eq(f.log, LOG_START " check check rollback(migrate_call)");
    mig_error_clear(&err);
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* Problems found in history (a modified migration) refuse the call before any script runs. */
START_TEST(apply_refuses_modified)
{
    char *dir = standard_folder();
    fake f = {0};
    fake_add_row(&f, "20240101", "a", "up", "0000", true);
    mig_engine eng = fake_engine(&f);
    mig_error err;
    mig_error_init(&err);
    int applied = 0;
    ck_assert_int_eq(mig_apply(&eng, dir, NULL, &applied, &err), MIG_ERR_STATE);
    ck_assert_int_eq(applied, 0);
    ck_assert_str_contains(err.message, "20240101_a.up.sql: migration 20240101 was modified");
    ck_assert_str_contains(err.message, "applied checksum 0000");
    ck_assert_str_eq(f.log, LOG_START " rollback(migrate_call)");
    ck_assert_uint_eq(f.nrows, 1);
    mig_error_clear(&err);
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/*
 * A bad folder is read under the lock (so a call that waited sees the files as they are now)
 * and refused with everything rolled back; a bad target is refused before the engine is touched.
 */
START_TEST(apply_refuses_before_engine)
{
    char *dir = standard_folder();
    write_file(dir, "oops.sql", "SELECT 1;\n");
    fake f = {0};
    mig_engine eng = fake_engine(&f);
    mig_error err;
    mig_error_init(&err);
    int applied = 99;
    ck_assert_int_eq(mig_apply(&eng, dir, NULL, &applied, &err), MIG_ERR_ARGUMENT);
    ck_assert_int_eq(applied, 0);
    ck_assert_str_contains(err.message, "oops.sql");
    ck_assert_str_eq(f.log, "savepoint(migrate_call) lock rollback(migrate_call)");
    f.log[0] = '\0';
    mig_error_clear(&err);
    tmp_dir_free(dir);

    dir = standard_folder();
    applied = 99;
    ck_assert_int_eq(mig_apply(&eng, dir, "latest", &applied, &err), MIG_ERR_ARGUMENT);
    ck_assert_int_eq(applied, 0);
    ck_assert_str_contains(err.message, "\"latest\"");
    ck_assert_str_eq(f.log, "");
    mig_error_clear(&err);
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* A lock failure rolls back without reading history. */
START_TEST(apply_lock_failure)
{
    char *dir = standard_folder();
    fake f = {.fail_call = "lock"};
    mig_engine eng = fake_engine(&f);
    mig_error err;
    mig_error_init(&err);
    int applied = 0;
    ck_assert_int_eq(mig_apply(&eng, dir, NULL, &applied, &err), MIG_ENGINE);
    ck_assert_str_eq(err.message, "lock timeout");
    ck_assert_str_eq(f.log, "savepoint(migrate_call) lock rollback(migrate_call)");
    mig_error_clear(&err);
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* Failures of the history insert, of steps_end and of release all leave applied at 0. */
START_TEST(apply_late_failures)
{
    char *dir = standard_folder();
    fake f = {.fail_call = "insert"};
    mig_engine eng = fake_engine(&f);
    mig_error err;
    mig_error_init(&err);
    int applied = 99;
    ck_assert_int_eq(mig_apply(&eng, dir, NULL, &applied, &err), MIG_ENGINE);
    ck_assert_int_eq(applied, 0);
    ck_assert_str_eq(err.message, "disk full");
    ck_assert_str_eq(f.log, LOG_START " steps_begin " LOG_A " rollback(migrate_call)");
    mig_error_clear(&err);
    fake_free(&f);

    f = (fake){.fail_call = "steps_end"};
    applied = 99;
    ck_assert_int_eq(mig_apply(&eng, dir, NULL, &applied, &err), MIG_ENGINE);
    ck_assert_int_eq(applied, 0);
    ck_assert_str_eq(f.log, LOG_START " steps_begin " LOG_A " " LOG_B " " LOG_C
                                      " steps_end rollback(migrate_call)");
    ck_assert_uint_eq(f.nrows, 0);
    mig_error_clear(&err);
    fake_free(&f);

    f = (fake){.fail_call = "release"};
    applied = 99;
    ck_assert_int_eq(mig_apply(&eng, dir, NULL, &applied, &err), MIG_ENGINE);
    ck_assert_int_eq(applied, 0);
    ck_assert_str_eq(err.message, "could not commit");
    ck_assert_str_eq(f.log, LOG_START " steps_begin " LOG_A " " LOG_B " " LOG_C
                                      " steps_end release(migrate_call)");
    mig_error_clear(&err);
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* Engines without steps hooks or progress work too. */
START_TEST(apply_without_optional_hooks)
{
    char *dir = standard_folder();
    fake f = {0};
    mig_engine eng = fake_engine(&f);
    eng.hooks = NULL;
    mig_error err;
    mig_error_init(&err);
    int applied = 0;
    ck_assert_int_eq(mig_apply(&eng, dir, NULL, &applied, &err), MIG_OK);
    ck_assert_int_eq(applied, 3);
    ck_assert_str_eq(f.log, LOG_START " " LOG_A " " LOG_B " " LOG_C " release(migrate_call)");
    ck_assert_uint_eq(f.nprogress, 0);
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/*
 * An engine without a capability (the fake has none) is refused at the entry of the call that
 * needs it, before anything runs, with an error that says so. (Without drift, the calls that
 * change the schema neither look for drift nor record a fingerprint: the logs of the other
 * tests show no such query.)
 */
START_TEST(calls_without_capabilities)
{
    char *dir = tmp_dir();
    write_file(dir, "20240101_a.up.sql", A_UP);
    write_file(dir, "20240102_i.sql",
               "-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY i ON a (x);\n");
    fake f = {0};
    mig_engine eng = fake_engine(&f);
    mig_error err;
    mig_error_init(&err);
    int applied = 0;
    ck_assert_int_eq(mig_apply(&eng, dir, NULL, &applied, &err), MIG_ERR_STATE);
    ck_assert_int_eq(applied, 0);
    ck_assert_str_contains(err.message, "migration 20240102 is marked no-transaction");
    ck_assert_str_eq(f.log, LOG_START " rollback(migrate_call)");
    mig_error_clear(&err);

    fake_clear_log(&f);
    mig_sql_lines lines;
    mig_source src = mig_source_folder(dir);
    ck_assert_int_eq(mig_export(&eng, &src, NULL, NULL, &lines, &err), MIG_ERR_STATE);
    ck_assert_str_eq(err.message, "migrate_script is not available on this engine");
    ck_assert_uint_eq(lines.count, 0);
    mig_error_clear(&err);

    char *result = NULL;
    ck_assert_int_eq(mig_add_unique(&eng, "users", "email", NULL, NULL, &result, &err),
                     MIG_ERR_STATE);
    ck_assert_str_eq(err.message, "migrate_add_unique is not available on this engine");
    ck_assert_ptr_null(result);
    mig_error_clear(&err);
    mig_dup_report report;
    ck_assert_int_eq(mig_duplicates(&eng, "users", "email", &report, &err), MIG_ERR_STATE);
    ck_assert_str_eq(err.message, "migrate_duplicates is not available on this engine");
    mig_error_clear(&err);
    ck_assert_int_eq(mig_set_not_null(&eng, "users", "email", NULL, NULL, &result, &err),
                     MIG_ERR_STATE);
    ck_assert_str_eq(err.message, "migrate_set_not_null is not available on this engine");
    ck_assert_ptr_null(result);
    mig_error_clear(&err);
    mig_null_report nulls;
    ck_assert_int_eq(mig_nulls(&eng, "users", "email", &nulls, &err), MIG_ERR_STATE);
    ck_assert_str_eq(err.message, "migrate_nulls is not available on this engine");
    mig_error_clear(&err);
    ck_assert_int_eq(mig_rebuild(&eng, "users", "(id INTEGER)", NULL, &result, &err),
                     MIG_ERR_STATE);
    ck_assert_str_eq(err.message, "migrate_rebuild is not available on this engine");
    mig_error_clear(&err);
    ck_assert_int_eq(mig_add_column(&eng, "users", "score", "integer", NULL, "0", &result, &err),
                     MIG_ERR_STATE);
    ck_assert_str_eq(err.message, "migrate_add_column is not available on this engine");
    ck_assert_ptr_null(result);
    mig_error_clear(&err);
    mig_check_report check;
    mig_policy policy = {false, false, 0};
    ck_assert_int_eq(mig_check(&eng, &src, NULL, &policy, &check, &err), MIG_ERR_STATE);
    ck_assert_str_eq(err.message, "migrate_check is not available on this engine");
    ck_assert_uint_eq(check.count, 0);
    mig_error_clear(&err);

    char *schema = NULL;
    ck_assert_int_eq(mig_schema(&eng, &schema, &err), MIG_ERR_STATE);
    ck_assert_str_eq(err.message, "migrate_schema is not available on this engine");
    ck_assert_ptr_null(schema);
    mig_error_clear(&err);
    mig_drift drift;
    ck_assert_int_eq(mig_drift_list(&eng, &drift, &err), MIG_ERR_STATE);
    ck_assert_str_eq(err.message, "migrate_drift is not available on this engine");
    ck_assert_uint_eq(drift.count, 0);
    mig_error_clear(&err);
    ck_assert_str_eq(f.log, "");
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* A status snapshot creates nothing: with no table, everything in the folder is pending. */
START_TEST(snapshot_without_table)
{
    char *dir = standard_folder();
    fake f = {0};
    mig_engine eng = fake_engine(&f);
    mig_error err;
    mig_error_init(&err);
    mig_snapshot snap;
    ck_assert_int_eq(mig_snapshot_load(&eng, FOLDER(dir), &snap, &err), MIG_OK);
    ck_assert_str_eq(f.log, "prepare(nocreate)");
    ck_assert(!f.exists);
    ck_assert(snap.has_files);
    ck_assert(!snap.history.exists);
    ck_assert_uint_eq(snap.status.count, 3);
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(snap.status.rows[i].state, MIG_STATE_PENDING);
    mig_snapshot_free(&snap);
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

/* Without a folder, the snapshot reports history alone. */
START_TEST(snapshot_history_only)
{
    fake f = {0};
    fake_add_row(&f, "20240101", "a", "up", "c1", true);
    fake_add_row(&f, "20240102", "b", "up", "c2", false);
    mig_engine eng = fake_engine(&f);
    mig_error err;
    mig_error_init(&err);
    mig_snapshot snap;
    ck_assert_int_eq(mig_snapshot_load(&eng, NO_SOURCE, &snap, &err), MIG_OK);
    ck_assert_str_eq(f.log, "prepare(nocreate) load");
    ck_assert(!snap.has_files);
    ck_assert_uint_eq(snap.history.count, 2);
    ck_assert_str_eq(snap.history.rows[0].applied_by, "bob");
    ck_assert(snap.history.rows[0].success);
    ck_assert(!snap.history.rows[1].success);
    ck_assert_int_eq(snap.history.rows[0].id, 1);
    ck_assert_int_eq(snap.history.rows[0].execution_ms, 3);
    ck_assert_uint_eq(snap.status.count, 2);
    ck_assert_int_eq(snap.status.rows[0].state, MIG_STATE_APPLIED);
    ck_assert_str_eq(snap.status.rows[0].script, "20240101_a.sql");
    ck_assert_int_eq(snap.status.rows[1].state, MIG_STATE_FAILED);
    mig_snapshot_free(&snap);
    fake_free(&f);
}
END_TEST

/* The plan of an apply, without running anything, and its refusals. */
START_TEST(plan_load)
{
    char *dir = standard_folder();
    fake f = {0};
    char sum[65];
    sha(A_UP, sum);
    fake_add_row(&f, "20240101", "a", "up", sum, true);
    mig_engine eng = fake_engine(&f);
    mig_error err;
    mig_error_init(&err);
    mig_snapshot snap;
    ck_assert_int_eq(mig_plan_load(&eng, dir, "20240102", &snap, &err), MIG_OK);
    ck_assert_str_eq(f.log, "prepare(nocreate) load");
    ck_assert_uint_eq(snap.plan.count, 1);
    ck_assert_str_eq(snap.plan.steps[0].row->version, "20240102");
    ck_assert_str_eq(snap.plan.steps[0].row->file->up.ptr, B_UP);
    mig_snapshot_free(&snap);

    ck_assert_int_eq(mig_plan_load(&eng, dir, "nope", &snap, &err), MIG_ERR_ARGUMENT);
    ck_assert_str_contains(err.message, "\"nope\"");
    mig_error_clear(&err);
    fake_free(&f);

    fake_add_row(&f, "20240101", "a", "up", "changed", true);
    ck_assert_int_eq(mig_plan_load(&eng, dir, NULL, &snap, &err), MIG_ERR_STATE);
    ck_assert_str_contains(err.message, "was modified");
    ck_assert_uint_eq(snap.status.count, 0);
    ck_assert_uint_eq(snap.plan.count, 0);
    mig_error_clear(&err);
    fake_free(&f);
    tmp_dir_free(dir);
}
END_TEST

Suite *run_suite(void)
{
    Suite *s = suite_create("run");
    TCase *tc = tcase_create("apply");
    tcase_add_unchecked_fixture(tc, tmp_root_setup, tmp_root_teardown);
    tcase_add_test(tc, apply_all_sequence);
    tcase_add_test(tc, apply_history_rows);
    tcase_add_test(tc, apply_nothing_pending);
    tcase_add_test(tc, apply_partial_and_target);
    tcase_add_test(tc, apply_exec_failure_sectioned);
    tcase_add_test(tc, apply_exec_failure_after_comment);
    tcase_add_test(tc, apply_exec_failure_with_position);
    tcase_add_test(tc, apply_exec_failure_pair_and_folder);
    tcase_add_test(tc, apply_exec_failure_without_offset);
    tcase_add_test(tc, apply_check_script_refuses);
    tcase_add_test(tc, apply_refuses_modified);
    tcase_add_test(tc, apply_refuses_before_engine);
    tcase_add_test(tc, apply_lock_failure);
    tcase_add_test(tc, apply_late_failures);
    tcase_add_test(tc, apply_without_optional_hooks);
    tcase_add_test(tc, calls_without_capabilities);
    suite_add_tcase(s, tc);
    tc = tcase_create("snapshot");
    tcase_add_unchecked_fixture(tc, tmp_root_setup, tmp_root_teardown);
    tcase_add_test(tc, snapshot_without_table);
    tcase_add_test(tc, snapshot_history_only);
    tcase_add_test(tc, plan_load);
    suite_add_tcase(s, tc);
    return s;
}
