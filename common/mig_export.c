/*
 * migrate_script: the pending work of a folder written out as SQL statements, one per row, for
 * a shell or psql to run. The plan is made and checked as migrate_apply would; each step
 * becomes its statements (split by the engine) inside the engine's transaction frame, a guard
 * that refuses to run out of turn, and the INSERT that records it in migrate_history.
 */
#include "mig_export.h"

#include "mig_alloc.h"
#include "mig_buf.h"
#include "mig_engine_export.h"
#include "mig_engine_hooks.h"
#include "mig_script.h"
#include "mig_vec.h"

#include <string.h>

/* Append a line, taking ownership; NULL (out of memory) fails. */
static int push_line(mig_sql_lines *out, char *line, mig_error *err)
{
    if (!line)
        return mig_fail_nomem(err);
    if (mig_grow((void **)&out->lines, &out->cap, out->count + 1, sizeof *out->lines) != MIG_OK) {
        mig_free(line);
        return mig_fail_nomem(err);
    }
    out->lines[out->count++] = line;
    return MIG_OK;
}

/* One statement of a script, ending with ';' so a shell reading lines runs it. */
static char *statement_text(const char *text, const mig_statement *st)
{
    const char *p = text + st->offset;
    size_t len = st->len;
    while (len > 0 && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
        p++, len--;
    while (len > 0 &&
           (p[len - 1] == ' ' || p[len - 1] == '\n' || p[len - 1] == '\t' || p[len - 1] == '\r'))
        len--;
    if (len > 0 && p[len - 1] == ';')
        return mig_strndup(p, len);
    /* a ';' right after a trailing -- comment would be part of the comment */
    const char *last_line = p + len;
    while (last_line > p && last_line[-1] != '\n')
        last_line--;
    bool comment = memmem(last_line, (size_t)(p + len - last_line), "--", 2) != NULL;
    return mig_printf("%.*s%s", (int)len, p, comment ? "\n;" : ";");
}

/* A literal, or NULL when the value is NULL. */
static char *literal_or_null(const mig_engine *eng, const char *text)
{
    return text ? eng->export->literal(eng->handle, text) : mig_strdup("NULL");
}

/* The INSERT that records one applied migration; guard (may be NULL) must pass first. */
static char *record_statement(const mig_engine *eng, const mig_migration *m, const char *script,
                              const char *guard)
{
    const char *values[7] = {
        m->version, m->name,     m->checksum, *m->down_checksum ? m->down_checksum : NULL,
        m->up.ptr,  m->down.ptr, script};
    if (eng->export->script_record) /* the engine writes history its own way */
        return eng->export->script_record(eng->handle, values, guard);
    mig_buf b = {0};
    mig_buf_printf(&b,
                   "INSERT INTO %s (version, name, direction, checksum, down_checksum, up_sql, "
                   "down_sql, script, applied_at, applied_by, execution_ms, success) SELECT ",
                   eng->history_table);
    for (int i = 0; i < 7; i++) {
        char *lit = literal_or_null(eng, values[i]);
        mig_buf_printf(&b, "%s%s", lit ? lit : "NULL", i == 1 ? ", 'up', " : ", ");
        mig_free(lit);
    }
    mig_buf_printf(&b, "%s, %s, 0, '1'", eng->export->dialect.now_sql,
                   eng->export->dialect.user_sql);
    if (guard) /* never recorded out of turn, whatever ran before */
        mig_buf_printf(&b, " FROM (SELECT %s) AS migrate_guard", guard);
    mig_buf_puts(&b, ";");
    return mig_buf_take(&b);
}

/* The guard expression for a migration, or NULL when the engine has none. */
static char *guard_expression(const mig_engine *eng, const char *version, const char *previous)
{
    if (!eng->export->dialect.guard_fmt)
        return NULL;
    char *v = eng->export->literal(eng->handle, version);
    char *p = literal_or_null(eng, previous);
    char *guard = v && p ? mig_printf(eng->export->dialect.guard_fmt, v, p) : NULL;
    mig_free(v);
    mig_free(p);
    return guard;
}

/* Name the migration and the line of err->offset in its up script. */
static void locate_export_error(mig_error *err, const mig_migration *m)
{
    if (err->offset >= 0) {
        size_t at = (size_t)err->offset < m->up.len ? (size_t)err->offset : m->up.len;
        mig_error_set_context(err, "migration %s (%s, line %d)", m->version, m->script,
                              m->up.first_line - 1 + mig_script_line_at(m->up.ptr, m->up.len, at));
    } else {
        mig_error_set_context(err, "migration %s (%s)", m->version, m->script);
    }
}

/* Push a fixed statement of the dialect when it has one. */
static int push_optional(mig_sql_lines *out, const char *statement, mig_error *err)
{
    return statement ? push_line(out, mig_strdup(statement), err) : MIG_OK;
}

/*
 * Statements of one migration: guard, body, record, inside BEGIN/COMMIT unless it is marked
 * no-transaction (then between the dialect's outside_begin and outside_end).
 */
static int export_step(const mig_engine *eng, const mig_step *step, const char *previous,
                       mig_sql_lines *out, mig_error *err)
{
    const mig_migration *m = step->row->file;
    bool outside = mig_text_has(&m->up, MIG_TEXT_NO_TRANSACTION);
    char *guard = guard_expression(eng, m->version, previous);
    if (eng->export->dialect.guard_fmt && !guard)
        return mig_fail_nomem(err);
    int rc = push_optional(out, outside ? NULL : eng->export->dialect.begin, err);
    if (rc == MIG_OK && guard)
        rc = push_line(out, mig_printf("SELECT %s;", guard), err);
    if (rc == MIG_OK && outside)
        rc = push_optional(out, eng->export->dialect.outside_begin, err);
    mig_statement *stmts = NULL;
    size_t n = 0;
    if (rc == MIG_OK)
        rc = eng->export->split_statements(eng->handle, m->up.ptr, m->up.len, &stmts, &n, err);
    for (size_t i = 0; rc == MIG_OK && i < n; i++) {
        if (eng->export->check_export &&
            (rc = eng->export->check_export(eng->handle, m->up.ptr, m->up.len, &stmts[i], err)) !=
                MIG_OK)
            locate_export_error(err, m);
        else
            rc = push_line(out, statement_text(m->up.ptr, &stmts[i]), err);
    }
    mig_free(stmts);
    if (rc == MIG_OK && outside)
        rc = push_optional(out, eng->export->dialect.outside_end, err);
    if (rc == MIG_OK)
        rc = push_line(out, record_statement(eng, m, step->script, guard), err);
    if (rc == MIG_OK && !outside)
        rc = push_optional(out, eng->export->dialect.commit, err);
    mig_free(guard);
    return rc;
}

/* The one line written when nothing is pending: an SQL comment, harmless to run. */
static char *nothing_to_apply(const mig_status *status, const char *target)
{
    const char *at = status->newest ? status->newest : "0";
    if (target)
        return mig_printf("-- migrate: nothing to apply up to version %s; the database is at "
                          "version %s",
                          target, at);
    return mig_printf("-- migrate: nothing to apply; the database is at version %s", at);
}

/* Write the pending work out. */
int mig_export(const mig_engine *eng, const mig_source *src, const char *target,
               const mig_policy *policy, mig_sql_lines *out, mig_error *err)
{
    memset(out, 0, sizeof *out);
    if (!mig_engine_has_export(eng))
        return mig_fail(err, MIG_ERR_STATE, "migrate_script is not available on this engine");
    mig_snapshot snap;
    mig_call call = {MIG_PLAN_APPLY, target, 0, policy ? *policy : (mig_policy){false, false, 0}};
    int rc = mig_target_check(target, err);
    memset(&snap, 0, sizeof snap);
    if (rc == MIG_OK)
        rc = mig_snapshot_load(eng, src, &snap, err);
    if (rc == MIG_OK)
        rc = mig_status_check_policy(&snap.status, &call.policy, NULL, err);
    if (rc == MIG_OK)
        rc = mig_plan_make(&snap.status, &call.policy, MIG_PLAN_APPLY, target, 0, &snap.plan, err);
    for (size_t i = 0; rc == MIG_OK && i < snap.plan.count; i++)
        if (snap.plan.steps[i].row->resumable)
            rc = mig_fail(err, MIG_ERR_STATE,
                          "%s: migration %s failed outside a transaction; resume it with "
                          "migrate_apply, or clear it with migrate_repair",
                          snap.plan.steps[i].script, snap.plan.steps[i].row->version);
    if (rc == MIG_OK)
        rc = mig_check_leftovers(eng, &snap.plan, err);
    /* what cannot run inside a transaction is refused here too: the script would fail half-way */
    for (size_t i = 0; rc == MIG_OK && i < snap.plan.count; i++) {
        const mig_migration *m = snap.plan.steps[i].row->file;
        if (!mig_text_has(&m->up, MIG_TEXT_NO_TRANSACTION) &&
            (rc = mig_engine_check_script(eng, m->up.ptr, m->up.len, false, err)) != MIG_OK)
            locate_export_error(err, m);
    }
    /* an empty result would look like a failure to whoever pipes it: say why there is none */
    if (rc == MIG_OK && snap.plan.count == 0)
        rc = push_line(out, nothing_to_apply(&snap.status, target), err);
    for (int i = 0; rc == MIG_OK && snap.plan.count && eng->export->dialect.prologue[i]; i++)
        rc = push_line(out, mig_strdup(eng->export->dialect.prologue[i]), err);
    const char *previous = NULL;
    for (size_t i = 0; rc == MIG_OK && i < snap.plan.count; i++) {
        rc = export_step(eng, &snap.plan.steps[i], previous, out, err);
        previous = snap.plan.steps[i].row->version;
    }
    for (int i = 0; rc == MIG_OK && snap.plan.count && eng->export->dialect.epilogue[i]; i++)
        rc = push_line(out, mig_strdup(eng->export->dialect.epilogue[i]), err);
    mig_snapshot_free(&snap);
    if (rc != MIG_OK)
        mig_sql_lines_free(out);
    return rc;
}

/* Release the lines. */
void mig_sql_lines_free(mig_sql_lines *lines)
{
    for (size_t i = 0; i < lines->count; i++)
        mig_free(lines->lines[i]);
    mig_free(lines->lines);
    memset(lines, 0, sizeof *lines);
}

/* text as a standard SQL literal ('' for a quote), or NULL. */
static char *standard_literal(const char *text)
{
    if (!text)
        return mig_strdup("NULL");
    mig_buf b = {0};
    mig_buf_puts(&b, "'");
    for (const char *q; (q = strchr(text, '\'')); text = q + 1) {
        mig_buf_append(&b, text, (size_t)(q - text));
        mig_buf_puts(&b, "''");
    }
    mig_buf_puts(&b, text);
    mig_buf_puts(&b, "'");
    return mig_buf_take(&b);
}

/* The INSERT of one migration into migrate_scripts. */
static int push_migration(const mig_migration *m, mig_sql_lines *out, mig_error *err)
{
    mig_text in_text = mig_text_make(m->up.ptr, m->up.len, 1);
    mig_text_read_directives(&in_text);
    if (mig_text_has(&m->up, MIG_TEXT_NO_TRANSACTION) &&
        !mig_text_has(&in_text, MIG_TEXT_NO_TRANSACTION))
        return mig_fail(err, MIG_ERR_ARGUMENT,
                        "%s: migration %s is marked no-transaction on its section line, which a "
                        "migrate_scripts row cannot carry; nothing was written",
                        m->script, m->version);
    char *version = standard_literal(m->version), *name = standard_literal(m->name);
    char *up = standard_literal(m->up.ptr), *down = standard_literal(m->down.ptr);
    char *line = version && name && up && down
                     ? mig_printf("INSERT INTO migrate_scripts (version, name, up_sql, down_sql) "
                                  "VALUES (%s, %s, %s, %s);",
                                  version, name, up, down)
                     : NULL;
    mig_free(version), mig_free(name), mig_free(up), mig_free(down);
    return line ? push_line(out, line, err) : mig_fail_nomem(err);
}

/* The folder as INSERT statements into migrate_scripts. */
int mig_export_push(const char *dir, mig_sql_lines *out, mig_error *err)
{
    memset(out, 0, sizeof *out);
    if (!dir)
        return mig_fail(err, MIG_ERR_NULL, "migrate_push needs a migrations folder");
    mig_set set;
    mig_source src = mig_source_folder(dir);
    int rc = mig_source_load(NULL, &src, 0, &set, NULL, err);
    if (rc != MIG_OK)
        return rc;
    if (set.count == 0) {
        char *label = mig_source_folder_label(dir);
        rc = mig_fail(err, MIG_ERR_NO_FILE, "no migration files found in %s; nothing was written",
                      label ? label : dir);
        mig_free(label);
    }
    if (rc == MIG_OK)
        rc = push_line(out, mig_strdup("SET standard_conforming_strings = on;"), err);
    for (size_t i = 0; rc == MIG_OK && i < set.count; i++)
        rc = push_migration(&set.items[i], out, err);
    mig_set_free(&set);
    if (rc != MIG_OK)
        mig_sql_lines_free(out);
    return rc;
}
