/*
 * migrate_history through the engine: loading every row (without the stored scripts) in id
 * order, fetching the scripts one row kept, and appending a row stamped with the engine's
 * clock and user. All SQL is built here with the engine's qualified table name and $n
 * parameters; the engine only runs it.
 */
#include "mig_history.h"

#include "mig_alloc.h"
#include "mig_catalog.h"
#include "mig_vec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { HISTORY_COLUMNS = 11 };

/* Parse an engine's boolean text: SQLite says 1, PostgreSQL says t. */
static bool text_is_true(const char *s)
{
    return s && (strcmp(s, "1") == 0 || strcmp(s, "t") == 0 || strcmp(s, "true") == 0);
}

/* Append one loaded row. */
static int on_history_row(void *ctx, int ncols, const char *const *v)
{
    mig_history *hist = ctx;
    if (ncols != HISTORY_COLUMNS)
        return MIG_ERR_STATE;
    if (mig_grow((void **)&hist->rows, &hist->cap, hist->count + 1, sizeof *hist->rows) != MIG_OK)
        return MIG_NOMEM;
    mig_history_row *r = &hist->rows[hist->count];
    memset(r, 0, sizeof *r);
    hist->count++;
    r->id = v[0] ? strtoll(v[0], NULL, 10) : 0;
    char **text[] = {&r->version,       &r->name,   &r->direction,  &r->checksum,
                     &r->down_checksum, &r->script, &r->applied_at, &r->applied_by};
    for (int i = 0; i < 8; i++)
        if (v[i + 1] && !(*text[i] = mig_strdup(v[i + 1])))
            return MIG_NOMEM;
    r->execution_ms = v[9] ? strtoll(v[9], NULL, 10) : 0;
    r->success = text_is_true(v[10]);
    if (!r->version || !r->direction)
        return MIG_ERR_STATE;
    return MIG_OK;
}

/* Read migrate_history in id order. */
int mig_history_load(const mig_engine *eng, bool create, mig_history *out, mig_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = eng->history_prepare(eng->handle, create, &out->exists, err);
    if (rc != MIG_OK || !out->exists)
        return rc;
    char *sql = mig_printf("SELECT id, version, name, direction, checksum, down_checksum, script, "
                           "applied_at, applied_by, execution_ms, success FROM %s ORDER BY id",
                           eng->history_table);
    if (!sql)
        return mig_fail_nomem(err);
    rc = eng->query(eng->handle, sql, 0, NULL, on_history_row, out, err);
    mig_free(sql);
    if (rc == MIG_NOMEM)
        rc = mig_fail_nomem(err);
    else if (rc == MIG_ERR_STATE && !err->message)
        rc = mig_fail(err, MIG_ERR_STATE, "migrate_history has rows this version cannot read");
    if (rc != MIG_OK)
        mig_history_free(out);
    return rc;
}

/* ISO-8601 UTC with milliseconds, whatever clock the engine read. */
char *mig_history_timestamp(long long unix_ms)
{
    time_t secs = (time_t)(unix_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    return mig_printf("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(unix_ms % 1000));
}

/* Append one row, stamped with the engine's clock and user, through the engine's record. */
int mig_history_append(const mig_engine *eng, const mig_history_entry *e, mig_error *err)
{
    char *at = eng->now_utc(eng->handle);
    char *by = eng->current_user(eng->handle);
    char *sql = mig_printf("INSERT INTO %s (" MIG_HISTORY_INSERT_LIST ") VALUES ($1, $2, $3, $4, "
                           "$5, $6, $7, $8, $9, $10, $11, $12, $13)",
                           eng->history_table);
    char ms[32], done[32];
    snprintf(ms, sizeof ms, "%lld", e->execution_ms);
    snprintf(done, sizeof done, "%d", e->completed);
    const char *params[13] = {e->version,
                              e->name,
                              e->direction,
                              e->checksum && *e->checksum ? e->checksum : NULL,
                              e->down_checksum && *e->down_checksum ? e->down_checksum : NULL,
                              e->up_sql,
                              e->down_sql,
                              e->script,
                              at,
                              by,
                              ms,
                              e->success ? "1" : "0",
                              e->success ? NULL : done};
    int rc;
    if (!at || !sql)
        rc = mig_fail_nomem(err);
    else
        rc = eng->record(eng->handle, sql, 13, params, err);
    mig_free(at);
    mig_free(by);
    mig_free(sql);
    return rc;
}

/* Copy the stored scripts of the one row asked for. */
static int on_stored_scripts(void *ctx, int ncols, const char *const *v)
{
    mig_stored_scripts *s = ctx;
    if (ncols != 3)
        return MIG_ERR_STATE;
    s->completed = v[2] ? atoi(v[2]) : 0;
    if ((v[0] && !(s->up_sql = mig_strdup(v[0]))) || (v[1] && !(s->down_sql = mig_strdup(v[1]))))
        return MIG_NOMEM;
    return MIG_OK;
}

/* Fetch the scripts migrate_history kept for the row with this id. */
int mig_history_load_scripts(const mig_engine *eng, long long id, mig_stored_scripts *out,
                             mig_error *err)
{
    memset(out, 0, sizeof *out);
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%lld", id);
    const char *params[1] = {idtext};
    char *sql = mig_printf("SELECT up_sql, down_sql, completed_statements FROM %s WHERE id = $1",
                           eng->history_table);
    if (!sql)
        return mig_fail_nomem(err);
    int rc = eng->query(eng->handle, sql, 1, params, on_stored_scripts, out, err);
    mig_free(sql);
    if (rc == MIG_NOMEM)
        rc = mig_fail_nomem(err);
    if (rc != MIG_OK)
        mig_stored_scripts_free(out);
    return rc;
}

/* Release the stored scripts. */
void mig_stored_scripts_free(mig_stored_scripts *s)
{
    mig_free(s->up_sql);
    mig_free(s->down_sql);
    memset(s, 0, sizeof *s);
}

/* Release the loaded rows. */
void mig_history_free(mig_history *hist)
{
    for (size_t i = 0; i < hist->count; i++) {
        mig_history_row *r = &hist->rows[i];
        mig_free(r->version);
        mig_free(r->name);
        mig_free(r->direction);
        mig_free(r->checksum);
        mig_free(r->down_checksum);
        mig_free(r->script);
        mig_free(r->applied_at);
        mig_free(r->applied_by);
    }
    mig_free(hist->rows);
    memset(hist, 0, sizeof *hist);
}
