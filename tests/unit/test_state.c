/* State and planning: files compared with history, the combined check, and the plan. */
#include "helpers.h"
#include "suites.h"

#include "mig_alloc.h"
#include "mig_state.h"

#include <stdio.h>

/* Files and history built by hand, freed with the core's own functions. */
typedef struct world {
    mig_set files;
    mig_history hist;
    mig_status status;
    mig_plan plan;
    mig_error err;
} world;

static void world_init(world *w)
{
    memset(w, 0, sizeof *w);
    mig_error_init(&w->err);
}

static void world_free(world *w)
{
    mig_plan_free(&w->plan);
    mig_status_free(&w->status);
    mig_history_free(&w->hist);
    mig_set_free(&w->files);
    mig_error_clear(&w->err);
}

/* Add a file migration <version>_<name>.sql with the given checksum; call in version order. */
static void add_file(world *w, const char *version, const char *name, const char *checksum)
{
    mig_migration *items =
        mig_realloc(w->files.items, (w->files.count + 1) * sizeof *w->files.items);
    ck_assert_ptr_nonnull(items);
    w->files.items = items;
    mig_migration *m = &items[w->files.count++];
    memset(m, 0, sizeof *m);
    m->version = mig_strdup(version);
    m->name = mig_strdup(name);
    m->script = mig_printf("%s_%s.sql", version, name);
    m->up = mig_text_make(mig_strdup("SELECT 1;\n"), 10, 1);
    snprintf(m->checksum, sizeof m->checksum, "%s", checksum);
    ck_assert(m->version && m->name && m->script && m->up.ptr);
}

/* Append a history row (ids follow the order of the calls). */
static void add_row(world *w, const char *version, const char *direction, const char *checksum,
                    bool success)
{
    mig_history *h = &w->hist;
    mig_history_row *rows = mig_realloc(h->rows, (h->count + 1) * sizeof *h->rows);
    ck_assert_ptr_nonnull(rows);
    h->rows = rows;
    h->cap = h->count + 1;
    h->exists = true;
    mig_history_row *r = &rows[h->count++];
    memset(r, 0, sizeof *r);
    r->id = (long long)h->count;
    r->version = mig_strdup(version);
    r->name = mig_strdup("hist");
    r->direction = mig_strdup(direction);
    r->checksum = checksum ? mig_strdup(checksum) : NULL;
    r->script = mig_printf("%s_hist.sql", version);
    r->applied_at = mig_printf("2024-01-01T00:00:%02lld.000Z", r->id);
    r->applied_by = mig_strdup("tester");
    r->execution_ms = 10 * r->id;
    r->success = success;
}

/* Build the status, which must succeed. */
static void build(world *w, bool with_files)
{
    int rc = mig_status_build(with_files ? &w->files : NULL, &w->hist, &w->status, &w->err);
    ck_assert_msg(rc == MIG_OK, "status failed: %s", w->err.message ? w->err.message : "");
}

/* Check one status row's version and state. */
static void expect_row(const world *w, size_t i, const char *version, mig_state state)
{
    ck_assert_uint_lt(i, w->status.count);
    const mig_status_row *row = &w->status.rows[i];
    ck_assert_msg(strcmp(row->version, version) == 0, "row %zu is %s, want %s", i, row->version,
                  version);
    ck_assert_msg(row->state == state, "row %zu (%s) is %s, want %s", i, version,
                  mig_state_name(row->state), mig_state_name(state));
}

/* The state names DBAs see. */
START_TEST(state_names)
{
    ck_assert_str_eq(mig_state_name(MIG_STATE_APPLIED), "applied");
    ck_assert_str_eq(mig_state_name(MIG_STATE_PENDING), "pending");
    ck_assert_str_eq(mig_state_name(MIG_STATE_MODIFIED), "modified");
    ck_assert_str_eq(mig_state_name(MIG_STATE_MISSING), "missing");
    ck_assert_str_eq(mig_state_name(MIG_STATE_OUT_OF_ORDER), "out_of_order");
    ck_assert_str_eq(mig_state_name(MIG_STATE_FAILED), "failed");
}
END_TEST

/* Without history every file is pending, with nothing from history filled in. */
START_TEST(all_pending)
{
    world w;
    world_init(&w);
    add_file(&w, "1", "a", "c1");
    add_file(&w, "2", "b", "c2");
    add_file(&w, "3", "c", "c3");
    build(&w, true);
    ck_assert_uint_eq(w.status.count, 3);
    for (size_t i = 0; i < 3; i++) {
        const mig_status_row *row = &w.status.rows[i];
        ck_assert_int_eq(row->state, MIG_STATE_PENDING);
        ck_assert_ptr_eq(row->file, &w.files.items[i]);
        ck_assert_ptr_null(row->record);
        ck_assert_ptr_null(row->applied_checksum);
        ck_assert_ptr_null(row->applied_at);
        ck_assert_ptr_null(row->applied_by);
        ck_assert(!row->has_execution_ms);
        ck_assert_str_eq(row->checksum, w.files.items[i].checksum);
        ck_assert_str_eq(row->script, w.files.items[i].script);
        ck_assert_str_eq(row->name, w.files.items[i].name);
    }
    expect_row(&w, 0, "1", MIG_STATE_PENDING);
    expect_row(&w, 2, "3", MIG_STATE_PENDING);
    ck_assert_int_eq(mig_status_check(&w.status, &w.err), MIG_OK);
    ck_assert_ptr_null(w.err.message);
    world_free(&w);
}
END_TEST

