/*
 * Where each migration stands. History is replayed per version (up, down, baseline, repair
 * rows, oldest first) into what is in force; the folder's migrations and those records are
 * merged in version order into status rows, each with its state (applied, pending, modified,
 * missing, out of order, failed). The policy check and the plan of a call (the steps up or
 * down, in order) are made from those rows.
 */
#include "mig_state.h"

#include "mig_alloc.h"
#include "mig_buf.h"
#include "mig_version.h"

#include <stdlib.h>
#include <string.h>

/* The name DBAs see in migrations_status.state. */
const char *mig_state_name(mig_state state)
{
    static const char *const names[] = {"applied", "pending",      "modified",
                                        "missing", "out_of_order", "failed"};
    return names[state];
}

/* What history says of one version after replaying its rows. */
typedef struct version_record {
    const char *version;
    const mig_history_row *applied; /* the up (or baseline) row in force, or NULL */
    const mig_history_row *failed;  /* the failed run, when that is the last word */
    const char *checksum;           /* applied checksum, as a repair may have changed it */
    const mig_history_row *scripts; /* the row whose stored scripts are in force */
    long long last_id;              /* the newest row that said anything of this version */
} version_record;

static int compare_rows_by_version(const void *a, const void *b)
{
    const mig_history_row *x = *(const mig_history_row *const *)a;
    const mig_history_row *y = *(const mig_history_row *const *)b;
    int c = mig_version_compare(x->version, y->version);
    return c ? c : (x->id > y->id) - (x->id < y->id);
}

/* Replay the rows of one version, oldest first. */
static void replay_version(const mig_history_row *const *rows, size_t n, version_record *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->version = rows[0]->version;
    for (size_t i = 0; i < n; i++) {
        const mig_history_row *r = rows[i];
        if (r->success || strcmp(r->direction, "up") == 0)
            rec->last_id = r->id;
        if (strcmp(r->direction, "baseline") == 0 && r->success) {
            rec->applied = r; /* the baseline version itself counts as applied */
            rec->failed = NULL;
            rec->checksum = NULL;
        } else if (strcmp(r->direction, "up") == 0) {
            rec->applied = r->success ? r : NULL;
            rec->failed = r->success ? NULL : r;
            rec->checksum = r->success ? r->checksum : NULL;
            rec->scripts = r->success ? r : NULL;
        } else if (strcmp(r->direction, "down") == 0 && r->success) {
            rec->applied = NULL;
            rec->failed = NULL;
            rec->checksum = NULL;
        } else if (strcmp(r->direction, "repair") == 0 && r->success) {
            rec->failed = NULL;
            if (rec->applied && r->checksum) {
                rec->checksum = r->checksum; /* the DBA accepted the file as it is now */
                rec->scripts = r;            /* and its scripts, which a revert then runs */
            } else if (!r->checksum)
                rec->applied = NULL, rec->checksum = NULL; /* forgotten */
        }
    }
}

/* Replay history into one record per version that has any rows, ordered by version. */
static int replay_history(const mig_history *hist, version_record **out, size_t *count,
                          mig_error *err)
{
    *out = NULL;
    *count = 0;
    if (hist->count == 0)
        return MIG_OK;
    const mig_history_row **sorted = mig_malloc(hist->count * sizeof *sorted);
    version_record *recs = mig_calloc(hist->count, sizeof *recs);
    if (!sorted || !recs) {
        mig_free(sorted);
        mig_free(recs);
        return mig_fail_nomem(err);
    }
    for (size_t i = 0; i < hist->count; i++)
        sorted[i] = &hist->rows[i];
    qsort(sorted, hist->count, sizeof *sorted, compare_rows_by_version);
    size_t n = 0;
    for (size_t i = 0; i < hist->count;) {
        size_t j = i + 1;
        while (j < hist->count && mig_version_compare(sorted[i]->version, sorted[j]->version) == 0)
            j++;
        replay_version(sorted + i, j - i, &recs[n]);
        n++;
        i = j;
    }
    mig_free(sorted);
    *out = recs;
    *count = n;
    return MIG_OK;
}

/* The newest successful baseline row, or NULL. */
static const mig_history_row *latest_baseline(const mig_history *hist)
{
    const mig_history_row *base = NULL;
    for (size_t i = 0; i < hist->count; i++)
        if (hist->rows[i].success && strcmp(hist->rows[i].direction, "baseline") == 0)
            base = &hist->rows[i];
    return base;
}

