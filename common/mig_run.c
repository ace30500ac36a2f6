/*
 * The runner: migrate_apply, migrate_to, migrate_rollback, migrate_plan and migrations_status,
 * engine-neutral. A call takes the migration lock inside one savepoint, loads the source and
 * history (mig_source, mig_history), compares them (mig_state), plans, checks every script
 * before anything runs, then runs each step and records it. A no-transaction step ends the
 * transaction: what came before commits, the step runs statement by statement in autocommit,
 * and the rest is planned again under the lock taken anew.
 *
 * apply, to and rollback load the folder lazily (MIG_LOAD_LAZY): no script is held but the one
 * being checked or run, read again through the folder's handle and checked against the
 * checksum it was planned with.
 */
#include "mig_run.h"

#include "mig_alloc.h"
#include "mig_drift.h"
#include "mig_engine_drift.h"
#include "mig_engine_hooks.h"
#include "mig_engine_notx.h"
#include "mig_position.h"
#include "mig_progress.h"
#include "mig_script.h"
#include "mig_sha256.h"

#include <string.h>
#include <time.h>

/* Milliseconds on a clock that never goes back. */
static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Load the source (unless there is none; flags: MIG_LOAD_*) and the history and compare them. */
static int snapshot_fill(const mig_engine *eng, const mig_source *src, bool create, unsigned flags,
                         mig_snapshot *snap, mig_error *err)
{
    int rc = MIG_OK;
    if (src->kind != MIG_SOURCE_NONE && !snap->has_files) {
        rc = mig_source_load(eng, src, MIG_LOAD_REQUIRED | flags, &snap->files, NULL, err);
        snap->has_files = rc == MIG_OK;
    }
    if (rc == MIG_OK)
        rc = mig_history_load(eng, create, &snap->history, err);
    if (rc == MIG_OK)
        rc = mig_status_build(snap->has_files ? &snap->files : NULL, &snap->history, &snap->status,
                              err);
    return rc;
}

/* Read-only snapshot of src (history alone for MIG_SOURCE_NONE). */
int mig_snapshot_load(const mig_engine *eng, const mig_source *src, mig_snapshot *snap,
                      mig_error *err)
{
    memset(snap, 0, sizeof *snap);
    int rc = snapshot_fill(eng, src, false, 0, snap, err);
    if (rc != MIG_OK)
        mig_snapshot_free(snap);
    return rc;
}

/* Read-only snapshot of src holding no script text (lazy): what status shows. */
int mig_snapshot_load_checksums(const mig_engine *eng, const mig_source *src, mig_snapshot *snap,
                                mig_error *err)
{
    memset(snap, 0, sizeof *snap);
    int rc = snapshot_fill(eng, src, false, MIG_LOAD_LAZY, snap, err);
    if (rc != MIG_OK)
        mig_snapshot_free(snap);
    return rc;
}

/* The migration of snap's set behind a step's row, to hold or let go of its texts. */
static mig_migration *step_migration(mig_snapshot *snap, const mig_step *step)
{
    const mig_migration *file = step->row->file;
    return file ? &snap->files.items[file - snap->files.items] : NULL;
}

/*
 * Hold the text a step runs: in a lazy set, its migration's files are read again and checked
 * against the checksums planned; a text kept in history, or one held already, is there.
 */
static int step_hold(mig_snapshot *snap, mig_step *step, mig_error *err)
{
    mig_migration *m = step_migration(snap, step);
    if (step->text.ptr || step->stored || !m || !snap->files.lazy)
        return MIG_OK;
    int rc = mig_set_hold(&snap->files, m, err);
    if (rc != MIG_OK)
        return rc;
    int first_line = step->text.first_line;
    step->text = strcmp(step->direction, "up") == 0 ? m->up : m->down;
    step->text.first_line = first_line;
    return MIG_OK;
}

/* Let go of the text step_hold read for a step (a lazy set's; nothing else). */
static void step_release(mig_snapshot *snap, mig_step *step)
{
    mig_migration *m = step_migration(snap, step);
    if (!m || !snap->files.lazy || !step->text.ptr ||
        (step->text.ptr != m->up.ptr && step->text.ptr != m->down.ptr))
        return;
    mig_set_release(&snap->files, m);
    step->text.ptr = NULL;
    step->text.flags |= MIG_TEXT_RELEASED;
}

