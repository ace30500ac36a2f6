/*
 * The engine-neutral parts of migrate_fleet and migrate_fleet_status (mig_fleet.h): the plan
 * (which files, how many workers), one database's row from a call on an engine bound to it,
 * and the summary line. Nothing here knows threads or connections.
 */
#include "mig_fleet.h"

#include "mig_alloc.h"
#include "mig_buf.h"
#include "mig_drift.h"
#include "mig_engine_drift.h"
#include "mig_version.h"

#include <glob.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
    for (size_t i = 0; i < plan->count; i++) {
        mig_free(plan->paths[i]);
        if (plan->errors)
            mig_free(plan->errors[i]);
    }
    mig_free(plan->paths);
    mig_free(plan->errors);
    plan->paths = plan->errors = NULL;
    plan->count = 0;
}

/* One path while the plan is made: where it stood in the list, and the file it names. */
typedef struct plan_entry {
    char *path;
    char *error;
    size_t order;
    dev_t dev; /* the file stat(2) found, when it found one */
    ino_t ino;
} plan_entry;

/* By path, then by place in the list (so the bad rows of a list keep their order). */
static int by_path(const void *a, const void *b)
{
    const plan_entry *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* By file (device, inode), then by sorted place: the first of each file comes first. */
static int by_file(const void *a, const void *b)
{
    const plan_entry *const *x = a, *const *y = b;
    if ((*x)->dev != (*y)->dev)
        return (*x)->dev < (*y)->dev ? -1 : 1;
    if ((*x)->ino != (*y)->ino)
        return (*x)->ino < (*y)->ino ? -1 : 1;
    return (*x < *y) ? -1 : (*x > *y);
}

/*
 * Sort the entries, drop every path that names a file an earlier one names (the same text, or
 * through stat(2) the same device and inode: a link, "./t.db"), and move what is left into the
 * plan. The entries' strings are the plan's or freed.
 */
static int plan_take(plan_entry *e, size_t n, mig_fleet_plan *plan, mig_error *err)
{
    qsort(e, n, sizeof *e, by_path);
    plan_entry **files = mig_calloc(n ? n : 1, sizeof *files);
    plan->paths = mig_calloc(n ? n : 1, sizeof *plan->paths);
    plan->errors = mig_calloc(n ? n : 1, sizeof *plan->errors);
    if (!files || !plan->paths || !plan->errors) {
        mig_free(files);
        mig_free(plan->paths);
        mig_free(plan->errors);
        plan->paths = plan->errors = NULL;
        for (size_t i = 0; i < n; i++)
            mig_free(e[i].path), mig_free(e[i].error);
        return mig_fail_nomem(err);
    }
    size_t nfiles = 0;
    const char *last = NULL;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (e[i].error)
            continue;
        if (last && strcmp(last, e[i].path) == 0) {
            e[i].order = SIZE_MAX; /* the same text as the one before it */
            continue;
        }
        last = e[i].path;
        if (stat(e[i].path, &st) == 0) {
            e[i].dev = st.st_dev;
            e[i].ino = st.st_ino;
            files[nfiles++] = &e[i];
        }
    }
    qsort(files, nfiles, sizeof *files, by_file);
    for (size_t i = 1; i < nfiles; i++)
        if (files[i]->dev == files[i - 1]->dev && files[i]->ino == files[i - 1]->ino)
            files[i]->order = SIZE_MAX; /* the same file under another name */
    mig_free(files);
    for (size_t i = 0; i < n; i++) {
        if (e[i].order == SIZE_MAX) {
            plan->duplicates++;
            mig_free(e[i].path);
            continue;
        }
        plan->paths[plan->count] = e[i].path;
        plan->errors[plan->count] = e[i].error;
        plan->count++;
    }
    return MIG_OK;
}

/* The workers of a plan of plan->count files. */
static void plan_workers(int wanted, int cores, bool threads_ok, mig_fleet_plan *plan)
{
    long workers = wanted > 0 ? wanted : (cores > 0 ? cores : 1);
    if (!threads_ok && workers > 1) {
        workers = 1;
        plan->note = "one worker: the SQLite library was built single-threaded "
                     "(sqlite3_threadsafe() is 0)";
    }
    if ((size_t)workers > plan->count)
        workers = (long)plan->count;
    plan->workers = workers > 0 ? (int)workers : 1;
}

/* The files and the workers of a fleet call over a glob pattern. */
int mig_fleet_plan_make(const char *function, const char *pattern, int wanted, int cores,
                        bool threads_ok, mig_fleet_plan *plan, mig_error *err)
{
    memset(plan, 0, sizeof *plan);
    if (!pattern)
        return mig_fail(err, MIG_ERR_NULL, "%s needs a pattern of database files, not NULL",
                        function);
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
    plan_entry *e = mig_calloc(g.gl_pathc, sizeof *e);
    size_t n = 0;
    for (; e && n < g.gl_pathc; n++) {
        e[n].order = n;
        if (!(e[n].path = mig_strdup(g.gl_pathv[n])))
            break;
    }
    globfree(&g);
    if (!e || n < g.gl_pathc) {
        for (size_t i = 0; e && i < n; i++)
            mig_free(e[i].path);
        mig_free(e);
        return mig_fail_nomem(err);
    }
    rc = plan_take(e, n, plan, err);
    mig_free(e);
    if (rc == MIG_OK)
        plan_workers(wanted, cores, threads_ok, plan);
    return rc;
}

