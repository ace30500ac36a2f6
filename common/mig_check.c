/*
 * migrate_check: the rehearsal. Under the migration lock, inside one savepoint, it plans as
 * migrate_apply plans (the same refusals and messages), then runs each transactional migration
 * in a savepoint of its own through the engine's rehearse capability, keeping what succeeded so
 * later migrations see it, undoing what failed, and collecting what each did. The call's
 * savepoint is always rolled back at the end, so nothing persists: no schema, no rows, no
 * history (none is written).
 */
#include "mig_check.h"

#include "mig_drift.h"

#include "mig_alloc.h"
#include "mig_buf.h"
#include "mig_engine_drift.h"
#include "mig_engine_rehearse.h"
#include "mig_run.h"
#include "mig_unique.h"
#include "mig_violation.h"

#include <string.h>
#include <time.h>

/* Milliseconds on a clock that never goes back. */
static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Free one row's strings. */
static void row_free(mig_check_row *r)
{
    mig_free(r->version);
    mig_free(r->name);
    mig_free(r->error);
    mig_free(r->findings);
}

/* Release a report. */
void mig_check_report_free(mig_check_report *report)
{
    for (size_t i = 0; i < report->count; i++)
        row_free(&report->rows[i]);
    mig_free(report->rows);
    report->rows = NULL;
    report->count = 0;
}

/* A finding text: the buffer's lines without the last newline, or NULL when empty. */
static char *take_findings(mig_buf *b, int *rc, mig_error *err)
{
    if (b->failed) {
        mig_buf_free(b);
        *rc = mig_fail_nomem(err);
        return NULL;
    }
    if (!b->len) {
        mig_buf_free(b);
        return NULL;
    }
    char *text = mig_buf_take(b);
    size_t n = strlen(text);
    if (n && text[n - 1] == '\n')
        text[n - 1] = '\0';
    return text;
}

/*
 * What the engine can say of a failure; for a UNIQUE, how many groups of rows break it and the
 * first few keys, through migrate_duplicates' code, as a finding.
 */
static int explain_failure(const mig_engine *eng, const mig_step *step, mig_error *failure,
                           mig_buf *out, mig_error *err)
{
    char *table = NULL, *columns = NULL;
    int rc = eng->rehearse->explain_failure(eng->handle, step->text.ptr, step->text.len, failure,
                                            &table, &columns, err);
    if (rc != MIG_OK || !table || !mig_engine_has_unique(eng)) {
        mig_free(table);
        mig_free(columns);
        return rc;
    }
    mig_dup_report report = {0};
    mig_error ignored; /* a table the report cannot read only goes without the finding */
    mig_error_init(&ignored);
    if (mig_duplicates(eng, table, columns, &report, &ignored) == MIG_OK && report.count) {
        mig_buf_printf(out,
                       "constraint: %zu duplicate group%s of %s (%s), %lld rows:", report.count,
                       report.count == 1 ? "" : "s", table, columns, report.rows);
        for (size_t i = 0; i < report.count && i < 3; i++)
            mig_buf_printf(out, "%s %s (%lld rows)", i ? "," : "", report.groups[i].shown,
                           report.groups[i].count);
        mig_buf_printf(out, "%s\n", report.count > 3 ? ", ..." : "");
    }
    if (ignored.code == MIG_NOMEM)
        rc = mig_fail_nomem(err);
    mig_error_clear(&ignored);
    mig_dup_report_free(&report);
    mig_free(table);
    mig_free(columns);
    return rc;
}

/*
 * For a NOT NULL, CHECK or FOREIGN KEY that rows break: in a savepoint of its own, run the
 * migration's statements before the failing one again, let the engine say which rows break the
 * constraint, count them and show the first few as a finding, and undo it all. What the engine
 * cannot do here only leaves the finding out; running out of memory stops the rehearsal.
 */