/* A file whose checksum matches its successful up row is applied, with the row's details. */
START_TEST(applied)
{
    world w;
    world_init(&w);
    add_file(&w, "1", "a", "c1");
    add_file(&w, "2", "b", "c2");
    add_row(&w, "1", "up", "c1", true);
    build(&w, true);
    ck_assert_uint_eq(w.status.count, 2);
    expect_row(&w, 0, "1", MIG_STATE_APPLIED);
    expect_row(&w, 1, "2", MIG_STATE_PENDING);
    const mig_status_row *row = &w.status.rows[0];
    ck_assert_ptr_eq(row->record, &w.hist.rows[0]);
    ck_assert_ptr_eq(row->file, &w.files.items[0]);
    ck_assert_str_eq(row->name, "a"); /* the file's name wins */
    ck_assert_str_eq(row->script, "1_a.sql");
    ck_assert_str_eq(row->checksum, "c1");
    ck_assert_str_eq(row->applied_checksum, "c1");
    ck_assert_str_eq(row->applied_at, "2024-01-01T00:00:01.000Z");
    ck_assert_str_eq(row->applied_by, "tester");
    ck_assert(row->has_execution_ms);
    ck_assert_int_eq(row->execution_ms, 10);
    ck_assert_int_eq(mig_status_check(&w.status, &w.err), MIG_OK);
    world_free(&w);
}
END_TEST

/* Versions match numerically: file 0001 is the history's 1. */
START_TEST(versions_match_numerically)
{
    world w;
    world_init(&w);
    add_file(&w, "0001", "a", "c1");
    add_file(&w, "2.0", "b", "c2");
    add_row(&w, "1", "up", "c1", true);
    add_row(&w, "2", "up", "c2", true);
    build(&w, true);
    ck_assert_uint_eq(w.status.count, 2);
    expect_row(&w, 0, "0001", MIG_STATE_APPLIED);
    expect_row(&w, 1, "2.0", MIG_STATE_APPLIED);
    world_free(&w);
}
END_TEST

/* A file whose checksum differs from the applied one is modified. */
START_TEST(modified)
{
    world w;
    world_init(&w);
    add_file(&w, "1", "a", "c-new");
    add_row(&w, "1", "up", "c-old", true);
    build(&w, true);
    ck_assert_uint_eq(w.status.count, 1);
    expect_row(&w, 0, "1", MIG_STATE_MODIFIED);
    ck_assert_str_eq(w.status.rows[0].checksum, "c-new");
    ck_assert_str_eq(w.status.rows[0].applied_checksum, "c-old");
    ck_assert_ptr_eq(w.status.rows[0].record, &w.hist.rows[0]);
    world_free(&w);
}
END_TEST

/* A version in history only is missing (with the row's name and script); with no folder it is
 * applied. */
START_TEST(missing)
{
    world w;
    world_init(&w);
    add_file(&w, "1", "a", "c1");
    add_file(&w, "3", "c", "c3");
    add_row(&w, "1", "up", "c1", true);
    add_row(&w, "2", "up", "c2", true);
    build(&w, true);
    ck_assert_uint_eq(w.status.count, 3);
    expect_row(&w, 0, "1", MIG_STATE_APPLIED);
    expect_row(&w, 1, "2", MIG_STATE_MISSING);
    expect_row(&w, 2, "3", MIG_STATE_PENDING);
    const mig_status_row *row = &w.status.rows[1];
    ck_assert_ptr_null(row->file);
    ck_assert_ptr_null(row->checksum);
    ck_assert_str_eq(row->applied_checksum, "c2");
    ck_assert_str_eq(row->name, "hist");
    ck_assert_str_eq(row->script, "2_hist.sql");
    ck_assert_ptr_eq(row->record, &w.hist.rows[1]);
    mig_status_free(&w.status);

    /* status from history alone: what history applied is applied */
    build(&w, false);
    ck_assert_uint_eq(w.status.count, 2);
    expect_row(&w, 0, "1", MIG_STATE_APPLIED);
    expect_row(&w, 1, "2", MIG_STATE_APPLIED);
    ck_assert_ptr_null(w.status.rows[0].file);
    ck_assert_str_eq(w.status.rows[0].script, "1_hist.sql");
    world_free(&w);
}
END_TEST

