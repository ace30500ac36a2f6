/* A fake database engine for the runner's tests: it records every call in memory. */
#include "fake_engine.h"

#include "helpers.h"

#include "mig_alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Append one entry to the call log. */
static void note(fake *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(fake *f, const char *fmt, ...)
{
    size_t used = strlen(f->log);
    if (used)
        used += (size_t)snprintf(f->log + used, sizeof f->log - used, " ");
    ck_assert_uint_lt(used, sizeof f->log);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->log + used, sizeof f->log - used, fmt, ap);
    va_end(ap);
}

static bool fails(const fake *f, const char *call)
{
    return f->fail_call && strcmp(f->fail_call, call) == 0;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void row_free(fake_row *r)
{
    for (int i = 0; i < FAKE_COLS; i++)
        free(r->col[i]);
    free(r->up_sql);
    free(r->down_sql);
    memset(r, 0, sizeof *r);
}

/* Drop the rows added since the savepoint. */
static void undo_rows(fake *f)
{
    while (f->nrows > f->nrows_at_savepoint)
        row_free(&f->rows[--f->nrows]);
}

/* Store a history row; values as the INSERT's parameters give them. */
static void store_row(fake *f, const char *version, const char *name, const char *direction,
                      const char *checksum, const char *down_checksum, const char *up_sql,
                      const char *down_sql, const char *script, const char *at, const char *by,
                      const char *ms, const char *success)
{
    ck_assert_uint_lt(f->nrows, FAKE_MAX_ROWS);
    fake_row *r = &f->rows[f->nrows++];
    char id[32];
    snprintf(id, sizeof id, "%lld", ++f->next_id);
    const char *cols[FAKE_COLS] = {id,     version, name, direction, checksum, down_checksum,
                                   script, at,      by,   ms,        success};
    for (int i = 0; i < FAKE_COLS; i++)
        r->col[i] = dup_or_null(cols[i]);
    r->up_sql = dup_or_null(up_sql);
    r->down_sql = dup_or_null(down_sql);
}

/* A row already in history before the call. */
void fake_add_row(fake *f, const char *version, const char *name, const char *direction,
                  const char *checksum, bool success)
{
    char script[64];
    snprintf(script, sizeof script, "%s_%s.sql", version, name);
    store_row(f, version, name, direction, checksum, NULL, "SELECT 1;\n", NULL, script,
              "2024-01-01T00:00:00.000Z", "bob", "3", success ? "1" : "0");
    f->exists = true;
}

/* A successful up row with the scripts history keeps. */
void fake_add_row_scripts(fake *f, const char *version, const char *name, const char *checksum,
                          const char *script, const char *up_sql, const char *down_sql)
{
    store_row(f, version, name, "up", checksum, NULL, up_sql, down_sql, script,
              "2024-01-01T00:00:00.000Z", "bob", "3", "1");
    f->exists = true;
}

/* Forget the call log. */
void fake_clear_log(fake *f)
{
    f->log[0] = '\0';
}

void fake_free(fake *f)
{
    f->nrows_at_savepoint = 0;
    undo_rows(f);
    for (size_t i = 0; i < f->nprogress; i++)
        free(f->progress[i]);
    f->nprogress = 0;
}

/* A script as one line for the log: newlines read as spaces, trailing ones dropped. */
static void note_script(fake *f, const char *what, const char *sql, size_t len)
{
    char line[256];
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < sizeof line; i++)
        line[n++] = sql[i] == '\n' ? ' ' : sql[i];
    while (n && line[n - 1] == ' ')
        n--;
    line[n] = '\0';
    note(f, "%s(%s)", what, line);
}

static int fake_prepare(void *h, bool create, bool *exists, mig_error *err)
{
    fake *f = h;
    note(f, "prepare(%s)", create ? "create" : "nocreate");
    if (fails(f, "prepare"))
        return mig_fail(err, MIG_ENGINE, "cannot create migrate_history");
    if (create)
        f->exists = true;
    *exists = f->exists;
    return MIG_OK;
}

/* Run statement by statement; one holding fail_exec_on fails at its byte offset. */
static int fake_exec(void *h, const char *sql, size_t len, mig_error *err)
{
    fake *f = h;
    note_script(f, "exec", sql, len);
    ck_assert_uint_eq(strlen(sql), len);
    size_t start = 0;
    while (start < len) {
        const char *semi = memchr(sql + start, ';', len - start);
        size_t end = semi ? (size_t)(semi - sql) + 1 : len;
        const char *hit = f->fail_exec_on ? memmem(sql + start, end - start, f->fail_exec_on,
                                                   strlen(f->fail_exec_on))
                                          : NULL;
        if (hit) {
            mig_fail(err, MIG_ENGINE, "near \"%s\": syntax error", f->fail_exec_on);
            snprintf(err->sqlstate, sizeof err->sqlstate, "42601");
            err->engine_code = 1;
            err->offset = f->fail_exec_without_offset ? -1 : (long)start;
            if (f->fail_exec_with_position)
                err->position = hit - sql;
            return MIG_ENGINE;
        }
        start = end;
    }
    return MIG_OK;
}