static int explain_constraint(const mig_engine *eng, const mig_step *step, const mig_error *failure,
                              mig_buf *out, mig_error *err)
{
    const mig_engine_rehearse *r = eng->rehearse;
    void *h = eng->handle;
    size_t at = (size_t)failure->offset;
    if (!r->is_constraint || !r->constraint_rows || failure->offset < 0 || at >= step->text.len ||
        !r->is_constraint(h, failure))
        return MIG_OK;
    mig_error ignored;
    mig_error_init(&ignored);
    int rc = r->step_open(h, err);
    if (rc != MIG_OK)
        return rc;
    long statements;
    long long rows;
    mig_violation v = {0};
    /* the statements before, as a text of their own: an engine may read up to the NUL */
    char *before = mig_strndup(step->text.ptr, at);
    int got = before ? MIG_OK : MIG_NOMEM;
    if (got == MIG_OK && at > 0)
        got = r->exec(h, before, at, &statements, &rows, &ignored);
    mig_free(before);
    if (got == MIG_OK)
        got =
            r->constraint_rows(h, step->text.ptr + at, step->text.len - at, failure, &v, &ignored);
    if (got == MIG_OK && v.where)
        got = mig_violation_report(eng, &v, out, &ignored);
    r->step_undo(h);
    if (got == MIG_NOMEM || out->failed)
        rc = mig_fail_nomem(err);
    mig_violation_free(&v);
    mig_error_clear(&ignored);
    return rc;
}

/*
 * Run one migration in its own savepoint; a failure goes into the row (its savepoint undone),
 * only what stops the rehearsal itself (memory, the engine's own queries) is returned.
 */
static int rehearse_step(const mig_engine *eng, const mig_step *step, bool earlier_failed,
                         mig_check_row *row, mig_error *err)
{
    const mig_engine_rehearse *r = eng->rehearse;
    void *h = eng->handle;
    mig_buf found = {0};
    void *state = NULL;
    int rc = r->observe_before(h, &state, err);
    if (rc != MIG_OK)
        return rc;
    mig_error failure;
    mig_error_init(&failure);
    long long started = monotonic_ms();
    rc = r->step_open(h, err);
    bool open = rc == MIG_OK;
    int ran = MIG_OK;
    if (open) {
        ran = r->exec(h, step->text.ptr, step->text.len, &row->statements, &row->rows_changed,
                      &failure);
        row->ms = monotonic_ms() - started;
    }
    bool count_before = false;
    if (open && ran == MIG_OK)
        rc = r->observe_after(h, state, &found, &count_before, err);
    if (open && ran == MIG_OK && rc == MIG_OK && count_before) {
        /* what was dropped is counted as it stood, then the migration runs again */
        r->step_undo(h);
        open = false;
        rc = r->count_losses(h, state, &found, err);
        if (rc == MIG_OK)
            open = (rc = r->step_open(h, err)) == MIG_OK;
        if (open) {
            long statements;
            long long rows;
            ran = r->exec(h, step->text.ptr, step->text.len, &statements, &rows, &failure);
        }
    }
    if (open && ran == MIG_OK && rc == MIG_OK)
        rc = r->step_keep(h, err);
    else if (open)
        r->step_undo(h);
    if (rc == MIG_OK && ran != MIG_OK) {
        if (failure.code == MIG_NOMEM) {
            mig_error_move(err, &failure);
            rc = MIG_NOMEM;
        } else {
            rc = explain_failure(eng, step, &failure, &found, err);
            if (rc == MIG_OK)
                rc = explain_constraint(eng, step, &failure, &found, err);
            mig_step_locate_error(&failure, step);
            row->outcome = "fails";
            row->after_failure = earlier_failed;
            row->error = mig_error_render(&failure);
            if (rc == MIG_OK && !row->error)
                rc = mig_fail_nomem(err);
        }
    }
    if (rc == MIG_OK && ran == MIG_OK && r->note)
        mig_buf_printf(&found, "%s\n", r->note);
    if (rc == MIG_OK)
        row->findings = take_findings(&found, &rc, err);
    else
        mig_buf_free(&found);
    mig_error_clear(&failure);
    r->observe_free(h, state);
    return rc;
}