/* A pending file older than the newest applied migration is out of order. */
START_TEST(out_of_order)
{
    world w;
    world_init(&w);
    add_file(&w, "1", "a", "c1");
    add_file(&w, "2", "b", "c2");
    add_file(&w, "3", "c", "c3");
    add_file(&w, "4", "d", "c4");
    add_row(&w, "1", "up", "c1", true);
    add_row(&w, "3", "up", "c3", true);
    build(&w, true);
    ck_assert_uint_eq(w.status.count, 4);
    expect_row(&w, 0, "1", MIG_STATE_APPLIED);
    expect_row(&w, 1, "2", MIG_STATE_OUT_OF_ORDER);
    expect_row(&w, 2, "3", MIG_STATE_APPLIED);
    expect_row(&w, 3, "4", MIG_STATE_PENDING);
    ck_assert_ptr_null(w.status.rows[1].record);
    world_free(&w);
}
END_TEST

/* The last up row failing makes the version failed; a later success makes it applied again. */
START_TEST(failed)
{
    world w;
    world_init(&w);
    add_file(&w, "1", "a", "c1");
    add_file(&w, "2", "b", "c2");
    add_file(&w, "3", "c", "c3");
    add_row(&w, "1", "up", "c1", true);
    add_row(&w, "2", "up", "c2", false);
    add_row(&w, "3", "up", "c3", false);
    add_row(&w, "3", "up", "c3", true);
    build(&w, true);
    ck_assert_uint_eq(w.status.count, 3);
    expect_row(&w, 0, "1", MIG_STATE_APPLIED);
    expect_row(&w, 1, "2", MIG_STATE_FAILED);
    expect_row(&w, 2, "3", MIG_STATE_APPLIED);
    const mig_status_row *row = &w.status.rows[1];
    ck_assert_ptr_null(row->record);
    ck_assert_ptr_null(row->applied_checksum);
    ck_assert_ptr_eq(row->file, &w.files.items[1]);
    ck_assert_str_eq(row->applied_at, "2024-01-01T00:00:02.000Z"); /* when it failed */
    ck_assert_ptr_eq(w.status.rows[2].record, &w.hist.rows[3]);
    world_free(&w);
}
END_TEST

/* A success followed by a failed re-run is failed, and a failed run with no file is failed too. */
START_TEST(failed_after_success_and_without_file)
{
    world w;
    world_init(&w);
    add_file(&w, "1", "a", "c1");
    add_row(&w, "1", "up", "c1", true);
    add_row(&w, "1", "up", "c1", false);
    add_row(&w, "2", "up", "c2", false);
    build(&w, true);
    ck_assert_uint_eq(w.status.count, 2);
    expect_row(&w, 0, "1", MIG_STATE_FAILED);
    expect_row(&w, 1, "2", MIG_STATE_FAILED);
    ck_assert_ptr_null(w.status.rows[1].file);
    ck_assert_str_eq(w.status.rows[1].script, "2_hist.sql");
    world_free(&w);
}
END_TEST

/* A successful down row makes the version pending again; a failed down changes nothing. */
START_TEST(down_makes_pending)
{
    world w;
    world_init(&w);
    add_file(&w, "1", "a", "c1");
    add_file(&w, "2", "b", "c2");
    add_file(&w, "3", "c", "c3");
    add_row(&w, "1", "up", "c1", true);
    add_row(&w, "2", "up", "c2", true);
    add_row(&w, "3", "up", "c3", true);
    add_row(&w, "3", "down", NULL, true);
    add_row(&w, "2", "down", NULL, true);
    add_row(&w, "1", "down", NULL, false);
    build(&w, true);
    ck_assert_uint_eq(w.status.count, 3);
    expect_row(&w, 0, "1", MIG_STATE_APPLIED);
    expect_row(&w, 1, "2", MIG_STATE_PENDING);
    expect_row(&w, 2, "3", MIG_STATE_PENDING);
    ck_assert_ptr_null(w.status.rows[1].record);
    ck_assert_ptr_null(w.status.rows[1].applied_at);
    mig_status_free(&w.status);

    /* up again after the down: applied, by the newest row */
    add_row(&w, "2", "up", "c2", true);
    build(&w, true);
    expect_row(&w, 1, "2", MIG_STATE_APPLIED);
    ck_assert_ptr_eq(w.status.rows[1].record, &w.hist.rows[6]);
    expect_row(&w, 2, "3", MIG_STATE_PENDING);
    world_free(&w);
}
END_TEST

/* A down of an older version below an applied newer one leaves it out of order. */
START_TEST(down_below_newest_is_out_of_order)
{
    world w;
    world_init(&w);
    add_file(&w, "1", "a", "c1");
    add_file(&w, "2", "b", "c2");
    add_row(&w, "1", "up", "c1", true);
    add_row(&w, "2", "up", "c2", true);
    add_row(&w, "1", "down", NULL, true);
    build(&w, true);
    expect_row(&w, 0, "1", MIG_STATE_OUT_OF_ORDER);
    expect_row(&w, 1, "2", MIG_STATE_APPLIED);
    world_free(&w);
}
END_TEST