/* Release a snapshot. */
void mig_snapshot_free(mig_snapshot *snap)
{
    mig_plan_free(&snap->plan);
    mig_status_free(&snap->status);
    mig_history_free(&snap->history);
    mig_set_free(&snap->files);
    snap->has_files = false;
}

/*
 * Find the script of every down step: the folder's down script, or the one history kept when
 * the file is gone. A missing or blank down script (unless the up script is blank too) refuses
 * the whole call before anything runs.
 */
static int resolve_down_steps(const mig_engine *eng, mig_plan *plan, mig_error *err)
{
    for (size_t i = 0; i < plan->count; i++) {
        mig_step *step = &plan->steps[i];
        if (strcmp(step->direction, "down") != 0)
            continue;
        const mig_status_row *row = step->row;
        const mig_migration *m = row->file;
        bool up_blank = m && mig_text_has(&m->up, MIG_TEXT_BLANK);
        mig_stored_scripts stored = {0};
        if (m && mig_text_present(&m->down)) { /* held, or read again when the step runs */
            step->text = m->down;
        } else if (!row->baselined && row->scripts_record) {
            int rc = mig_history_load_scripts(eng, row->scripts_record->id, &stored, err);
            if (rc != MIG_OK)
                return rc;
            int first_line = step->text.first_line;
            step->text = mig_text_of_string(stored.down_sql);
            step->text.first_line = first_line;
            step->owned_text = stored.down_sql;
            step->stored = stored.down_sql != NULL;
            mig_text stored_up = mig_text_of_string(stored.up_sql);
            if (!m && stored_up.ptr)
                up_blank = mig_script_is_blank(stored_up.ptr, stored_up.len);
            if (stored.down_sql && mig_script_is_blank(step->text.ptr, step->text.len))
                step->text.flags |= MIG_TEXT_BLANK;
        }
        bool down_blank =
            !mig_text_present(&step->text) || mig_text_has(&step->text, MIG_TEXT_BLANK);
        mig_free(stored.up_sql);
        if (down_blank && !up_blank)
            return mig_fail(err, MIG_ERR_NOT_FOUND,
                            "%s: migration %s has no down script, so it cannot be reverted; "
                            "nothing was reverted",
                            row->script ? row->script : row->version, row->version);
        if (!mig_text_present(&step->text))
            step->text.ptr = ""; /* a blank up script reverts as a no-op */
    }
    return MIG_OK;
}

/*
 * Say which migration, file and line an engine error came from: the line and column of the
 * failing token with that line shown, when the engine gave one, else the line where the failing
 * statement starts.
 */
void mig_step_locate_error(mig_error *err, const mig_step *step)
{
    const char *text = step->text.ptr;
    size_t len = step->text.len;
    const char *file = step->script ? step->script : "?";
    const char *stored = step->stored ? "the down script kept in migrate_history for " : "";
    if (err->position >= 0 && (size_t)err->position <= len) {
        int line, column;
        mig_position_at(text, len, (size_t)err->position, &line, &column);
        line += step->text.first_line - 1;
        mig_error_set_context(err, "migration %s (%s%s, line %d, column %d)", step->row->version,
                              stored, file, line, column);
        mig_free(err->excerpt);
        err->excerpt = mig_position_excerpt(text, len, (size_t)err->position, line);
    } else if (err->offset >= 0) {
        size_t at = mig_script_skip_blank(text, len, (size_t)err->offset);
        if (at >= len)
            at = (size_t)err->offset < len ? (size_t)err->offset : len;
        int line = step->text.first_line - 1 + mig_script_line_at(text, len, at);
        mig_error_set_context(err, "migration %s (%s%s, line %d)", step->row->version, stored, file,
                              line);
    } else {
        mig_error_set_context(err, "migration %s (%s%s)", step->row->version, stored, file);
    }
}

/* True for an up step whose script must run outside any transaction. */
bool mig_step_is_outside(const mig_step *step)
{
    return strcmp(step->direction, "up") == 0 && step->row->file &&
           mig_text_has(&step->row->file->up, MIG_TEXT_NO_TRANSACTION);
}