/* Rehearse the plan in snap, one row a step. */
static int rehearse_plan(const mig_engine *eng, const mig_plan *plan, mig_check_report *out,
                         mig_error *err)
{
    out->rows = plan->count ? mig_calloc(plan->count, sizeof *out->rows) : NULL;
    if (plan->count && !out->rows)
        return mig_fail_nomem(err);
    int rc = MIG_OK;
    bool failed = false;
    for (size_t i = 0; rc == MIG_OK && i < plan->count; i++) {
        const mig_step *step = &plan->steps[i];
        mig_check_row *row = &out->rows[out->count++];
        row->version = mig_strdup(step->row->version);
        row->name = mig_strdup(step->row->name ? step->row->name : "");
        row->outcome = "ok";
        if (!row->version || !row->name) {
            rc = mig_fail_nomem(err);
            break;
        }
        if (mig_step_is_outside(step)) {
            row->outcome = "skipped";
            row->findings =
                mig_strdup("skipped: marked no-transaction, it cannot run inside the "
                           "rehearsal's transaction; migrate_apply runs it outside one");
            if (!row->findings)
                rc = mig_fail_nomem(err);
            continue;
        }
        rc = rehearse_step(eng, step, failed, row, err);
        if (rc == MIG_OK && strcmp(row->outcome, "fails") == 0)
            failed = true;
    }
    return rc;
}

/* Rehearse and undo. */
int mig_check(const mig_engine *eng, const mig_source *src, const char *target,
              const mig_policy *policy, mig_check_report *out, mig_error *err)
{
    memset(out, 0, sizeof *out);
    if (!mig_engine_has_rehearse(eng))
        return mig_fail(err, MIG_ERR_STATE, "migrate_check is not available on this engine");
    mig_call call = {MIG_PLAN_APPLY, target, MIG_STEPS_ALL, *policy};
    int rc = mig_call_args_check(MIG_PLAN_APPLY, target, MIG_STEPS_ALL, err);
    if (rc != MIG_OK)
        return rc;
    rc = eng->savepoint(eng->handle, MIG_CHECK_SAVEPOINT, err);
    if (rc != MIG_OK)
        return rc;
    mig_snapshot snap;
    memset(&snap, 0, sizeof snap);
    rc = eng->lock(eng->handle, err); /* the same lock the real run takes, before reading */
    if (rc == MIG_OK && eng->rehearse->begin)
        rc = eng->rehearse->begin(eng->handle, err);
    /* refused under drift = error as migrate_apply would be; under warn, said the same way */
    if (rc == MIG_OK && mig_engine_has_drift(eng))
        rc = mig_drift_check(eng, policy->drift, err);
    bool loaded = false;
    if (rc == MIG_OK)
        loaded = (rc = mig_plan_load_rehearsal(eng, src, &call, &snap, err)) == MIG_OK;
    if (rc == MIG_OK)
        rc = rehearse_plan(eng, &snap.plan, out, err);
    eng->rollback(eng->handle, MIG_CHECK_SAVEPOINT); /* whatever happened */
    if (loaded)
        mig_snapshot_free(&snap);
    if (rc != MIG_OK)
        mig_check_report_free(out);
    return rc;
}

/* Each line of text, indented under its migration. */
static void put_indented(mig_buf *b, const char *text)
{
    while (text && *text) {
        const char *nl = strchr(text, '\n');
        size_t n = nl ? (size_t)(nl - text) : strlen(text);
        mig_buf_printf(b, "\n  %.*s", (int)n, text);
        text = nl ? nl + 1 : NULL;
    }
}

/* The report as text. */
char *mig_check_render(const mig_check_report *report)
{
    mig_buf b = {0};
    if (!report->count)
        mig_buf_puts(&b, "nothing to rehearse: no migration is pending");
    for (size_t i = 0; i < report->count; i++) {
        const mig_check_row *r = &report->rows[i];
        mig_buf_printf(&b, "%s%s %s: %s%s (%ld statement%s, %lld row%s changed)", i ? "\n" : "",
                       r->version, r->name, r->outcome, r->after_failure ? " after_failure" : "",
                       r->statements, r->statements == 1 ? "" : "s", r->rows_changed,
                       r->rows_changed == 1 ? "" : "s");
        put_indented(&b, r->error);
        put_indented(&b, r->findings);
    }
    if (b.failed) {
        mig_buf_free(&b);
        return NULL;
    }
    return mig_buf_take(&b);
}