/* Fill the history side of a status row. */
static void take_record(mig_status_row *row, const version_record *rec)
{
    const mig_history_row *r = rec->applied ? rec->applied : rec->failed;
    if (!r)
        return; /* reverted: nothing in force */
    row->record = rec->applied;
    row->scripts_record = rec->scripts;
    row->baselined = rec->applied && strcmp(rec->applied->direction, "baseline") == 0;
    row->failed = rec->failed != NULL;
    row->failed_record = rec->failed;
    row->applied_checksum = rec->checksum;
    row->applied_at = r->applied_at;
    row->applied_by = r->applied_by;
    row->execution_ms = r->execution_ms;
    row->has_execution_ms = true;
}

/*
 * Decide each row's state once records are known. "Out of order" compares with the newest
 * migration in force; the baseline marker itself is a point, not a migration, so a migration
 * reverted below a baseline can be applied again.
 */
static void assign_states(mig_status *out, bool have_files)
{
    const char *newest = NULL;
    for (size_t i = 0; i < out->count; i++) {
        const mig_status_row *row = &out->rows[i];
        if (row->record && !(row->baselined && !row->file))
            newest = row->version; /* rows are in version order */
    }
    out->newest = newest;
    for (size_t i = 0; i < out->count; i++) {
        mig_status_row *row = &out->rows[i];
        if (row->record && row->baselined)
            row->state = MIG_STATE_APPLIED;
        else if (row->record && !row->file)
            row->state = have_files ? MIG_STATE_MISSING : MIG_STATE_APPLIED;
        else if (row->record)
            row->state =
                strcmp(row->applied_checksum ? row->applied_checksum : "", row->checksum) == 0
                    ? MIG_STATE_APPLIED
                    : MIG_STATE_MODIFIED;
        else if (row->failed) {
            row->state = MIG_STATE_FAILED;
            /* fixed since it failed: the next apply resumes it, checking what already ran */
            row->resumable = row->file && mig_text_has(&row->file->up, MIG_TEXT_NO_TRANSACTION) &&
                             row->failed_record->checksum &&
                             strcmp(row->failed_record->checksum, row->file->checksum) != 0;
        } else if (newest && mig_version_compare(row->version, newest) < 0)
            row->state = MIG_STATE_OUT_OF_ORDER;
        else
            row->state = MIG_STATE_PENDING;
    }
}

/* Which of the next file and the next record comes first in version order. */
typedef enum merge_next {
    NEXT_FILE,   /* a file history says nothing of */
    NEXT_RECORD, /* a record whose file is not in the folder (or no folder was read) */
    NEXT_BOTH,   /* the file and the record of one version */
} merge_next;

/* Compare the next file and the next record; at most one of them is NULL. */
static merge_next next_in_order(const mig_migration *m, const version_record *rec)
{
    if (!rec)
        return NEXT_FILE;
    if (!m)
        return NEXT_RECORD;
    int c = mig_version_compare(m->version, rec->version);
    if (c < 0)
        return NEXT_FILE;
    if (c > 0)
        return NEXT_RECORD;
    return NEXT_BOTH;
}

/* Name a row after its file. */
static void take_file(mig_status_row *row, const mig_migration *m)
{
    row->version = m->version;
    row->name = m->name;
    row->script = m->script;
    row->checksum = m->checksum;
    row->file = m;
}

/* Name a row without a file after the history row in force (applied, else failed). */
static void take_record_names(mig_status_row *row, const version_record *rec)
{
    const mig_history_row *r = rec->applied ? rec->applied : rec->failed;
    row->version = r->version;
    row->name = r->name;
    row->script = r->script;
}

/*
 * Count a file that history leaves pending as applied by the baseline when its version is at
 * or below the baseline's, unless history decided it after the baseline was set.
 */
static void apply_baseline(mig_status_row *row, const mig_history_row *base,
                           bool decided_after_base)
{
    if (!base || decided_after_base || row->record || row->failed || !row->file)
        return;
    if (mig_version_compare(row->version, base->version) > 0)
        return;
    row->record = base; /* older than the baseline: counts as applied, never run */
    row->baselined = true;
    row->applied_at = base->applied_at;
    row->applied_by = base->applied_by;
    row->execution_ms = 0;
    row->has_execution_ms = true;
}

