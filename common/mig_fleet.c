/*
 * The engine-neutral parts of migrate_fleet and migrate_fleet_status (mig_fleet.h): the plan
 * (which files, how many workers), one database's row from a call on an engine bound to it,
 * and the summary line. Nothing here knows threads or connections.
 */
#include "mig_fleet.h"

#include "mig_alloc.h"
#include "mig_buf.h"
#include "mig_version.h"

#include <glob.h>
#include <string.h>
#include <time.h>

/* Milliseconds of a clock that only goes forward. */
static long long fleet_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The row's state as a word. */
const char *mig_fleet_state_name(mig_fleet_state state)
{
    switch (state) {
    case MIG_FLEET_MIGRATED:
        return "migrated";
    case MIG_FLEET_CURRENT:
        return "current";
    case MIG_FLEET_PENDING:
        return "pending";
    case MIG_FLEET_PROBLEM:
        return "problem";
    case MIG_FLEET_FAILED:
        return "failed";
    case MIG_FLEET_LOCKED:
        return "locked";
    }
    return "failed";
}

/* Release the plan's paths. */
void mig_fleet_plan_free(mig_fleet_plan *plan)
{
    for (size_t i = 0; i < plan->count; i++)
        mig_free(plan->paths[i]);
    mig_free(plan->paths);
    plan->paths = NULL;
    plan->count = 0;
}

/* glob(3) the pattern into the plan, sorted (glob sorts); regular files and links only. */
static int plan_paths(const char *function, const char *pattern, mig_fleet_plan *plan,
                      mig_error *err)
{
    glob_t g;
    memset(&g, 0, sizeof g);
    int rc = glob(pattern, 0, NULL, &g); /* folders it cannot read simply match nothing */
    if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
        globfree(&g);
        return mig_fail(err, MIG_ERR_NO_FILE, "%s: no database file matches %s", function, pattern);
    }
    if (rc != 0) {
        globfree(&g);
        return mig_fail_nomem(err); /* GLOB_NOSPACE: the one failure left without GLOB_ERR */
    }
    plan->paths = mig_calloc(g.gl_pathc, sizeof *plan->paths);
    if (!plan->paths) {
        globfree(&g);
        return mig_fail_nomem(err);
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        if (!(plan->paths[plan->count] = mig_strdup(g.gl_pathv[i]))) {
            globfree(&g);
            mig_fleet_plan_free(plan);
            return mig_fail_nomem(err);
        }
        plan->count++;
    }
    globfree(&g);
    return MIG_OK;
}

/* The files and the workers of a fleet call. */
int mig_fleet_plan_make(const char *function, const char *pattern, int wanted, int cores,
                        bool threads_ok, mig_fleet_plan *plan, mig_error *err)
{
    memset(plan, 0, sizeof *plan);
    if (!pattern)
        return mig_fail(err, MIG_ERR_NULL, "%s needs a pattern of database files, not NULL",
                        function);
    int rc = plan_paths(function, pattern, plan, err);
    if (rc != MIG_OK)
        return rc;
    long workers = wanted > 0 ? wanted : (cores > 0 ? cores : 1);
    if (!threads_ok && workers > 1) {
        workers = 1;
        plan->note = "one worker: the SQLite library was built single-threaded "
                     "(sqlite3_threadsafe() is 0)";
    }
    if ((size_t)workers > plan->count)
        workers = (long)plan->count;
    plan->workers = workers > 0 ? (int)workers : 1;
    return MIG_OK;
}

/* Release a row. */
void mig_fleet_row_free(mig_fleet_row *row)
{
    mig_free(row->path);
    mig_free(row->version_before);
    mig_free(row->version_after);
    mig_free(row->problems);
    mig_free(row->error);
    memset(row, 0, sizeof *row);
}

/* A row for a database nothing could be done with. */
void mig_fleet_row_fail(mig_fleet_row *row, mig_fleet_state state, const char *message)
{
    row->state = state;
    mig_free(row->error);
    row->error = mig_strdup(message ? message : "out of memory");
}

/* The error of a failed call into the row; the row keeps the database's version as it was. */
static void row_error(mig_fleet_row *row, mig_error *err, bool (*locked)(const mig_error *))
{
    char *text = mig_error_render(err);
    row->state = locked && locked(err) ? MIG_FLEET_LOCKED : MIG_FLEET_FAILED;
    mig_free(row->error);
    row->error = text ? text : mig_strdup("out of memory");
    mig_free(row->version_after);
    row->version_after = mig_strdup(row->version_before);
    row->applied = 0;
    mig_error_clear(err);
}

/* The newest migration in force on eng's database, read with src's folder; *out NULL when none. */
static int newest_version(const mig_engine *eng, const mig_source *src, char **out, mig_error *err)
{
    mig_snapshot snap;
    *out = NULL;
    int rc = mig_snapshot_load(eng, src, &snap, err);
    if (rc != MIG_OK)
        return rc;
    if (snap.status.newest && !(*out = mig_strdup(snap.status.newest)))
        rc = mig_fail_nomem(err);
    mig_snapshot_free(&snap);
    return rc;
}