/* Rows come out in version order whatever order history and versions were written in. */
START_TEST(ordering)
{
    world w;
    world_init(&w);
    add_file(&w, "2.9.0", "a", "c-a");
    add_file(&w, "2.15.0", "b", "c-b");
    add_file(&w, "20220204-01", "d", "c-d");
    add_row(&w, "20220205-01", "up", "c-e", true);
    add_row(&w, "20220204-02", "up", "c-x", true);
    add_row(&w, "2.15.0", "up", "c-b", true);
    add_row(&w, "10", "up", "c-10", true);
    build(&w, true);
    ck_assert_uint_eq(w.status.count, 6);
    expect_row(&w, 0, "2.9.0", MIG_STATE_OUT_OF_ORDER);
    expect_row(&w, 1, "2.15.0", MIG_STATE_APPLIED);
    expect_row(&w, 2, "10", MIG_STATE_MISSING);
    expect_row(&w, 3, "20220204-01", MIG_STATE_OUT_OF_ORDER);
    expect_row(&w, 4, "20220204-02", MIG_STATE_MISSING);
    expect_row(&w, 5, "20220205-01", MIG_STATE_MISSING);
    world_free(&w);
}
END_TEST

/* Repairs: a checksum accepts the modified file, none forgets the version, and a failure is
 * cleared. */
START_TEST(repairs)
{
    world w;
    world_init(&w);
    add_file(&w, "1", "a", "c1-new");
    add_file(&w, "2", "b", "c2");
    add_file(&w, "3", "c", "c3");
    add_row(&w, "1", "up", "c1-old", true);
    add_row(&w, "1", "repair", "c1-new", true);
    add_row(&w, "2", "up", "c2", true);
    add_row(&w, "2", "repair", NULL, true);
    add_row(&w, "3", "up", "c3", false);
    add_row(&w, "3", "repair", NULL, true);
    build(&w, true);
    expect_row(&w, 0, "1", MIG_STATE_APPLIED);
    ck_assert_str_eq(w.status.rows[0].applied_checksum, "c1-new");
    expect_row(&w, 1, "2", MIG_STATE_PENDING);
    expect_row(&w, 2, "3", MIG_STATE_PENDING);
    world_free(&w);
}
END_TEST

/* One modified migration: the message names the file and both checksums; the hint says what to do.
 */
START_TEST(check_one_modified)
{
    world w;
    world_init(&w);
    add_file(&w, "1", "a", "c1");
    add_file(&w, "2", "b", "c2-new");
    add_row(&w, "1", "up", "c1", true);
    add_row(&w, "2", "up", "c2-old", true);
    build(&w, true);
    ck_assert_int_eq(mig_status_check(&w.status, &w.err), MIG_ERR_STATE);
    ck_assert_int_eq(w.err.code, MIG_ERR_STATE);
    ck_assert_str_eq(w.err.message, "2_b.sql: migration 2 was modified after it was applied "
                                    "(applied checksum c2-old, file checksum c2-new)");
    ck_assert_ptr_null(w.err.detail);
    ck_assert_str_contains(w.err.hint, "adding a new one");
    world_free(&w);
}
END_TEST

/* One missing, one out-of-order or one failed migration: the message and hint for each. */
START_TEST(check_one_problem_each)
{
    world w;
    world_init(&w);
    add_file(&w, "1", "a", "c1");
    add_row(&w, "1", "up", "c1", true);
    add_row(&w, "2", "up", "c2", true);
    build(&w, true);
    ck_assert_int_eq(mig_status_check(&w.status, &w.err), MIG_ERR_STATE);
    ck_assert_str_eq(w.err.message,
                     "2_hist.sql: migration 2 was applied but its file is missing from the folder");
    ck_assert_str_contains(w.err.hint, "restore the missing file");
    world_free(&w);

    world_init(&w);
    add_file(&w, "1", "a", "c1");
    add_file(&w, "2", "b", "c2");
    add_row(&w, "2", "up", "c2", true);
    build(&w, true);
    ck_assert_int_eq(mig_status_check(&w.status, &w.err), MIG_ERR_STATE);
    ck_assert_str_eq(w.err.message, "1_a.sql: migration 1 is out of order: it is pending but older "
                                    "than the newest applied migration 2");
    ck_assert_str_contains(w.err.hint, "newer than the newest applied");
    world_free(&w);

    world_init(&w);
    add_file(&w, "1", "a", "c1");
    add_row(&w, "1", "up", "c1", false);
    build(&w, true);
    ck_assert_int_eq(mig_status_check(&w.status, &w.err), MIG_ERR_STATE);
    ck_assert_str_eq(
        w.err.message,
        "1_a.sql: migration 1 failed when it last ran and its script has not changed since");
    ck_assert_ptr_null(w.err.detail);
    world_free(&w);
}
END_TEST