/*
 * Merge the ordered files with the ordered records into status rows: one row a version, the
 * file's names where there is a file, history's otherwise; then decide each row's state.
 */
int mig_status_build(const mig_set *files, const mig_history *hist, mig_status *out, mig_error *err)
{
    memset(out, 0, sizeof *out);
    version_record *recs;
    size_t nrec;
    int rc = replay_history(hist, &recs, &nrec, err);
    if (rc != MIG_OK)
        return rc;
    size_t nfiles = files ? files->count : 0;
    out->rows = mig_calloc(nfiles + nrec + 1, sizeof *out->rows);
    if (!out->rows) {
        mig_free(recs);
        return mig_fail_nomem(err);
    }
    const mig_history_row *base = latest_baseline(hist);
    size_t fi = 0, ri = 0;
    while (fi < nfiles || ri < nrec) {
        const mig_migration *m = fi < nfiles ? &files->items[fi] : NULL;
        const version_record *rec = ri < nrec ? &recs[ri] : NULL;
        merge_next next = next_in_order(m, rec);
        if (next == NEXT_RECORD && !rec->applied && !rec->failed) {
            ri++; /* reverted and its file gone: nothing to show */
            continue;
        }
        mig_status_row *row = &out->rows[out->count++];
        if (next == NEXT_FILE || next == NEXT_BOTH) {
            take_file(row, m);
            fi++;
        }
        if (next == NEXT_RECORD)
            take_record_names(row, rec);
        if (next == NEXT_RECORD || next == NEXT_BOTH) {
            take_record(row, rec);
            ri++;
        }
        apply_baseline(row, base, next == NEXT_BOTH && base && rec->last_id > base->id);
    }
    mig_free(recs);
    assign_states(out, files != NULL);
    return MIG_OK;
}

/* Release the rows (what they point to belongs to the set and the history). */
void mig_status_free(mig_status *status)
{
    mig_free(status->rows);
    memset(status, 0, sizeof *status);
}

/* Describe one problem row on a line of its own. */
static void describe_problem(mig_buf *b, const mig_status_row *row, const char *newest)
{
    switch (row->state) {
    case MIG_STATE_MODIFIED:
        mig_buf_printf(b,
                       "%s: migration %s was modified after it was applied (applied checksum %s, "
                       "file checksum %s)",
                       row->script, row->version, row->applied_checksum, row->checksum);
        break;
    case MIG_STATE_MISSING:
        mig_buf_printf(b, "%s: migration %s was applied but its file is missing from the folder",
                       row->script, row->version);
        break;
    case MIG_STATE_OUT_OF_ORDER:
        mig_buf_printf(b,
                       "%s: migration %s is out of order: it is pending but older than the "
                       "newest applied migration %s",
                       row->script, row->version, newest);
        break;
    case MIG_STATE_FAILED:
        if (row->file && row->failed_record->checksum &&
            strcmp(row->failed_record->checksum, row->file->checksum) != 0)
            mig_buf_printf(b,
                           "%s: migration %s failed when it last ran; its script has changed "
                           "since, but only a migration marked no-transaction resumes",
                           row->script, row->version);
        else
            mig_buf_printf(b,
                           "%s: migration %s failed when it last ran and its script has not "
                           "changed since",
                           row->script, row->version);
        break;
    default:
        break;
    }
}

/* True when the row stops an apply under policy. */
static bool is_problem(const mig_status_row *row, const mig_policy *policy)
{
    switch (row->state) {
    case MIG_STATE_APPLIED:
    case MIG_STATE_PENDING:
        return false;
    case MIG_STATE_OUT_OF_ORDER:
        return !(policy && policy->allow_out_of_order);
    case MIG_STATE_MISSING:
        return !(policy && policy->ignore_missing);
    case MIG_STATE_FAILED:
        return !row->resumable;
    default:
        return true;
    }
}