/* migrate_fleet's work on one database: migrate_apply's own call, with the versions around it. */
int mig_fleet_apply_one(const mig_engine *eng, const mig_source *src, const char *target,
                        const mig_policy *policy, bool (*locked)(const mig_error *err),
                        mig_fleet_row *row)
{
    long long started = fleet_now_ms();
    mig_error err;
    mig_error_init(&err);
    mig_call call = {MIG_PLAN_APPLY, target, MIG_STEPS_ALL, *policy};
    int count = 0;
    int rc = newest_version(eng, src, &row->version_before, &err);
    if (rc == MIG_OK)
        rc = mig_run(eng, src, &call, &count, &err);
    if (rc == MIG_OK)
        rc = newest_version(eng, src, &row->version_after, &err);
    row->ms = fleet_now_ms() - started;
    if (rc != MIG_OK) {
        row_error(row, &err, locked);
        return row->error ? MIG_OK : MIG_NOMEM;
    }
    row->applied = count;
    row->state = count > 0 ? MIG_FLEET_MIGRATED : MIG_FLEET_CURRENT;
    return MIG_OK;
}

/* "modified 003, failed 004": every row of the status in a problem state; NULL when none. */
static char *problems_of(const mig_status *status, bool *any)
{
    mig_buf b = {0};
    *any = false;
    for (size_t i = 0; i < status->count; i++) {
        const mig_status_row *r = &status->rows[i];
        if (r->state == MIG_STATE_APPLIED || r->state == MIG_STATE_PENDING)
            continue;
        mig_buf_printf(&b, "%s%s %s", *any ? ", " : "", mig_state_name(r->state), r->version);
        *any = true;
    }
    return *any ? mig_buf_take(&b) : NULL;
}

/* migrate_fleet_status's work on one database: nothing is changed, history is only read. */
int mig_fleet_status_one(const mig_engine *eng, const mig_source *src, const char *target,
                         const mig_policy *policy, bool (*locked)(const mig_error *err),
                         mig_fleet_row *row)
{
    (void)policy;
    long long started = fleet_now_ms();
    mig_error err;
    mig_error_init(&err);
    mig_snapshot snap;
    int rc = mig_snapshot_load(eng, src, &snap, &err);
    row->ms = fleet_now_ms() - started;
    if (rc != MIG_OK) {
        row_error(row, &err, locked);
        return row->error ? MIG_OK : MIG_NOMEM;
    }
    if (snap.status.newest)
        row->version_before = mig_strdup(snap.status.newest);
    row->version_after = row->version_before ? mig_strdup(row->version_before) : NULL;
    long pending = 0;
    for (size_t i = 0; i < snap.status.count; i++) {
        const mig_status_row *r = &snap.status.rows[i];
        if ((r->state == MIG_STATE_PENDING || r->state == MIG_STATE_OUT_OF_ORDER) &&
            (!target || mig_version_compare(r->version, target) <= 0))
            pending++;
    }
    bool any = false;
    row->problems = problems_of(&snap.status, &any);
    row->applied = pending;
    row->state = any ? MIG_FLEET_PROBLEM : pending ? MIG_FLEET_PENDING : MIG_FLEET_CURRENT;
    mig_snapshot_free(&snap);
    return MIG_OK;
}

/* The summary line of a fleet call. */
char *mig_fleet_summary(const mig_fleet_row *rows, size_t count, int workers, long long wall_ms,
                        bool status, const char *note)
{
    size_t n[MIG_FLEET_LOCKED + 1] = {0};
    long migrations = 0;
    for (size_t i = 0; i < count; i++) {
        n[rows[i].state]++;
        if (rows[i].state == MIG_FLEET_MIGRATED || rows[i].state == MIG_FLEET_PENDING)
            migrations += rows[i].applied;
    }
    mig_buf b = {0};
    mig_buf_printf(&b, "%zu database%s, %d worker%s:", count, count == 1 ? "" : "s", workers,
                   workers == 1 ? "" : "s");
    const char *sep = " ";
    for (int s = 0; s <= MIG_FLEET_LOCKED; s++) {
        if (!n[s])
            continue;
        mig_buf_printf(&b, "%s%zu %s", sep, n[s], mig_fleet_state_name((mig_fleet_state)s));
        if ((s == MIG_FLEET_MIGRATED && !status) || (s == MIG_FLEET_PENDING && status))
            mig_buf_printf(&b, " (%ld migration%s)", migrations, migrations == 1 ? "" : "s");
        sep = ", ";
    }
    mig_buf_printf(&b, ", in %lld ms", wall_ms);
    if (note)
        mig_buf_printf(&b, "; %s", note);
    return mig_buf_take(&b);
}