/* Several problems: one error that counts them, with a detail line for each, in version order. */
START_TEST(check_several_problems)
{
    world w;
    world_init(&w);
    add_file(&w, "1", "a", "c1-new"); /* modified */
    /* 2 missing */
    add_file(&w, "3", "c", "c3"); /* out of order */
    add_file(&w, "4", "d", "c4"); /* failed */
    add_file(&w, "5", "e", "c5"); /* applied */
    add_file(&w, "6", "f", "c6"); /* pending */
    add_row(&w, "1", "up", "c1-old", true);
    add_row(&w, "2", "up", "c2", true);
    add_row(&w, "4", "up", "c4", false);
    add_row(&w, "5", "up", "c5", true);
    build(&w, true);
    ck_assert_uint_eq(w.status.count, 6);
    expect_row(&w, 0, "1", MIG_STATE_MODIFIED);
    expect_row(&w, 1, "2", MIG_STATE_MISSING);
    expect_row(&w, 2, "3", MIG_STATE_OUT_OF_ORDER);
    expect_row(&w, 3, "4", MIG_STATE_FAILED);
    expect_row(&w, 4, "5", MIG_STATE_APPLIED);
    expect_row(&w, 5, "6", MIG_STATE_PENDING);
    ck_assert_int_eq(mig_status_check(&w.status, &w.err), MIG_ERR_STATE);
    ck_assert_int_eq(w.err.code, MIG_ERR_STATE);
    ck_assert_str_eq(w.err.message, "4 problems with the migrations; nothing was changed");
    ck_assert_str_eq(
        w.err.detail,
        "1_a.sql: migration 1 was modified after it was applied (applied checksum "
        "c1-old, file checksum c1-new)\n"
        "2_hist.sql: migration 2 was applied but its file is missing from the folder\n"
        "3_c.sql: migration 3 is out of order: it is pending but older than the "
        "newest applied migration 5\n"
        "4_d.sql: migration 4 failed when it last ran and its script has not changed since");
    ck_assert_str_contains(w.err.hint, "restore the applied script");
    world_free(&w);
}
END_TEST

/* The plan without a target is every pending migration in order, each an "up" step. */
START_TEST(plan_all)
{
    world w;
    world_init(&w);
    add_file(&w, "1", "a", "c1");
    add_file(&w, "2", "b", "c2");
    add_file(&w, "10", "c", "c10");
    add_file(&w, "11", "d", "c11");
    add_row(&w, "1", "up", "c1", true);
    build(&w, true);
    ck_assert_int_eq(mig_plan_build(&w.status, NULL, &w.plan, &w.err), MIG_OK);
    ck_assert_uint_eq(w.plan.count, 3);
    const char *want[] = {"2", "10", "11"};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_str_eq(w.plan.steps[i].direction, "up");
        ck_assert_str_eq(w.plan.steps[i].row->version, want[i]);
        ck_assert_ptr_eq(w.plan.steps[i].row, &w.status.rows[i + 1]);
    }
    mig_plan_free(&w.plan);
    ck_assert_uint_eq(w.plan.count, 0);
    ck_assert_ptr_null(w.plan.steps);

    /* nothing pending: an empty plan */
    mig_status_free(&w.status);
    mig_set_free(&w.files);
    add_file(&w, "1", "a", "c1");
    build(&w, true);
    ck_assert_int_eq(mig_plan_build(&w.status, NULL, &w.plan, &w.err), MIG_OK);
    ck_assert_uint_eq(w.plan.count, 0);
    world_free(&w);
}
END_TEST

/* A target stops the plan at that version, compared numerically. */
START_TEST(plan_target)
{
    static const struct {
        const char *target;
        size_t count;
    } cases[] = {{"2", 1},   {"v2", 1}, {"10", 2}, {"10.0", 2},
                 {"010", 2}, {"1", 0},  {"0", 0},  {"11", 3}};
    world w;
    world_init(&w);
    add_file(&w, "1", "a", "c1");
    add_file(&w, "2", "b", "c2");
    add_file(&w, "10", "c", "c10");
    add_file(&w, "11", "d", "c11");
    add_row(&w, "1", "up", "c1", true);
    build(&w, true);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ck_assert_int_eq(mig_plan_build(&w.status, cases[i].target, &w.plan, &w.err), MIG_OK);
        ck_assert_msg(w.plan.count == cases[i].count, "target %s: %zu steps, want %zu",
                      cases[i].target, w.plan.count, cases[i].count);
        if (w.plan.count)
            ck_assert_str_eq(w.plan.steps[0].row->version, "2");
        mig_plan_free(&w.plan);
    }
    /* a target that names no migration is refused, naming the versions on each side */
    static const struct {
        const char *target, *detail;
    } absent[] = {{"2.5", "2 (below) and 10 (above)"},
                  {"99", "11 (below) and none (above)"},
                  {"20240101", "11 (below) and none (above)"},
                  {"0.5", "none (below) and 1 (above)"}};
    for (size_t i = 0; i < sizeof absent / sizeof *absent; i++) {
        ck_assert_int_eq(mig_plan_build(&w.status, absent[i].target, &w.plan, &w.err),
                         MIG_ERR_NOT_FOUND);
        ck_assert_str_contains(w.err.message, "is not the version of any migration");
        ck_assert_str_contains(w.err.detail, absent[i].detail);
        ck_assert_uint_eq(w.plan.count, 0);
        mig_error_clear(&w.err);
    }
    world_free(&w);
}
END_TEST