/* Refuse to go on over what failed no-transaction migrations left behind (invalid indexes). */
int mig_check_leftovers(const mig_engine *eng, const mig_plan *plan, mig_error *err)
{
    for (size_t i = 0; i < plan->count; i++) {
        const mig_step *step = &plan->steps[i];
        if (!mig_step_is_outside(step))
            continue;
        int rc = mig_engine_check_leftovers(eng, step->text.ptr, err);
        if (rc != MIG_OK) {
            mig_error_set_context(err, "migration %s (%s)", step->row->version, step->script);
            return rc;
        }
    }
    return MIG_OK;
}

/* Refuse, before anything runs, no-transaction steps this engine or this caller cannot run. */
static int check_outside_steps(const mig_engine *eng, const mig_plan *plan, mig_error *err)
{
    for (size_t i = 0; i < plan->count; i++) {
        const mig_step *step = &plan->steps[i];
        if (!mig_step_is_outside(step))
            continue;
        if (!mig_engine_has_notx(eng))
            return mig_fail(err, MIG_ERR_STATE,
                            "%s: migration %s is marked no-transaction, and a function always "
                            "runs inside a transaction; run the pending work with psql: SELECT "
                            "statement FROM migrate_script(...) \\gexec",
                            step->script, step->row->version);
        if (eng->notx->caller_in_transaction(eng->handle))
            return mig_fail(err, MIG_ERR_STATE,
                            "%s: migration %s is marked no-transaction and needs the connection "
                            "in autocommit mode, but a transaction is open; nothing was applied",
                            step->script, step->row->version);
    }
    return MIG_OK;
}

/*
 * Run the checks the engine makes on every script before any of them runs (holding each text of
 * a lazy set only while it is checked); a rehearsal skips no-transaction steps, which it does
 * not run.
 */
static int check_scripts(const mig_engine *eng, mig_snapshot *snap, bool rehearsal, mig_error *err)
{
    for (size_t i = 0; i < snap->plan.count; i++) {
        mig_step *step = &snap->plan.steps[i];
        if (rehearsal && mig_step_is_outside(step))
            continue;
        int rc = step_hold(snap, step, err);
        if (rc == MIG_OK)
            rc = mig_engine_check_script(eng, step->text.ptr, step->text.len,
                                         mig_step_is_outside(step), err);
        if (rc != MIG_OK && step->text.ptr) /* not when the file could not be read again */
            mig_step_locate_error(err, step);
        if (!mig_step_is_outside(step)) /* held from hold_outside_steps until it runs */
            step_release(snap, step);
        if (rc != MIG_OK)
            return rc;
    }
    return MIG_OK;
}

/*
 * Hold the texts of the no-transaction steps of a lazy plan (few; the leftovers check reads
 * them, and such a step runs with its text held until the snapshot is freed).
 */
static int hold_outside_steps(mig_snapshot *snap, mig_error *err)
{
    for (size_t i = 0; i < snap->plan.count; i++) {
        int rc = mig_step_is_outside(&snap->plan.steps[i])
                     ? step_hold(snap, &snap->plan.steps[i], err)
                     : MIG_OK;
        if (rc != MIG_OK)
            return rc;
    }
    return MIG_OK;
}

/* Say which migration starts now: number of total in this call. */
static void announce_step(const mig_engine *eng, const mig_step *step, int number, int total)
{
    char *msg = mig_progress_step(strcmp(step->direction, "up") == 0, number, total,
                                  step->row->version, step->row->name, step->script);
    if (msg)
        mig_engine_progress(eng, msg);
    mig_free(msg);
}

/* Run one step and record it in history. */
static int run_step(const mig_engine *eng, const mig_step *step, mig_error *err)
{
    const mig_status_row *row = step->row;
    const mig_migration *m = row->file;
    bool up = strcmp(step->direction, "up") == 0;
    long long started = monotonic_ms();
    int rc = eng->exec_script(eng->handle, step->text.ptr, step->text.len, err);
    if (rc != MIG_OK) {
        mig_step_locate_error(err, step);
        return rc;
    }
    char down_checksum[65] = "";
    if (!up)
        mig_checksum(step->text.ptr, step->text.len, down_checksum);
    mig_history_entry entry = {
        .version = row->version,
        .name = row->name,
        .direction = step->direction,
        .checksum = up ? m->checksum
                       : (row->applied_checksum ? row->applied_checksum : (m ? m->checksum : NULL)),
        .down_checksum = up ? m->down_checksum : down_checksum,
        .up_sql = m ? m->up.ptr : NULL,
        .down_sql = up ? m->down.ptr : step->text.ptr,
        .script = step->script,
        .execution_ms = monotonic_ms() - started,
        .success = true,
    };
    rc = mig_history_append(eng, &entry, err);
    if (rc == MIG_OK) {
        bool late = up && row->state == MIG_STATE_OUT_OF_ORDER;
        char *msg = mig_printf("%s %s %s (%lld ms)%s", up ? "applied" : "reverted", row->version,
                               row->name, entry.execution_ms,
                               late ? ", out of order: older than migrations already applied" : "");
        if (msg)
            mig_engine_progress(eng, msg);
        mig_free(msg);
    }
    return rc;
}