/* One error naming every problem the policy does not allow, plus extra lines. */
int mig_status_check_policy(const mig_status *status, const mig_policy *policy, const char *extra,
                            mig_error *err)
{
    size_t problems = 0;
    int kinds = 0;
    mig_buf b = {0};
    if (extra && *extra) {
        mig_buf_puts(&b, extra);
        for (const char *p = extra; p; p = strchr(p + 1, '\n'))
            problems++;
    }
    for (size_t i = 0; i < status->count; i++) {
        const mig_status_row *row = &status->rows[i];
        if (!is_problem(row, policy))
            continue;
        if (problems++)
            mig_buf_puts(&b, "\n");
        describe_problem(&b, row, status->newest);
        kinds |= 1 << row->state;
    }
    char *lines = mig_buf_take(&b);
    if (!lines)
        return mig_fail_nomem(err);
    if (!problems) {
        mig_free(lines);
        return MIG_OK;
    }
    /* duplicates alone conflict; anything about history is its state */
    int code = kinds ? MIG_ERR_STATE : MIG_ERR_CONFLICT;
    if (problems == 1) {
        mig_fail(err, code, "%s", lines);
        mig_free(lines);
    } else {
        mig_fail(err, code, "%zu problems with the migrations; nothing was changed", problems);
        mig_error_set_detail(err, lines);
    }
    if (kinds & (1 << MIG_STATE_MODIFIED))
        mig_error_set_hint(err, "restore the applied script as it was, or accept the change with "
                                "migrate_repair; change an applied migration by adding a new one");
    else if (kinds & (1 << MIG_STATE_MISSING))
        mig_error_set_hint(err, "restore the missing file, or forget it with migrate_repair");
    else if (kinds & (1 << MIG_STATE_OUT_OF_ORDER))
        mig_error_set_hint(err, "give the migration a version newer than the newest applied one, "
                                "or allow it with the out_of_order setting");
    else if (kinds & (1 << MIG_STATE_FAILED))
        mig_error_set_hint(err, "fix the script, or clear the failure with migrate_repair");
    return err->code;
}

/* Check a DBA-given target version. */
int mig_target_check(const char *target, mig_error *err)
{
    if (target && !mig_version_valid(target))
        return mig_fail(err, MIG_ERR_ARGUMENT,
                        "target \"%s\" is not a version (expected digits joined by '.', '_' or "
                        "'-', such as 20240101 or 2.15.0)",
                        target);
    return MIG_OK;
}

/* Check a call's arguments: the one place either engine's are refused. */
int mig_call_args_check(mig_plan_kind kind, const char *target, long steps, mig_error *err)
{
    int rc = mig_target_check(target, err);
    if (rc != MIG_OK)
        return rc;
    if (kind == MIG_PLAN_TO && !target)
        return mig_fail(err, MIG_ERR_NULL, "migrate_to needs a target version");
    if (kind == MIG_PLAN_ROLLBACK && steps < 0)
        return mig_fail(err, MIG_ERR_ARGUMENT,
                        "migrate_rollback: steps must be a whole number, 0 or more");
    if (kind == MIG_PLAN_APPLY && steps < 1)
        return mig_fail(err, MIG_ERR_ARGUMENT,
                        "migrate_apply: count must be a whole number, 1 or more");
    return MIG_OK;
}

/* True when an apply under policy runs this row. */
static bool runs_up(const mig_status_row *row, const mig_policy *policy)
{
    return row->state == MIG_STATE_PENDING || row->resumable ||
           (row->state == MIG_STATE_OUT_OF_ORDER && policy && policy->allow_out_of_order);
}

/* True when the row's migration is in force and so can be reverted. */
static bool is_in_force(const mig_status_row *row)
{
    return row->record != NULL &&
           !(row->baselined && !row->file); /* the baseline marker itself has no script */
}

/* An up step for row. */
static mig_step up_step(const mig_status_row *row)
{
    return (mig_step){"up", row, row->script, row->file->up, NULL, false};
}

/* A down step for row; the runner finds its script. */
static mig_step down_step(const mig_status_row *row)
{
    const mig_migration *m = row->file;
    int first_line = m && mig_text_present(&m->down) ? m->down.first_line : 1;
    return (mig_step){"down",
                      row,
                      m && m->down_script ? m->down_script : row->script,
                      mig_text_make(NULL, 0, first_line),
                      NULL,
                      false};
}

/* True for the explicit target "0": before every migration (migrate_to reverts everything). */
static bool is_zero_target(const char *target)
{
    return mig_version_compare(target, "0") == 0;
}