/* Targets that are not versions are refused, naming the target, with an empty plan. */
START_TEST(plan_bad_target)
{
    static const char *const bad[] = {"abc", "1.", "", "2fa", "latest", "1..2", " 1"};
    world w;
    world_init(&w);
    add_file(&w, "1", "a", "c1");
    build(&w, true);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_int_eq(mig_plan_build(&w.status, bad[i], &w.plan, &w.err), MIG_ERR_ARGUMENT);
        ck_assert_int_eq(w.err.code, MIG_ERR_ARGUMENT);
        char quoted[32];
        snprintf(quoted, sizeof quoted, "\"%s\"", bad[i]);
        ck_assert_str_contains(w.err.message, quoted);
        ck_assert_str_contains(w.err.message, "is not a version");
        ck_assert_uint_eq(w.plan.count, 0);
        ck_assert_ptr_null(w.plan.steps);
        mig_error_clear(&w.err);
        ck_assert_int_eq(mig_target_check(bad[i], &w.err), MIG_ERR_ARGUMENT);
        mig_error_clear(&w.err);
    }
    ck_assert_int_eq(mig_target_check(NULL, &w.err), MIG_OK);
    ck_assert_int_eq(mig_target_check("20240101", &w.err), MIG_OK);
    ck_assert_ptr_null(w.err.message);
    world_free(&w);
}
END_TEST

/* Check the steps of a plan: direction and version of each, in order ("down:3 up:4"). */
static void expect_plan(const mig_plan *plan, const char *want)
{
    char got[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < plan->count; i++)
        used += (size_t)snprintf(got + used, sizeof got - used, "%s%s:%s", i ? " " : "",
                                 plan->steps[i].direction, plan->steps[i].row->version);
    ck_assert_str_eq(got, want);
}

/* An apply with a count runs at most that many pending migrations, in order. */
START_TEST(plan_apply_count)
{
    world w;
    world_init(&w);
    add_file(&w, "1", "a", "c1");
    add_file(&w, "2", "b", "c2");
    add_file(&w, "3", "c", "c3");
    add_file(&w, "4", "d", "c4");
    add_row(&w, "1", "up", "c1", true);
    build(&w, true);
    ck_assert_int_eq(mig_plan_make(&w.status, NULL, MIG_PLAN_APPLY, NULL, 2, &w.plan, &w.err),
                     MIG_OK);
    expect_plan(&w.plan, "up:2 up:3");
    mig_plan_free(&w.plan);
    ck_assert_int_eq(mig_plan_make(&w.status, NULL, MIG_PLAN_APPLY, "2", 5, &w.plan, &w.err),
                     MIG_OK);
    expect_plan(&w.plan, "up:2");
    mig_plan_free(&w.plan);
    ck_assert_int_eq(mig_plan_make(&w.status, NULL, MIG_PLAN_APPLY, NULL, 0, &w.plan, &w.err),
                     MIG_OK);
    expect_plan(&w.plan, "up:2 up:3 up:4");
    world_free(&w);
}
END_TEST

/* A rollback plan reverts the newest applied migrations first, as many as asked. */
START_TEST(plan_rollback)
{
    world w;
    world_init(&w);
    add_file(&w, "1", "a", "c1");
    add_file(&w, "2", "b", "c2");
    add_file(&w, "3", "c", "c3");
    add_file(&w, "4", "d", "c4");
    add_row(&w, "1", "up", "c1", true);
    add_row(&w, "2", "up", "c2", true);
    add_row(&w, "3", "up", "c3", true);
    build(&w, true);
    ck_assert_int_eq(mig_plan_make(&w.status, NULL, MIG_PLAN_ROLLBACK, NULL, 2, &w.plan, &w.err),
                     MIG_OK);
    expect_plan(&w.plan, "down:3 down:2");
    ck_assert_str_eq(w.plan.steps[0].script, "3_c.sql");
    mig_plan_free(&w.plan);
    ck_assert_int_eq(mig_plan_make(&w.status, NULL, MIG_PLAN_ROLLBACK, NULL, 0, &w.plan, &w.err),
                     MIG_OK);
    expect_plan(&w.plan, "");
    mig_plan_free(&w.plan);
    /* reverting every migration in force takes the explicit migrate_to '0' */
    for (long steps = 3; steps <= 99; steps += 96) {
        ck_assert_int_eq(
            mig_plan_make(&w.status, NULL, MIG_PLAN_ROLLBACK, NULL, steps, &w.plan, &w.err),
            MIG_ERR_ARGUMENT);
        ck_assert_str_contains(w.err.message, "would revert every applied migration (3 in force)");
        ck_assert_str_contains(w.err.hint, "migrate_to(dir, '0')");
        ck_assert_uint_eq(w.plan.count, 0);
        mig_error_clear(&w.err);
    }
    ck_assert_int_eq(mig_plan_make(&w.status, NULL, MIG_PLAN_ROLLBACK, NULL, -1, &w.plan, &w.err),
                     MIG_ERR_ARGUMENT);
    ck_assert_str_contains(w.err.message, "steps must be a whole number");
    world_free(&w);
}
END_TEST