/* Compare, check and plan a call against the loaded history. */
static int plan_call(const mig_engine *eng, mig_snapshot *snap, const mig_call *call,
                     mig_error *err)
{
    int rc = mig_status_check_policy(&snap->status, &call->policy, NULL, err);
    if (rc == MIG_OK)
        rc = mig_plan_make(&snap->status, &call->policy, call->kind, call->target, call->steps,
                           &snap->plan, err);
    if (rc == MIG_OK)
        rc = resolve_down_steps(eng, &snap->plan, err);
    return rc;
}

/* The plan of a call, refusing as the call would (a rehearsal skips no-transaction steps). */
static int plan_load(const mig_engine *eng, const mig_source *src, const mig_call *call,
                     bool rehearsal, mig_snapshot *snap, mig_error *err)
{
    memset(snap, 0, sizeof *snap);
    int rc = mig_call_args_check(call->kind, call->target, call->steps, err);
    if (rc == MIG_OK)
        rc = snapshot_fill(eng, src, false, 0, snap, err);
    if (rc == MIG_OK)
        rc = plan_call(eng, snap, call, err);
    if (rc == MIG_OK) /* a plan shows nothing a call would refuse */
        rc = mig_check_leftovers(eng, &snap->plan, err);
    if (rc == MIG_OK && !rehearsal)
        rc = check_outside_steps(eng, &snap->plan, err);
    if (rc == MIG_OK)
        rc = check_scripts(eng, snap, rehearsal, err);
    if (rc != MIG_OK)
        mig_snapshot_free(snap);
    return rc;
}

/* The plan of a call, refusing as the call would; changes nothing. */
int mig_plan_load_call(const mig_engine *eng, const mig_source *src, const mig_call *call,
                       mig_snapshot *snap, mig_error *err)
{
    return plan_load(eng, src, call, false, snap, err);
}

/* The plan a rehearsal runs: no-transaction steps stay in it, to be reported as skipped. */
int mig_plan_load_rehearsal(const mig_engine *eng, const mig_source *src, const mig_call *call,
                            mig_snapshot *snap, mig_error *err)
{
    return plan_load(eng, src, call, true, snap, err);
}

/*
 * Run body in one transaction under the migration lock, with the history (and the source,
 * unless there is none, loaded with flags MIG_LOAD_*) loaded into snap after the lock is held:
 * a call that waited sees what the call before it applied, files included.
 */
static int in_call(const mig_engine *eng, const mig_source *src, unsigned flags, mig_snapshot *snap,
                   mig_call_body body, void *ctx, mig_error *err)
{
    int rc = eng->savepoint(eng->handle, MIG_CALL_SAVEPOINT, err);
    if (rc != MIG_OK)
        return rc;
    rc = eng->lock(eng->handle, err); /* before reading anything, so no one else is mid-change */
    if (rc == MIG_OK)
        rc = snapshot_fill(eng, src, true, flags, snap, err);
    if (rc == MIG_OK)
        rc = body(eng, snap, ctx, err);
    if (rc == MIG_OK)
        rc = eng->release(eng->handle, MIG_CALL_SAVEPOINT, err);
    else
        eng->rollback(eng->handle, MIG_CALL_SAVEPOINT);
    return rc;
}

/* Run body in one transaction under the migration lock, the source read in full. */
int mig_in_call(const mig_engine *eng, const mig_source *src, mig_snapshot *snap,
                mig_call_body body, void *ctx, mig_error *err)
{
    return in_call(eng, src, 0, snap, body, ctx, err);
}