/* Refuse a script holding refuse_check_on, pointing at the statement. */
static int fake_check(void *h, const char *sql, size_t len, bool outside, mig_error *err)
{
    fake *f = h;
    (void)outside;
    note(f, "check");
    const char *bad = f->refuse_check_on
                          ? memmem(sql, len, f->refuse_check_on, strlen(f->refuse_check_on))
                          : NULL;
    if (!bad)
        return MIG_OK;
    mig_fail(err, MIG_ERR_STATE, "%s cannot run inside a transaction", f->refuse_check_on);
    size_t at = (size_t)(bad - sql);
    while (at > 0 && sql[at - 1] != ';')
        at--;
    err->offset = (long)at;
    return MIG_ERR_STATE;
}

static int fake_query(void *h, const char *sql, int nparams, const char *const *params,
                      mig_row_fn fn, void *ctx, mig_error *err)
{
    fake *f = h;
    static const char stored[] =
        "SELECT up_sql, down_sql, completed_statements FROM migrate_history WHERE id = $1";
    if (strncmp(sql, stored, sizeof stored - 1) == 0) {
        ck_assert_int_eq(nparams, 1);
        note(f, "load_scripts(%s)", params[0]);
        for (size_t i = 0; i < f->nrows; i++)
            if (strcmp(f->rows[i].col[0], params[0]) == 0) {
                const char *v[3] = {f->rows[i].up_sql, f->rows[i].down_sql, NULL};
                return fn(ctx, 3, v);
            }
        return MIG_OK;
    }
    if (strncmp(sql, "SELECT", 6) == 0) {
        note(f, "load");
        ck_assert_str_contains(sql, "FROM migrate_history ORDER BY id");
        ck_assert_int_eq(nparams, 0);
        for (size_t i = 0; i < f->nrows; i++) {
            int rc = fn(ctx, FAKE_COLS, (const char *const *)f->rows[i].col);
            if (rc != MIG_OK)
                return rc;
        }
        return MIG_OK;
    }
    ck_assert_msg(strncmp(sql, "INSERT INTO migrate_history (", 29) == 0, "unexpected SQL: %s",
                  sql);
    ck_assert_int_eq(nparams, 13); /* the 13th, completed_statements, only for failed runs */
    ck_assert_ptr_null(fn);
    note(f, "insert(%s %s %s)", params[0], params[2], params[11]);
    if (fails(f, "insert"))
        return mig_fail(err, MIG_ENGINE, "disk full");
    store_row(f, params[0], params[1], params[2], params[3], params[4], params[5], params[6],
              params[7], params[8], params[9], params[10], params[11]);
    return MIG_OK;
}

static int fake_savepoint(void *h, const char *name, mig_error *err)
{
    fake *f = h;
    (void)err;
    note(f, "savepoint(%s)", name);
    f->nrows_at_savepoint = f->nrows;
    return MIG_OK;
}

static int fake_release(void *h, const char *name, mig_error *err)
{
    fake *f = h;
    note(f, "release(%s)", name);
    if (fails(f, "release")) {
        undo_rows(f);
        return mig_fail(err, MIG_ENGINE, "could not commit");
    }
    return MIG_OK;
}

static void fake_rollback(void *h, const char *name)
{
    fake *f = h;
    note(f, "rollback(%s)", name);
    undo_rows(f);
}

static int fake_lock(void *h, mig_error *err)
{
    fake *f = h;
    note(f, "lock");
    if (fails(f, "lock"))
        return mig_fail(err, MIG_ENGINE, "lock timeout");
    return MIG_OK;
}

static int fake_steps_begin(void *h, mig_error *err)
{
    (void)err;
    note(h, "steps_begin");
    return MIG_OK;
}

static int fake_steps_end(void *h, mig_error *err)
{
    fake *f = h;
    note(f, "steps_end");
    if (fails(f, "steps_end"))
        return mig_fail(err, MIG_ENGINE, "FOREIGN KEY constraint failed");
    return MIG_OK;
}

static char *fake_now(void *h)
{
    (void)h;
    return mig_strdup("2024-05-06T07:08:09.123Z");
}

static char *fake_user(void *h)
{
    (void)h;
    return mig_strdup("alice");
}

static void fake_progress(void *h, const char *message)
{
    fake *f = h;
    ck_assert_uint_lt(f->nprogress, FAKE_MAX_PROGRESS);
    f->progress[f->nprogress++] = strdup(message);
}

/* engine.record: the history INSERT, as any query. */
static int fake_record(void *h, const char *sql, int nparams, const char *const *params,
                       mig_error *err)
{
    return fake_query(h, sql, nparams, params, NULL, NULL, err);
}

const mig_engine_hooks fake_hooks = {
    .steps_begin = fake_steps_begin,
    .steps_end = fake_steps_end,
    .progress = fake_progress,
};

const mig_engine_hooks fake_hooks_checking = {
    .check_script = fake_check,
    .steps_begin = fake_steps_begin,
    .steps_end = fake_steps_end,
    .progress = fake_progress,
};

/* The engine whose calls go to f. */
mig_engine fake_engine(fake *f)
{
    mig_engine e = {
        .handle = f,
        .alloc = &mig_libc_allocator,
        .history_table = "migrate_history",
        .exec_script = fake_exec,
        .query = fake_query,
        .savepoint = fake_savepoint,
        .release = fake_release,
        .rollback = fake_rollback,
        .lock = fake_lock,
        .now_utc = fake_now,
        .current_user = fake_user,
        .history_prepare = fake_prepare,
        .record = fake_record,
        .hooks = &fake_hooks,
    };
    return e;
}