/* A plan to a target reverts what is newer, then applies what is pending up to it. */
START_TEST(plan_to)
{
    world w;
    world_init(&w);
    add_file(&w, "1", "a", "c1");
    add_file(&w, "2", "b", "c2");
    add_file(&w, "3", "c", "c3");
    add_file(&w, "4", "d", "c4");
    add_row(&w, "1", "up", "c1", true);
    add_row(&w, "2", "up", "c2", true);
    add_row(&w, "3", "up", "c3", true);
    build(&w, true);
    static const struct {
        const char *target, *plan;
    } cases[] = {{"1", "down:3 down:2"}, {"3", ""}, {"4", "up:4"}, {"0", "down:3 down:2 down:1"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ck_assert_int_eq(
            mig_plan_make(&w.status, NULL, MIG_PLAN_TO, cases[i].target, 0, &w.plan, &w.err),
            MIG_OK);
        expect_plan(&w.plan, cases[i].plan);
        mig_plan_free(&w.plan);
    }
    ck_assert_int_eq(mig_plan_make(&w.status, NULL, MIG_PLAN_TO, NULL, 0, &w.plan, &w.err),
                     MIG_ERR_NULL);
    ck_assert_str_contains(w.err.message, "needs a target");
    /* one digit short of a real version sorts below them all: refused, not a revert of all */
    for (size_t i = 0; i < 2; i++) {
        const char *target = i ? "99" : "2.5";
        ck_assert_int_eq(mig_plan_make(&w.status, NULL, MIG_PLAN_TO, target, 0, &w.plan, &w.err),
                         MIG_ERR_NOT_FOUND);
        ck_assert_str_contains(w.err.message, "is not the version of any migration");
        mig_error_clear(&w.err);
    }
    ck_assert_int_eq(mig_plan_make(&w.status, NULL, MIG_PLAN_TO, "x", 0, &w.plan, &w.err),
                     MIG_ERR_ARGUMENT);
    ck_assert_str_contains(w.err.message, "\"x\"");
    world_free(&w);
}
END_TEST

/* Policies: out_of_order=allow applies older pending migrations, missing=ignore lets missing pass.
 */
START_TEST(policies)
{
    world w;
    world_init(&w);
    add_file(&w, "1", "a", "c1");
    add_file(&w, "2", "b", "c2");
    add_file(&w, "4", "d", "c4");
    add_row(&w, "1", "up", "c1", true);
    add_row(&w, "3", "up", "c3", true);
    build(&w, true);
    expect_row(&w, 1, "2", MIG_STATE_OUT_OF_ORDER);
    expect_row(&w, 2, "3", MIG_STATE_MISSING);
    mig_policy none = {false, false, 0}, late = {true, false, 0}, missing = {false, true, 0},
               both = {true, true, 0};
    ck_assert_int_eq(mig_status_check_policy(&w.status, &none, NULL, &w.err), MIG_ERR_STATE);
    ck_assert_str_eq(w.err.message, "2 problems with the migrations; nothing was changed");
    ck_assert_int_eq(mig_status_check_policy(&w.status, &late, NULL, &w.err), MIG_ERR_STATE);
    ck_assert_str_contains(w.err.message, "migration 3 was applied but its file is missing");
    ck_assert_int_eq(mig_status_check_policy(&w.status, &missing, NULL, &w.err), MIG_ERR_STATE);
    ck_assert_str_contains(w.err.message, "migration 2 is out of order");
    mig_error_clear(&w.err);
    ck_assert_int_eq(mig_status_check_policy(&w.status, &both, NULL, &w.err), MIG_OK);
    ck_assert_ptr_null(w.err.message);

    ck_assert_int_eq(mig_plan_make(&w.status, &both, MIG_PLAN_APPLY, NULL, 0, &w.plan, &w.err),
                     MIG_OK);
    expect_plan(&w.plan, "up:2 up:4");
    mig_plan_free(&w.plan);
    ck_assert_int_eq(mig_plan_make(&w.status, &none, MIG_PLAN_APPLY, NULL, 0, &w.plan, &w.err),
                     MIG_OK);
    expect_plan(&w.plan, "up:4");
    world_free(&w);
}
END_TEST

/* Extra problems (duplicate versions) are counted and listed first. */
START_TEST(check_with_extra_lines)
{
    world w;
    world_init(&w);
    add_file(&w, "1", "a", "c1");
    build(&w, true);
    ck_assert_int_eq(
        mig_status_check_policy(&w.status, NULL, "duplicate version 5: x and y", &w.err),
        MIG_ERR_CONFLICT);
    ck_assert_str_eq(w.err.message, "duplicate version 5: x and y");
    ck_assert_int_eq(mig_status_check_policy(&w.status, NULL, "dup one\ndup two", &w.err),
                     MIG_ERR_CONFLICT);
    ck_assert_str_eq(w.err.message, "2 problems with the migrations; nothing was changed");
    ck_assert_str_eq(w.err.detail, "dup one\ndup two");
    mig_status_free(&w.status);
    mig_set_free(&w.files);
    add_file(&w, "1", "a", "c1-new");
    add_row(&w, "1", "up", "c1", true);
    build(&w, true);
    ck_assert_int_eq(mig_status_check_policy(&w.status, NULL, "dup one", &w.err), MIG_ERR_STATE);
    ck_assert_str_eq(w.err.message, "2 problems with the migrations; nothing was changed");
    ck_assert_str_eq(w.err.detail, "dup one\n1_a.sql: migration 1 was modified after it was "
                                   "applied (applied checksum c1, file checksum c1-new)");
    world_free(&w);
}
END_TEST

/* A baseline counts every migration up to its version as applied, file or not; newer ones are
 * pending. */
START_TEST(baseline_state)
{
    world w;
    world_init(&w);
    add_file(&w, "1", "a", "c1");
    add_file(&w, "2", "b", "c2");
    add_file(&w, "4", "d", "c4");
    add_row(&w, "3", "baseline", NULL, true);
    build(&w, true);
    ck_assert_uint_eq(w.status.count, 4);
    expect_row(&w, 0, "1", MIG_STATE_APPLIED);
    expect_row(&w, 1, "2", MIG_STATE_APPLIED);
    expect_row(&w, 2, "3", MIG_STATE_APPLIED);
    expect_row(&w, 3, "4", MIG_STATE_PENDING);
    for (size_t i = 0; i < 3; i++) {
        ck_assert(w.status.rows[i].baselined);
        ck_assert_ptr_eq(w.status.rows[i].record, &w.hist.rows[0]);
    }
    ck_assert_ptr_null(w.status.rows[2].file);
    ck_assert(!w.status.rows[3].baselined);
    ck_assert_int_eq(mig_status_check(&w.status, &w.err), MIG_OK);
    ck_assert_int_eq(mig_plan_build(&w.status, NULL, &w.plan, &w.err), MIG_OK);
    expect_plan(&w.plan, "up:4");
    mig_plan_free(&w.plan);
    /* the baseline marker has no script: a rollback reverts only migrations with files */
    ck_assert_int_eq(mig_plan_make(&w.status, NULL, MIG_PLAN_ROLLBACK, NULL, 99, &w.plan, &w.err),
                     MIG_ERR_ARGUMENT);
    ck_assert_str_contains(w.err.message, "(2 in force)");
    mig_error_clear(&w.err);
    ck_assert_int_eq(mig_plan_make(&w.status, NULL, MIG_PLAN_ROLLBACK, NULL, 1, &w.plan, &w.err),
                     MIG_OK);
    expect_plan(&w.plan, "down:2");
    world_free(&w);
}
END_TEST

Suite *state_suite(void)
{
    Suite *s = suite_create("state");
    TCase *tc = tcase_create("status");
    tcase_add_test(tc, state_names);
    tcase_add_test(tc, all_pending);
    tcase_add_test(tc, applied);
    tcase_add_test(tc, versions_match_numerically);
    tcase_add_test(tc, modified);
    tcase_add_test(tc, missing);
    tcase_add_test(tc, out_of_order);
    tcase_add_test(tc, failed);
    tcase_add_test(tc, failed_after_success_and_without_file);
    tcase_add_test(tc, down_makes_pending);
    tcase_add_test(tc, down_below_newest_is_out_of_order);
    tcase_add_test(tc, ordering);
    tcase_add_test(tc, repairs);
    suite_add_tcase(s, tc);
    tc = tcase_create("check");
    tcase_add_test(tc, check_one_modified);
    tcase_add_test(tc, check_one_problem_each);
    tcase_add_test(tc, check_several_problems);
    suite_add_tcase(s, tc);
    tc = tcase_create("plan");
    tcase_add_test(tc, plan_all);
    tcase_add_test(tc, plan_target);
    tcase_add_test(tc, plan_apply_count);
    tcase_add_test(tc, plan_bad_target);
    suite_add_tcase(s, tc);
    tc = tcase_create("lifecycle");
    tcase_add_test(tc, plan_rollback);
    tcase_add_test(tc, plan_to);
    tcase_add_test(tc, policies);
    tcase_add_test(tc, check_with_extra_lines);
    tcase_add_test(tc, baseline_state);
    suite_add_tcase(s, tc);
    return s;
}