typedef struct run_state {
    const mig_call *call;
    int *count;
    long outside; /* index of a no-transaction step to run after this segment commits, or -1 */
    int total;    /* steps of the whole call: those run before this segment and its plan */
    bool drift;   /* the engine has the drift capability (tested once, in mig_run) */
    bool looked;  /* the drift setting was consulted (by the call's first transaction) */
    bool changed; /* a no-transaction step ran since the last fingerprint was recorded */
} run_state;

/* The name migrate_schema_history gives the call that recorded a fingerprint. */
static const char *operation_name(mig_plan_kind kind)
{
    return kind == MIG_PLAN_APPLY ? "apply" : kind == MIG_PLAN_TO ? "to" : "rollback";
}

/*
 * The body of apply, to and rollback: plan, check every script, run the steps of this
 * transaction. A no-transaction step ends the segment: what came before commits first.
 */
static int run_body(const mig_engine *eng, mig_snapshot *snap, void *ctx, mig_error *err)
{
    run_state *st = ctx;
    int rc = plan_call(eng, snap, st->call, err);
    if (rc == MIG_OK)
        rc = hold_outside_steps(snap, err);
    if (rc == MIG_OK)
        rc = mig_check_leftovers(eng, &snap->plan, err);
    if (rc == MIG_OK)
        rc = check_outside_steps(eng, &snap->plan, err);
    if (rc == MIG_OK)
        rc = check_scripts(eng, snap, false, err);
    /* before anything runs: is the schema as migrate left it? */
    if (rc == MIG_OK && st->drift && !st->looked) {
        rc = mig_drift_check(eng, st->call->policy.drift, err);
        st->looked = true;
    }
    size_t ran = 0;
    st->total = *st->count + (int)snap->plan.count;
    for (size_t i = 0; rc == MIG_OK && i < snap->plan.count; i++) {
        if (mig_step_is_outside(&snap->plan.steps[i])) {
            st->outside = (long)i;
            break;
        }
        if (ran == 0)
            rc = mig_engine_steps_begin(eng, err);
        if (rc == MIG_OK)
            announce_step(eng, &snap->plan.steps[i], *st->count + 1, st->total);
        if (rc == MIG_OK)
            rc = step_hold(snap, &snap->plan.steps[i], err);
        if (rc == MIG_OK)
            rc = run_step(eng, &snap->plan.steps[i], err);
        step_release(snap, &snap->plan.steps[i]);
        if (rc == MIG_OK) {
            ran++;
            (*st->count)++;
        }
    }
    if (rc == MIG_OK && ran)
        rc = mig_engine_steps_end(eng, err);
    /* the schema after this transaction's steps, or after a no-transaction step before them */
    if (rc == MIG_OK && st->drift && (ran || st->changed)) {
        rc = mig_drift_record(eng, operation_name(st->call->kind), err);
        st->changed = false;
    }
    return rc;
}

/* Whether statement i of a and of b have the same text. */
static bool same_statement(const char *a, const mig_statement *sa, const char *b,
                           const mig_statement *sb)
{
    return sa->len == sb->len && memcmp(a + sa->offset, b + sb->offset, sa->len) == 0;
}

/*
 * Where a failed no-transaction migration resumes: after the statements its failed run
 * completed, provided they are unchanged in the fixed script. *offset: byte offset to start at.
 */
