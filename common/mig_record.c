/*
 * The calls that work on migrate_history alone: migrate_validate (the folder against the
 * record, changing nothing), migrate_repair (accept modified files, forget missing ones, clear
 * failures) and migrate_baseline (mark everything up to a version as applied). None runs
 * migration SQL; repair and baseline write their rows inside mig_in_call, under the migration
 * lock, and validate only reads.
 */
#include "mig_record.h"

#include "mig_alloc.h"
#include "mig_buf.h"
#include "mig_drift.h"
#include "mig_engine_drift.h"
#include "mig_version.h"

#include <string.h>

/*
 * The problems validate lists besides the migrations': duplicate versions, then one line per
 * object that drifted (whatever the drift setting says: validate always reports it).
 */
static int drift_problems(const mig_engine *eng, const char *duplicates, char **out, mig_error *err)
{
    mig_drift d;
    int rc = mig_drift_load(eng, &d, err);
    if (rc != MIG_OK)
        return rc;
    mig_buf b = {0};
    if (duplicates && *duplicates)
        mig_buf_puts(&b, duplicates);
    for (size_t i = 0; i < d.count; i++)
        mig_buf_printf(&b, "%sschema drift: %s %s %s outside migrate", b.len ? "\n" : "",
                       d.rows[i].kind, d.rows[i].name, d.rows[i].change);
    mig_drift_free(&d);
    if (!(*out = mig_buf_take(&b)))
        return mig_fail_nomem(err);
    return MIG_OK;
}

/* Check the folder against history; duplicates are listed with the other problems. */
int mig_validate(const mig_engine *eng, const mig_source *src, const mig_policy *policy,
                 mig_error *err)
{
    mig_snapshot snap;
    memset(&snap, 0, sizeof snap);
    char *duplicates = NULL;
    int rc = mig_source_load(eng, src, MIG_LOAD_REQUIRED, &snap.files, &duplicates, err);
    snap.has_files = rc == MIG_OK;
    if (rc == MIG_OK)
        rc = mig_history_load(eng, false, &snap.history, err);
    if (rc == MIG_OK)
        rc = mig_status_build(&snap.files, &snap.history, &snap.status, err);
    char *extra = NULL;
    if (rc == MIG_OK && mig_engine_has_drift(eng))
        rc = drift_problems(eng, duplicates, &extra, err);
    if (rc == MIG_OK)
        rc = mig_status_check_policy(&snap.status, policy, extra ? extra : duplicates, err);
    mig_free(extra);
    mig_free(duplicates);
    mig_snapshot_free(&snap);
    return rc;
}

typedef struct repair_state {
    mig_buf accepted, forgotten, cleared;
    int n_accepted, n_forgotten, n_cleared;
    bool drift;    /* the engine has the drift capability (tested once, in mig_repair) */
    char *drifted; /* the objects that had drifted, now accepted, or NULL */
} repair_state;

/* Append a 'repair' row for row: with the file's checksum, or none to forget it. */
static int record_repair(const mig_engine *eng, const mig_status_row *row, bool keep_file,
                         mig_error *err)
{
    const mig_migration *m = keep_file ? row->file : NULL;
    mig_history_entry entry = {
        .version = row->version,
        .name = row->name,
        .direction = "repair",
        .checksum = m ? m->checksum : NULL,
        .down_checksum = m ? m->down_checksum : NULL,
        .up_sql = m ? m->up.ptr : NULL,
        .down_sql = m ? m->down.ptr : NULL,
        .script = row->script,
        .execution_ms = 0,
        .success = true,
    };
    return mig_history_append(eng, &entry, err);
}

/* Note a repaired version in one of the summary's lists. */
static void note(mig_buf *list, int *count, const char *version)
{
    mig_buf_printf(list, "%s%s", (*count)++ ? ", " : "", version);
}

/*
 * Refuse a repair that would forget every applied migration: a folder that shares none of them
 * is the wrong folder far more often than a history to throw away.
 */
static int check_forgets_some(const mig_status *status, mig_error *err)
{
    size_t applied = 0, missing = 0;
    for (size_t i = 0; i < status->count; i++) {
        const mig_status_row *row = &status->rows[i];
        if (!row->record || row->baselined)
            continue;
        applied++;
        missing += row->state == MIG_STATE_MISSING;
    }
    if (applied == 0 || missing < applied)
        return MIG_OK;
    mig_fail(err, MIG_ERR_STATE,
             "migrate_repair would forget every applied migration (%zu): the source holds none "
             "of them; nothing was changed",
             applied);
    mig_error_set_hint(err, "check that this is the migrations folder of this database (a NULL "
                            "folder means the migrate_scripts table)");
    return err->code;
}

