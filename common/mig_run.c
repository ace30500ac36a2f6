#include "mig_run.h"

#include "mig_alloc.h"
#include "mig_script.h"

#include <string.h>
#include <time.h>

/* Milliseconds on a clock that never goes back. */
static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Load the folder and the history and compare them. */
static int snapshot_fill(const mig_engine *eng, const char *dir, bool create, mig_snapshot *snap,
                         mig_error *err)
{
    int rc = MIG_OK;
    if (dir) {
        rc = mig_source_read(dir, &snap->files, err);
        snap->has_files = rc == MIG_OK;
    }
    if (rc == MIG_OK)
        rc = mig_history_load(eng, create, &snap->history, err);
    if (rc == MIG_OK)
        rc = mig_status_build(snap->has_files ? &snap->files : NULL, &snap->history,
                              &snap->status, err);
    return rc;
}

/* Read-only snapshot for migrations_status. */
int mig_snapshot_load(const mig_engine *eng, const char *dir, mig_snapshot *snap, mig_error *err)
{
    memset(snap, 0, sizeof *snap);
    int rc = snapshot_fill(eng, dir, false, snap, err);
    if (rc != MIG_OK)
        mig_snapshot_free(snap);
    return rc;
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

/* Snapshot plus the steps an apply would run. */
int mig_plan_load(const mig_engine *eng, const char *dir, const char *target, mig_snapshot *snap,
                  mig_error *err)
{
    memset(snap, 0, sizeof *snap);
    int rc = mig_target_check(target, err);
    if (rc == MIG_OK)
        rc = snapshot_fill(eng, dir, false, snap, err);
    if (rc == MIG_OK)
        rc = mig_status_check(&snap->status, err);
    if (rc == MIG_OK)
        rc = mig_plan_build(&snap->status, target, &snap->plan, err);
    if (rc != MIG_OK)
        mig_snapshot_free(snap);
    return rc;
}

/* Say which migration, file and line an engine error came from. */
static void locate_error(mig_error *err, const mig_migration *m, bool down)
{
    const char *text = down ? m->down_text : m->up_text;
    const mig_span *span = down ? &m->down : &m->up;
    const char *file = down ? m->down_script : m->script;
    if (err->offset >= 0) {
        size_t len = strlen(text);
        size_t at = mig_script_skip_blank(text, len, (size_t)err->offset);
        if (at >= len)
            at = (size_t)err->offset < len ? (size_t)err->offset : len;
        int line = span->first_line - 1 + mig_script_line_at(text, len, at);
        mig_error_set_context(err, "migration %s (%s, line %d)", m->version, file, line);
    } else {
        mig_error_set_context(err, "migration %s (%s)", m->version, file);
    }
}

/* Run the checks the engine makes on every script before any of them runs. */
static int check_scripts(const mig_engine *eng, const mig_plan *plan, mig_error *err)
{
    if (!eng->check_script)
        return MIG_OK;
    for (size_t i = 0; i < plan->count; i++) {
        const mig_migration *m = plan->steps[i].row->file;
        int rc = eng->check_script(eng->handle, m->up_text, strlen(m->up_text), err);
        if (rc != MIG_OK) {
            locate_error(err, m, false);
            return rc;
        }
    }
    return MIG_OK;
}

/* Run one up migration and record it. */
static int apply_step(const mig_engine *eng, const mig_migration *m, mig_error *err)
{
    long long started = monotonic_ms();
    int rc = eng->exec_script(eng->handle, m->up_text, strlen(m->up_text), err);
    if (rc != MIG_OK) {
        locate_error(err, m, false);
        return rc;
    }
    mig_history_entry entry = {m->version,   m->name,     "up",      m->checksum,
                               m->down_checksum, m->up_text, m->down_text, m->script,
                               monotonic_ms() - started, true};
    rc = mig_history_append(eng, &entry, err);
    if (rc == MIG_OK && eng->progress) {
        char *msg = mig_printf("applied %s %s (%lld ms)", m->version, m->name, entry.execution_ms);
        if (msg)
            eng->progress(eng->handle, msg);
        mig_free(msg);
    }
    return rc;
}

/* Everything of one apply call, inside its savepoint. */
static int apply_locked(const mig_engine *eng, mig_snapshot *snap, const char *target,
                        int *applied, mig_error *err)
{
    int rc = eng->lock(eng->handle, err);
    if (rc == MIG_OK)
        rc = mig_history_load(eng, true, &snap->history, err);
    if (rc == MIG_OK)
        rc = mig_status_build(&snap->files, &snap->history, &snap->status, err);
    if (rc == MIG_OK)
        rc = mig_status_check(&snap->status, err);
    if (rc == MIG_OK)
        rc = mig_plan_build(&snap->status, target, &snap->plan, err);
    if (rc == MIG_OK)
        rc = check_scripts(eng, &snap->plan, err);
    if (rc == MIG_OK && snap->plan.count && eng->steps_begin)
        rc = eng->steps_begin(eng->handle, err);
    for (size_t i = 0; rc == MIG_OK && i < snap->plan.count; i++) {
        rc = apply_step(eng, snap->plan.steps[i].row->file, err);
        if (rc == MIG_OK)
            (*applied)++;
    }
    if (rc == MIG_OK && snap->plan.count && eng->steps_end)
        rc = eng->steps_end(eng->handle, err);
    return rc;
}

/* Apply pending migrations in one transaction. */
int mig_apply(const mig_engine *eng, const char *dir, const char *target, int *applied,
              mig_error *err)
{
    *applied = 0;
    mig_snapshot snap;
    memset(&snap, 0, sizeof snap);
    int rc = mig_target_check(target, err);
    if (rc == MIG_OK)
        rc = mig_source_read(dir, &snap.files, err); /* bad files change nothing, not even a lock */
    snap.has_files = rc == MIG_OK;
    if (rc == MIG_OK)
        rc = eng->savepoint(eng->handle, MIG_CALL_SAVEPOINT, err);
    if (rc == MIG_OK) {
        rc = apply_locked(eng, &snap, target, applied, err);
        if (rc == MIG_OK)
            rc = eng->release(eng->handle, MIG_CALL_SAVEPOINT, err);
        else
            eng->rollback(eng->handle, MIG_CALL_SAVEPOINT);
    }
    if (rc != MIG_OK)
        *applied = 0;
    mig_snapshot_free(&snap);
    return rc;
}