static int resume_point(const mig_engine *eng, const mig_step *step, size_t *offset, int *done,
                        mig_error *err)
{
    mig_stored_scripts stored = {0};
    mig_statement *now = NULL, *then = NULL;
    size_t nnow = 0, nthen = 0;
    int rc = mig_history_load_scripts(eng, step->row->failed_record->id, &stored, err);
    if (rc == MIG_OK && !stored.up_sql)
        rc = mig_fail(err, MIG_ERR_STATE, "%s: the failed run of migration %s kept no script",
                      step->script, step->row->version);
    mig_text then_text = mig_text_of_string(stored.up_sql);
    if (rc == MIG_OK)
        rc = eng->notx->split_statements(eng->handle, step->text.ptr, step->text.len, &now, &nnow,
                                         err);
    if (rc == MIG_OK)
        rc = eng->notx->split_statements(eng->handle, then_text.ptr, then_text.len, &then, &nthen,
                                         err);
    size_t k = (size_t)stored.completed;
    for (size_t i = 0; rc == MIG_OK && i < k; i++)
        if (i >= nnow || i >= nthen ||
            !same_statement(step->text.ptr, &now[i], then_text.ptr, &then[i]))
            rc = mig_fail(err, MIG_ERR_STATE,
                          "%s: migration %s failed after %zu statements had run, and statement "
                          "%zu has changed since; nothing was run",
                          step->script, step->row->version, k, i + 1);
    if (rc != MIG_OK && err->code != MIG_ENGINE && err->code != MIG_NOMEM && !err->hint)
        mig_error_set_hint(err, "restore the statements that already ran, or clear the failure "
                                "with migrate_repair to run the migration from its start");
    if (rc == MIG_OK) {
        *offset = k < nnow ? now[k].offset : step->text.len;
        *done = (int)k;
    }
    mig_free(now);
    mig_free(then);
    mig_stored_scripts_free(&stored);
    return rc;
}

/*
 * Run a no-transaction step: its statements one by one in autocommit, then its history row.
 * A failure is recorded as a failed run with how many statements completed.
 */
static int run_outside(const mig_engine *eng, const mig_step *step, mig_error *err)
{
    const mig_migration *m = step->row->file;
    size_t start = 0, len = step->text.len;
    int done = 0, completed = 0;
    int rc = step->row->resumable ? resume_point(eng, step, &start, &done, err) : MIG_OK;
    if (rc != MIG_OK)
        return rc;
    long long started = monotonic_ms();
    rc = eng->notx->exec_autocommit(eng->handle, step->text.ptr + start, len - start, &completed,
                                    err);
    mig_history_entry entry = {
        .version = m->version,
        .name = m->name,
        .direction = "up",
        .checksum = m->checksum,
        .down_checksum = m->down_checksum,
        .up_sql = m->up.ptr,
        .down_sql = m->down.ptr,
        .script = step->script,
        .execution_ms = monotonic_ms() - started,
        .success = rc == MIG_OK,
        .completed = done + completed,
    };
    if (rc != MIG_OK) {
        if (err->offset >= 0)
            err->offset += (long)start;
        if (err->position >= 0)
            err->position += (long)start;
        mig_step_locate_error(err, step);
        mig_error ignored;
        mig_error_init(&ignored);
        mig_history_append(eng, &entry, &ignored); /* the failure, so status says failed */
        mig_error_clear(&ignored);
        mig_error_set_hint(err,
                           "migration %s ran outside a transaction and is recorded as failed "
                           "after %d completed statements; fix the script and apply again to "
                           "resume from statement %d, or clear it with migrate_repair",
                           m->version, entry.completed, entry.completed + 1);
        return rc;
    }
    rc = mig_history_append(eng, &entry, err);
    if (rc == MIG_OK) {
        char *msg = mig_printf("applied %s %s outside a transaction (%lld ms)", m->version, m->name,
                               entry.execution_ms);
        if (msg)
            mig_engine_progress(eng, msg);
        mig_free(msg);
    }
    return rc;
}

/* Run a call in one transaction. */
int mig_run(const mig_engine *eng, const mig_source *src, const mig_call *call, int *count,
            mig_error *err)
{
    *count = 0;
    mig_snapshot snap;
    memset(&snap, 0, sizeof snap);
    int rc = mig_call_args_check(call->kind, call->target, call->steps, err);
    run_state st = {call, count, -1, 0, mig_engine_has_drift(eng), false, false};
    while (rc == MIG_OK) {
        st.outside = -1;
        rc = in_call(eng, src, MIG_LOAD_LAZY, &snap, run_body, &st, err);
        if (rc != MIG_OK || st.outside < 0)
            break;
        /* what came before has committed; this one runs alone */
        announce_step(eng, &snap.plan.steps[st.outside], *count + 1, st.total);
        rc = run_outside(eng, &snap.plan.steps[st.outside], err);
        if (rc == MIG_OK) {
            (*count)++;
            st.changed = true;
        }
        /* the rest is planned anew under the lock taken again, from the files as they are then */
        mig_snapshot_free(&snap);
    }
    if (rc != MIG_OK)
        *count = 0;
    mig_snapshot_free(&snap);
    return rc;
}