/* Repair inside the call: one 'repair' row per modified, missing or failed migration. */
static int repair_body(const mig_engine *eng, mig_snapshot *snap, void *ctx, mig_error *err)
{
    repair_state *st = ctx;
    int refused = check_forgets_some(&snap->status, err);
    if (refused != MIG_OK)
        return refused;
    if (st->drift) {
        mig_drift d;
        refused = mig_drift_load(eng, &d, err);
        if (refused != MIG_OK)
            return refused;
        if (d.count && !(st->drifted = mig_drift_summary(&d, d.count))) {
            mig_drift_free(&d);
            return mig_fail_nomem(err);
        }
        mig_drift_free(&d);
    }
    for (size_t i = 0; i < snap->status.count; i++) {
        const mig_status_row *row = &snap->status.rows[i];
        int rc = MIG_OK;
        if (row->state == MIG_STATE_MODIFIED) {
            rc = record_repair(eng, row, true, err);
            note(&st->accepted, &st->n_accepted, row->version);
        } else if (row->state == MIG_STATE_MISSING) {
            rc = record_repair(eng, row, false, err);
            note(&st->forgotten, &st->n_forgotten, row->version);
        } else if (row->failed) {
            rc = record_repair(eng, row, false, err);
            note(&st->cleared, &st->n_cleared, row->version);
        }
        if (rc != MIG_OK)
            return rc;
    }
    /* the live schema is the one the record now describes */
    return st->drift ? mig_drift_record(eng, "repair", err) : MIG_OK;
}

/* Repair the record and describe what changed. */
int mig_repair(const mig_engine *eng, const mig_source *src, char **summary, mig_error *err)
{
    *summary = NULL;
    mig_snapshot snap;
    memset(&snap, 0, sizeof snap);
    repair_state st;
    memset(&st, 0, sizeof st);
    st.drift = mig_engine_has_drift(eng);
    int rc = mig_in_call(eng, src, &snap, repair_body, &st, err);
    if (rc == MIG_OK) {
        mig_buf out = {0};
        if (st.n_accepted)
            mig_buf_printf(&out, "accepted the new checksum of %d modified migration%s (%s)",
                           st.n_accepted, st.n_accepted == 1 ? "" : "s", st.accepted.data);
        if (st.n_forgotten)
            mig_buf_printf(&out, "%sforgot %d missing migration%s (%s)", out.len ? "; " : "",
                           st.n_forgotten, st.n_forgotten == 1 ? "" : "s", st.forgotten.data);
        if (st.n_cleared)
            mig_buf_printf(&out, "%scleared %d failed migration%s (%s)", out.len ? "; " : "",
                           st.n_cleared, st.n_cleared == 1 ? "" : "s", st.cleared.data);
        if (st.drifted)
            mig_buf_printf(&out, "%saccepted the live schema (%s)", out.len ? "; " : "",
                           st.drifted);
        if (!out.len)
            mig_buf_puts(&out, "nothing to repair");
        if (!(*summary = mig_buf_take(&out)))
            rc = mig_fail_nomem(err);
    }
    mig_buf_free(&st.accepted);
    mig_buf_free(&st.forgotten);
    mig_buf_free(&st.cleared);
    mig_free(st.drifted);
    mig_snapshot_free(&snap);
    return rc;
}

typedef struct baseline_request {
    const char *version;
    const char *name;
    bool drift; /* the engine has the drift capability (tested once, in mig_baseline) */
} baseline_request;

/* Record the baseline unless the history already has applied migrations. */
static int baseline_body(const mig_engine *eng, mig_snapshot *snap, void *ctx, mig_error *err)
{
    baseline_request *req = ctx;
    size_t applied = 0;
    const char *earlier = NULL;
    for (size_t i = 0; i < snap->history.count; i++)
        if (snap->history.rows[i].success &&
            strcmp(snap->history.rows[i].direction, "baseline") == 0)
            earlier = snap->history.rows[i].version;
    for (size_t i = 0; i < snap->status.count; i++)
        if (snap->status.rows[i].record && !snap->status.rows[i].baselined)
            applied++;
    if (earlier)
        return mig_fail(err, MIG_ERR_CONFLICT,
                        "refusing to baseline at %s: migrate_history already has a baseline at "
                        "%s",
                        req->version, earlier);
    if (applied)
        return mig_fail(err, MIG_ERR_STATE,
                        "refusing to baseline at %s: migrate_history already records %zu "
                        "applied migration%s; a baseline only describes a database built before "
                        "migrate",
                        req->version, applied, applied == 1 ? "" : "s");
    mig_history_entry entry = {
        .version = req->version, .name = req->name, .direction = "baseline", .success = true};
    int rc = mig_history_append(eng, &entry, err);
    /* the schema the baseline stands for is the one drift is measured from */
    return rc == MIG_OK && req->drift ? mig_drift_record(eng, "baseline", err) : rc;
}

/* Declare the existing database to be at version. */
int mig_baseline(const mig_engine *eng, const char *version, const char *name, mig_error *err)
{
    if (!version)
        return mig_fail(err, MIG_ERR_NULL, "migrate_baseline needs a version");
    if (!mig_version_valid(version))
        return mig_fail(err, MIG_ERR_ARGUMENT,
                        "baseline version \"%s\" is not a version (expected digits joined by "
                        "'.', '_' or '-', such as 20240101 or 2.15.0)",
                        version);
    baseline_request req = {version, name && *name ? name : "baseline", mig_engine_has_drift(eng)};
    mig_snapshot snap;
    memset(&snap, 0, sizeof snap);
    mig_source none = mig_source_none();
    int rc = mig_in_call(eng, &none, &snap, baseline_body, &req, err);
    mig_snapshot_free(&snap);
    return rc;
}