/*
 * Refuse a target that names no migration of the source or of history: one digit too few
 * would sort below every migration, and migrate_to would revert them all. The error names the
 * nearest versions on each side.
 */
static int check_target_exists(const mig_status *status, const char *target, mig_error *err)
{
    if (!target || is_zero_target(target))
        return MIG_OK;
    const char *below = NULL, *above = NULL;
    for (size_t i = 0; i < status->count; i++) {
        int c = mig_version_compare(status->rows[i].version, target);
        if (c == 0)
            return MIG_OK;
        if (c < 0)
            below = status->rows[i].version;
        else if (!above)
            above = status->rows[i].version;
    }
    mig_fail(err, MIG_ERR_NOT_FOUND,
             "target %s is not the version of any migration, in the source or in history; "
             "nothing was changed",
             target);
    char *detail = mig_printf("The nearest versions are %s (below) and %s (above).",
                              below ? below : "none", above ? above : "none");
    if (detail)
        mig_error_set_detail(err, detail);
    mig_error_set_hint(err, "give the version of an existing migration; '0' means before every "
                            "migration");
    return err->code;
}

/* How many migrations are in force: those a rollback could revert. */
static size_t count_in_force(const mig_status *status)
{
    size_t n = 0;
    for (size_t i = 0; i < status->count; i++)
        n += is_in_force(&status->rows[i]);
    return n;
}

/*
 * Refuse a rollback that would revert every migration in force, unless it is the one step of a
 * database with one migration: a count typed wrong must not empty the database. migrate_to with
 * '0' is the explicit form.
 */
static int check_rollback_scope(const mig_status *status, long steps, mig_error *err)
{
    size_t in_force = count_in_force(status);
    if (in_force == 0 || (size_t)steps < in_force || (steps == 1 && in_force == 1))
        return MIG_OK;
    mig_fail(err, MIG_ERR_ARGUMENT,
             "migrate_rollback of %ld steps would revert every applied migration (%zu in force); "
             "nothing was reverted",
             steps, in_force);
    mig_error_set_hint(err, "to revert everything, say so: migrate_to(dir, '0')");
    return err->code;
}

/* Build a plan of the given kind. */
int mig_plan_make(const mig_status *status, const mig_policy *policy, mig_plan_kind kind,
                  const char *target, long steps, mig_plan *out, mig_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = mig_call_args_check(kind, target,
                                 kind == MIG_PLAN_APPLY && steps == 0 ? MIG_STEPS_ALL : steps, err);
    if (rc != MIG_OK)
        return rc;
    rc = check_target_exists(status, target, err);
    if (rc == MIG_OK && kind == MIG_PLAN_ROLLBACK)
        rc = check_rollback_scope(status, steps, err);
    if (rc != MIG_OK)
        return rc;
    out->steps = mig_calloc(status->count + 1, sizeof *out->steps);
    if (!out->steps)
        return mig_fail_nomem(err);
    if (kind == MIG_PLAN_ROLLBACK || kind == MIG_PLAN_TO) { /* newest first */
        for (size_t i = status->count; i-- > 0;) {
            const mig_status_row *row = &status->rows[i];
            if (!is_in_force(row))
                continue;
            if (kind == MIG_PLAN_ROLLBACK && (long)out->count >= steps)
                break;
            if (kind == MIG_PLAN_TO && mig_version_compare(row->version, target) <= 0)
                break;
            out->steps[out->count++] = down_step(row);
        }
    }
    if (kind == MIG_PLAN_APPLY || kind == MIG_PLAN_TO) {
        for (size_t i = 0; i < status->count; i++) {
            const mig_status_row *row = &status->rows[i];
            if (target && mig_version_compare(row->version, target) > 0)
                break;
            if (kind == MIG_PLAN_APPLY && steps > 0 && (long)out->count >= steps)
                break;
            if (runs_up(row, policy))
                out->steps[out->count++] = up_step(row);
        }
    }
    return MIG_OK;
}

/* Release the plan's steps. */
void mig_plan_free(mig_plan *plan)
{
    for (size_t i = 0; i < plan->count; i++)
        mig_free(plan->steps[i].owned_text);
    mig_free(plan->steps);
    memset(plan, 0, sizeof *plan);
}