/* The files and the workers of a fleet call over a list of paths (a table's rows). */
int mig_fleet_plan_list(const char *function, const char *source, char *const *paths, size_t count,
                        int wanted, int cores, bool threads_ok, mig_fleet_plan *plan,
                        mig_error *err)
{
    memset(plan, 0, sizeof *plan);
    if (count == 0)
        return mig_fail(err, MIG_ERR_NO_FILE, "%s: %s lists no database file", function, source);
    plan_entry *e = mig_calloc(count, sizeof *e);
    if (!e)
        return mig_fail_nomem(err);
    size_t n = 0;
    bool ok = true;
    for (; ok && n < count; n++) {
        const char *p = paths[n];
        e[n].order = n;
        e[n].path = mig_strdup(p ? p : "");
        if (!p || !*p)
            e[n].error = mig_printf("%s: %s, row %zu: the path is %s", function, source, n + 1,
                                    p ? "empty" : "NULL");
        ok = e[n].path && (e[n].error || (p && *p));
    }
    if (!ok) {
        for (size_t i = 0; i < n; i++)
            mig_free(e[i].path), mig_free(e[i].error);
        mig_free(e);
        return mig_fail_nomem(err);
    }
    int rc = plan_take(e, n, plan, err);
    mig_free(e);
    if (rc == MIG_OK)
        plan_workers(wanted, cores, threads_ok, plan);
    return rc;
}

/* Release a row. */
void mig_fleet_row_free(mig_fleet_row *row)
{
    mig_free(row->path);
    mig_free(row->version_before);
    mig_free(row->version_after);
    mig_free(row->problems);
    mig_free(row->error);
    mig_free(row->note);
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

/*
 * "modified 003, failed 004, drift (index a_x added)": every row of the status in a problem
 * state, then the objects that drifted (drifted, or NULL); NULL when there is no problem.
 */
static char *problems_of(const mig_status *status, const char *drifted, bool *any)
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
    if (drifted) {
        mig_buf_printf(&b, "%sdrift (%s)", *any ? ", " : "", drifted);
        *any = true;
    }
    return *any ? mig_buf_take(&b) : NULL;
}

/* Objects named in a status row's drift problem at most; migrate_drift() lists them all. */
enum { DRIFT_NAMED = 5 };

/*
 * The objects that changed since the fingerprint history recorded, "index a_x added, ...", or
 * *out NULL when the schema is as migrate left it. Status reports drift whatever the drift
 * setting says, as migrate_validate does: the setting is about what a call that changes the
 * schema does, and this call only reports.
 */
static int drifted_objects(const mig_engine *eng, char **out, mig_error *err)
{
    mig_drift d;
    *out = NULL;
    int rc = mig_drift_load(eng, &d, err);
    if (rc == MIG_OK && d.count > 0 && !(*out = mig_drift_summary(&d, DRIFT_NAMED)))
        rc = mig_fail_nomem(err);
    mig_drift_free(&d);
    return rc;
}

/* The call warned that the schema had drifted and went on: the row says so in its note. */
void mig_fleet_row_drift(mig_fleet_row *row, const char *message)
{
    row->drift = true;
    if (!row->note)
        row->note = mig_strdup(message);
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
    char *drifted = NULL;
    int rc = mig_snapshot_load(eng, src, &snap, &err);
    if (rc == MIG_OK && mig_engine_has_drift(eng) &&
        (rc = drifted_objects(eng, &drifted, &err)) != MIG_OK)
        mig_snapshot_free(&snap);
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
    row->problems = problems_of(&snap.status, drifted, &any);
    row->drift = drifted != NULL;
    mig_free(drifted);
    mig_snapshot_free(&snap);
    row->applied = pending;
    row->state = any ? MIG_FLEET_PROBLEM : pending ? MIG_FLEET_PENDING : MIG_FLEET_CURRENT;
    return MIG_OK;
}

/* The summary line of a fleet call. */
char *mig_fleet_summary(const mig_fleet_row *rows, size_t count, int workers, long long wall_ms,
                        bool status, size_t duplicates, const char *note)
{
    size_t n[MIG_FLEET_LOCKED + 1] = {0}, drifted = 0;
    long migrations = 0;
    for (size_t i = 0; i < count; i++) {
        n[rows[i].state]++;
        drifted += rows[i].drift;
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
    if (drifted)
        mig_buf_printf(&b, "; %zu with schema drift", drifted);
    if (duplicates)
        mig_buf_printf(&b, "; %zu path%s named a file already listed", duplicates,
                       duplicates == 1 ? "" : "s");
    if (note)
        mig_buf_printf(&b, "; %s", note);
    return mig_buf_take(&b);
}
