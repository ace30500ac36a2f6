/*
 * migrate_nulls, migrate_set_not_null and migrate_rebuild: the SQL that finds and fills NULLs
 * and moves the rows still NULL aside, built here for both engines. The engine resolves and
 * locks the table (the unique capability) and makes the column NOT NULL or rebuilds the table
 * its own way (the columns capability).
 */
#include "mig_columns.h"

#include "mig_alloc.h"
#include "mig_buf.h"
#include "mig_drift.h"
#include "mig_script.h"
#include "mig_unique.h"
#include "mig_vec.h"

#include <stdlib.h>
#include <string.h>

#define COLUMNS_SAVEPOINT "migrate_columns"
/* Where set_not_null first tries the change alone, undone when rows hold NULL. */
#define NOT_NULL_TRY_SAVEPOINT "migrate_not_null_try"
/* How many rows an error names before pointing at migrate_nulls. */
#define ROWS_SHOWN 5

/* Parse the on_null argument. */
int mig_columns_on_null(const char *text, mig_on_null *out, mig_error *err)
{
    if (!text || strcmp(text, "fail") == 0)
        *out = MIG_NULL_FAIL;
    else if (strcmp(text, "quarantine") == 0)
        *out = MIG_NULL_QUARANTINE;
    else
        return mig_fail(err, MIG_ERR_ARGUMENT, "on_null must be 'fail' or 'quarantine', not '%s'",
                        text);
    return MIG_OK;
}

/* fill: the argument named "fill". */
int mig_columns_fill_check(const char *fill, mig_error *err)
{
    return mig_columns_sql_check("fill", fill, err);
}

/*
 * One expression: closed, no statement separator, parentheses that never close what they did
 * not open, read by quoting rules both engines share; arg names the argument in errors.
 */
int mig_columns_sql_check(const char *arg, const char *fill, mig_error *err)
{
    size_t len = strlen(fill), at = 0;
    if (mig_script_is_blank(fill, len))
        return mig_fail(err, MIG_ERR_ARGUMENT, "%s is empty: give an SQL expression or NULL", arg);
    const char *what = mig_script_unclosed(fill, len, &at);
    if (what)
        return mig_fail(err, MIG_ERR_ARGUMENT, "%s ends inside a %s: it must be one SQL expression",
                        arg, what);
    if (mig_script_next_semicolon(fill, len, 0) < len)
        return mig_fail(err, MIG_ERR_ARGUMENT,
                        "%s holds a ';': it must be one SQL expression, not statements", arg);
    int depth = 0;
    for (size_t pos = 0; pos < len && depth >= 0; pos++) {
        char c = fill[pos];
        if (c == '\'' || c == '"') { /* a quote closes at its next single (undoubled) twin */
            for (pos++; pos < len && !(fill[pos] == c && fill[pos + 1] != c); pos++)
                if (fill[pos] == c)
                    pos++;
        } else if (c == '-' && fill[pos + 1] == '-') {
            while (pos < len && fill[pos] != '\n')
                pos++;
        } else if (c == '/' && fill[pos + 1] == '*') {
            const char *end = strstr(fill + pos + 2, "*/");
            pos = end ? (size_t)(end - fill) + 1 : len;
        } else if (c == '$') { /* quoting on PostgreSQL, a parameter on SQLite: never certain */
            return mig_fail(err, MIG_ERR_ARGUMENT,
                            "%s holds a '$' outside quotes: write the expression without "
                            "dollar quotes or parameters",
                            arg);
        } else if (c == '(') {
            depth++;
        } else if (c == ')') {
            depth--;
        }
    }
    if (depth != 0)
        return mig_fail(err, MIG_ERR_ARGUMENT,
                        "%s has unbalanced parentheses: it must be one SQL expression", arg);
    return MIG_OK;
}

/* Release a report. */
void mig_null_report_free(mig_null_report *report)
{
    for (size_t i = 0; i < report->count; i++)
        mig_free(report->rows[i]);
    mig_free(report->rows);
    memset(report, 0, sizeof *report);
}

/* The resolved table and column of one request. */
typedef struct column_request {
    const mig_engine *eng;
    const char *function;
    char *column;
    char *quoted; /* the column, quoted */
    mig_table_desc table;
} column_request;

static void request_free(column_request *req)
{
    mig_free(req->column);
    mig_free(req->quoted);
    mig_table_desc_free(&req->table);
}

/* Check the capability and resolve the table (for what the call does with it) and column. */
static int request_open(const mig_engine *eng, const char *function, const char *table,
                        const char *column, mig_table_access access, column_request *req,
                        mig_error *err)
{
    memset(req, 0, sizeof *req);
    req->eng = eng;
    req->function = function;
    if (!mig_engine_has_columns(eng))
        return mig_fail(err, MIG_ERR_STATE, "%s is not available on this engine", function);
    if (!table)
        return mig_fail(err, MIG_ERR_NULL, "%s needs a table name", function);
    if (column && !(req->column = mig_strdup(column)))
        return mig_fail_nomem(err);
    if (column && !(req->quoted = mig_quote_ident(column)))
        return mig_fail_nomem(err);
    const char *cols[1] = {column};
    int rc = eng->unique->table_describe(eng->handle, table, access, cols, column ? 1 : 0,
                                         &req->table, err);
    if (rc == MIG_OK && req->table.own)
        return mig_fail(err, MIG_PRIVILEGE,
                        "%s refuses table %s: it is one of migrate's own tables, which only "
                        "migrate itself changes; nothing was changed",
                        function, req->table.name);
    return rc;
}

/* Run one statement built in b (taking its text), each row handed to fn when not NULL. */
static int run_built(const column_request *req, mig_buf *b, mig_row_fn fn, void *ctx,
                     mig_error *err)
{
    char *sql = mig_buf_take(b);
    if (!sql)
        return mig_fail_nomem(err);
    int rc = req->eng->query(req->eng->handle, sql, 0, NULL, fn, ctx, err);
    mig_free(sql);
    if (rc == MIG_NOMEM)
        return mig_fail_nomem(err);
    if (rc != MIG_OK && !err->message)
        return mig_fail(err, MIG_ERR_STATE,
                        "an internal query of %s returned rows of an unexpected shape; nothing "
                        "was changed",
                        req->function);
    return rc;
}

/* One row of the identity query: its values joined as migrate_duplicates writes them. */
static int on_null_row(void *ctx, int ncols, const char *const *v)
{
    mig_null_report *r = ctx;
    mig_buf b = {0};
    if (ncols > 1)
        mig_buf_puts(&b, "(");
    for (int i = 0; i < ncols; i++)
        mig_buf_printf(&b, "%s%s", i ? ", " : "", v[i] ? v[i] : "NULL");
    if (ncols > 1)
        mig_buf_puts(&b, ")");
    char *row = mig_buf_take(&b);
    if (!row || mig_grow((void **)&r->rows, &r->cap, r->count + 1, sizeof *r->rows) != MIG_OK) {
        mig_free(row);
        return MIG_NOMEM;
    }
    r->rows[r->count++] = row;
    return MIG_OK;
}

/* The identities of the rows whose column is NULL, in order; at most limit (0: all). */
static int find_nulls(const column_request *req, long limit, mig_null_report *out, mig_error *err)
{
    const mig_table_desc *t = &req->table;
    mig_buf b = {0};
    mig_buf_puts(&b, "SELECT ");
    for (int i = 0; i < t->nidentity; i++)
        mig_buf_printf(&b, "%sCAST(%s AS TEXT)", i ? ", " : "", t->identity[i]);
    mig_buf_printf(&b, " FROM %s WHERE %s IS NULL ORDER BY ", t->qualified, req->quoted);
    for (int i = 0; i < t->nidentity; i++)
        mig_buf_printf(&b, "%s%s", i ? ", " : "", t->identity[i]);
    if (limit > 0)
        mig_buf_printf(&b, " LIMIT %ld", limit);
    int rc = run_built(req, &b, on_null_row, out, err);
    if (rc != MIG_OK)
        mig_null_report_free(out);
    return rc;
}

/* migrate_nulls */
int mig_nulls(const mig_engine *eng, const char *table, const char *column, mig_null_report *out,
              mig_error *err)
{
    memset(out, 0, sizeof *out);
    column_request req;
    int rc = column ? request_open(eng, "migrate_nulls", table, column, MIG_TABLE_READ, &req, err)
                    : mig_fail(err, MIG_ERR_NULL, "migrate_nulls needs a column name");
    if (rc == MIG_OK)
        rc = find_nulls(&req, 0, out, err);
    if (column)
        request_free(&req);
    return rc;
}

/* One count(*). */
static int on_count(void *ctx, int ncols, const char *const *v)
{
    if (ncols != 1 || !v[0])
        return MIG_ERR_STATE;
    *(long long *)ctx = strtoll(v[0], NULL, 10);
    return MIG_OK;
}

/* How many rows hold NULL in the column. */
static int count_nulls(const column_request *req, long long *count, mig_error *err)
{
    mig_buf b = {0};
    mig_buf_printf(&b, "SELECT count(*) FROM %s WHERE %s IS NULL", req->table.qualified,
                   req->quoted);
    *count = 0;
    return run_built(req, &b, on_count, count, err);
}

/* Append s as the body of an SQL string literal (quotes doubled). */
static void literal_body(mig_buf *b, const char *s)
{
    for (const char *p = s; *p; p++)
        mig_buf_puts(b, *p == '\'' ? "''" : (char[2]){*p, '\0'});
}

/*
 * The refusal for rows still NULL: how many, the first few, where to look and what to do
 * (remedy: how the call that refuses could give them a value).
 */
static int nulls_error(const column_request *req, long long count, bool filled, const char *remedy,
                       mig_error *err)
{
    mig_null_report shown;
    memset(&shown, 0, sizeof shown);
    int rc = find_nulls(req, ROWS_SHOWN, &shown, err);
    if (rc != MIG_OK)
        return rc;
    mig_buf detail = {0}, hint = {0};
    mig_buf_puts(&detail, "rows ");
    for (size_t i = 0; i < shown.count; i++)
        mig_buf_printf(&detail, "%s%s", i ? ", " : "", shown.rows[i]);
    if (count > (long long)shown.count)
        mig_buf_printf(&detail, " and %lld more", count - (long long)shown.count);
    mig_null_report_free(&shown);
    mig_buf_puts(&hint, "SELECT * FROM migrate_nulls('");
    literal_body(&hint, req->table.name);
    mig_buf_puts(&hint, "', '");
    literal_body(&hint, req->column);
    mig_buf_printf(&hint, "') lists every row; %s", remedy);
    bool adding = strcmp(req->function, "migrate_add_column") == 0;
    mig_fail(err, MIG_ERR_CONFLICT,
             "cannot %s column %s %s %s%s NOT NULL: %lld row%s %s NULL%s; nothing was changed",
             adding ? "add" : "make", req->column, adding ? "to" : "of", req->table.name,
             adding ? " as" : "", count, count == 1 ? "" : "s", count == 1 ? "holds" : "hold",
             filled ? " after the fill" : "");
    mig_error_set_detail(err, mig_buf_take(&detail));
    char *hint_text = mig_buf_take(&hint);
    mig_error_set_hint(err, "%s", hint_text ? hint_text : "");
    mig_free(hint_text);
    strcpy(err->sqlstate, MIG_SQLSTATE_NOT_NULL_VIOLATION);
    return err->code;
}

/* Point the request's quarantine at <table>_nulls, in the table's schema. */
static int use_nulls_quarantine(column_request *req, mig_error *err)
{
    mig_table_desc *t = &req->table;
    char *name = mig_quarantine_table_name(t->table, "_nulls");
    char *qs = mig_quote_ident(t->schema);
    char *qn = name ? mig_quote_ident(name) : NULL;
    char *qualified = qs && qn ? mig_printf("%s.%s", qs, qn) : NULL;
    mig_free(qs);
    mig_free(qn);
    if (!qualified) {
        mig_free(name);
        return mig_fail_nomem(err);
    }
    mig_free(t->quarantine);
    mig_free(t->quarantine_name);
    t->quarantine = qualified;
    t->quarantine_name = name;
    return MIG_OK;
}

/* Fill the column's NULLs from fill, each row's own expression, with the caller's names. */
static int fill_nulls(const column_request *req, const char *fill, mig_error *err)
{
    mig_buf b = {0};
    mig_buf_printf(&b, "UPDATE %s SET %s = (\n%s\n) WHERE %s IS NULL", req->table.qualified,
                   req->quoted, fill, req->quoted);
    char *sql = mig_buf_take(&b);
    if (!sql)
        return mig_fail_nomem(err);
    int rc = req->eng->exec_script(req->eng->handle, sql, strlen(sql), err);
    mig_free(sql);
    if (rc != MIG_OK && err->message) {
        char *why = err->message;
        err->message = mig_printf("could not fill column %s of %s: %s; nothing was changed",
                                  req->column, req->table.name, why);
        mig_free(why);
        err->offset = -1;
        err->position = -1;
    }
    return rc;
}

/*
 * With nothing to fill, the engine's change is the only scan the data needs: it fails when a
 * row holds NULL. So it is tried first in its own savepoint (*done on success); on any failure
 * that savepoint is undone and the call goes the long way (count, report or quarantine), which
 * names the rows, or meets the same error again when it was something else.
 */
static int try_set_not_null(column_request *req, bool *done, mig_error *err)
{
    const mig_engine *eng = req->eng;
    *done = false;
    int rc = eng->savepoint(eng->handle, NOT_NULL_TRY_SAVEPOINT, err);
    if (rc != MIG_OK)
        return rc;
    mig_error tried;
    mig_error_init(&tried);
    if (eng->columns->set_not_null(eng->handle, &req->table, req->column, &tried) == MIG_OK) {
        *done = true;
        return eng->release(eng->handle, NOT_NULL_TRY_SAVEPOINT, err);
    }
    mig_error_clear(&tried);
    eng->rollback(eng->handle, NOT_NULL_TRY_SAVEPOINT);
    return MIG_OK;
}

/* The work of migrate_set_not_null inside its savepoint. */
static int set_not_null(column_request *req, const char *fill, mig_on_null policy, char **result,
                        bool *changed, mig_error *err)
{
    const mig_engine *eng = req->eng;
    bool not_null = false;
    int rc = use_nulls_quarantine(req, err);
    if (rc != MIG_OK)
        return rc;
    rc = eng->columns->column_not_null(eng->handle, &req->table, req->column, &not_null, err);
    if (rc != MIG_OK)
        return rc;
    if (not_null) {
        *changed = false;
        *result = mig_printf("column %s of %s is already NOT NULL; nothing to do", req->column,
                             req->table.name);
        return *result ? MIG_OK : mig_fail_nomem(err);
    }
    bool done = false;
    rc = fill || !eng->columns->set_not_null_scans ? MIG_OK : try_set_not_null(req, &done, err);
    if (rc != MIG_OK || done) {
        *result =
            done ? mig_printf("column %s of %s is NOT NULL", req->column, req->table.name) : NULL;
        return rc != MIG_OK || *result ? rc : mig_fail_nomem(err);
    }
    long long before = 0, after = 0;
    rc = count_nulls(req, &before, err);
    if (rc == MIG_OK && fill && before > 0)
        rc = fill_nulls(req, fill, err);
    if (rc == MIG_OK)
        rc = fill && before > 0 ? count_nulls(req, &after, err) : (after = before, MIG_OK);
    if (rc != MIG_OK)
        return rc;
    long long moved = 0;
    if (after > 0 && policy == MIG_NULL_FAIL) {
        char *remedy = mig_printf("fill gives them a value, on_null 'quarantine' moves them to %s",
                                  req->table.quarantine_name);
        rc = remedy ? nulls_error(req, after, fill != NULL, remedy, err) : mig_fail_nomem(err);
        mig_free(remedy);
        return rc;
    }
    if (after > 0) {
        mig_buf where = {0};
        mig_buf_printf(&where, " WHERE %s IS NULL", req->quoted);
        char *text = mig_buf_take(&where);
        rc = text ? mig_quarantine_rows(eng, &req->table, req->function, "rows holding NULL", text,
                                        err)
                  : mig_fail_nomem(err);
        mig_free(text);
        if (rc != MIG_OK)
            return rc;
        moved = after;
    }
    rc = eng->columns->set_not_null(eng->handle, &req->table, req->column, err);
    if (rc != MIG_OK)
        return rc;
    mig_buf b = {0};
    mig_buf_printf(&b, "column %s of %s is NOT NULL", req->column, req->table.name);
    if (before - after > 0)
        mig_buf_printf(&b, "; filled %lld row%s", before - after, before - after == 1 ? "" : "s");
    if (moved > 0)
        mig_buf_printf(&b, "; moved %lld row%s to %s", moved, moved == 1 ? "" : "s",
                       req->table.quarantine_name);
    *result = mig_buf_take(&b);
    return *result ? MIG_OK : mig_fail_nomem(err);
}

/*
 * Run work inside the call's savepoint: kept on success, undone on failure. Drift is looked for
 * first, and the schema is recorded as operation's when work says it changed something.
 */
static int in_savepoint(const mig_engine *eng, int rc, mig_error *err,
                        int (*work)(void *arg, bool *changed, mig_error *err), void *arg,
                        const char *operation)
{
    if (rc == MIG_OK)
        rc = mig_drift_before_change(eng, err);
    if (rc != MIG_OK)
        return rc;
    rc = eng->savepoint(eng->handle, COLUMNS_SAVEPOINT, err);
    if (rc != MIG_OK)
        return rc;
    bool changed = true;
    rc = work(arg, &changed, err);
    if (rc == MIG_OK && changed)
        rc = mig_drift_after_change(eng, operation, err);
    if (rc == MIG_OK)
        rc = eng->release(eng->handle, COLUMNS_SAVEPOINT, err);
    else
        eng->rollback(eng->handle, COLUMNS_SAVEPOINT);
    return rc;
}

typedef struct not_null_job {
    column_request *req;
    const char *fill;
    mig_on_null policy;
    char **result;
} not_null_job;

static int not_null_work(void *arg, bool *changed, mig_error *err)
{
    not_null_job *job = arg;
    return set_not_null(job->req, job->fill, job->policy, job->result, changed, err);
}

/* migrate_set_not_null: everything in one savepoint, or nothing. */
int mig_set_not_null(const mig_engine *eng, const char *table, const char *column, const char *fill,
                     const char *on_null, char **result, mig_error *err)
{
    *result = NULL;
    mig_on_null policy;
    int rc = mig_columns_on_null(on_null, &policy, err);
    if (rc == MIG_OK && !column)
        rc = mig_fail(err, MIG_ERR_NULL, "migrate_set_not_null needs a column name");
    if (rc == MIG_OK && fill)
        rc = mig_columns_fill_check(fill, err);
    if (rc != MIG_OK)
        return rc;
    column_request req;
    rc = request_open(eng, "migrate_set_not_null", table, column, MIG_TABLE_CHANGE, &req, err);
    not_null_job job = {&req, fill, policy, result};
    rc = in_savepoint(eng, rc, err, not_null_work, &job, "set_not_null");
    if (rc != MIG_OK) {
        mig_free(*result);
        *result = NULL;
    }
    request_free(&req);
    return rc;
}

/* Run one statement built in b (taking its text) as a script; a failure says what was tried. */
static int run_step(const column_request *req, mig_buf *b, const char *what, mig_error *err)
{
    char *sql = mig_buf_take(b);
    if (!sql)
        return mig_fail_nomem(err);
    int rc = req->eng->exec_script(req->eng->handle, sql, strlen(sql), err);
    mig_free(sql);
    if (rc != MIG_OK && err->message) {
        char *why = err->message;
        err->message = mig_printf("could not %s column %s of %s: %s; nothing was changed", what,
                                  req->column, req->table.name, why);
        mig_free(why);
        err->offset = -1;
        err->position = -1;
    }
    return rc;
}

/*
 * The work of migrate_add_column inside its savepoint: the column is added nullable (with its
 * default, which rows inserted later take), every existing row gets fill's value (where that
 * is NULL, or without fill, the default's), and then it is made NOT NULL by the code
 * migrate_set_not_null uses.
 */
static int add_column(column_request *req, const char *type, const char *fill,
                      const char *default_sql, char **result, mig_error *err)
{
    const mig_engine *eng = req->eng;
    mig_buf b = {0};
    mig_buf_printf(&b, "ALTER TABLE %s ADD COLUMN %s %s", req->table.qualified, req->quoted, type);
    if (default_sql)
        mig_buf_printf(&b, " DEFAULT (%s)", default_sql);
    int rc = run_step(req, &b, "add", err);
    long long rows = 0, nulls = 0;
    if (rc == MIG_OK) {
        mig_buf_printf(&b, "SELECT count(*) FROM %s", req->table.qualified);
        rc = run_built(req, &b, on_count, &rows, err);
    }
    if (rc == MIG_OK && fill && rows > 0) { /* a row whose fill is NULL takes the default */
        mig_buf_printf(&b, "UPDATE %s SET %s = ", req->table.qualified, req->quoted);
        if (default_sql)
            mig_buf_printf(&b, "coalesce((\n%s\n), (%s))", fill, default_sql);
        else
            mig_buf_printf(&b, "(\n%s\n)", fill);
        rc = run_step(req, &b, "fill", err);
    }
    if (rc == MIG_OK)
        rc = count_nulls(req, &nulls, err);
    if (rc != MIG_OK)
        return rc;
    if (nulls > 0) {
        char *remedy = mig_printf("give fill (or default) a value for every row, or add the "
                                  "column nullable and then use migrate_set_not_null with on_null "
                                  "'quarantine' to move them to %s",
                                  req->table.quarantine_name);
        rc = remedy ? nulls_error(req, nulls, fill || default_sql, remedy, err)
                    : mig_fail_nomem(err);
        mig_free(remedy);
        return rc;
    }
    rc = eng->columns->set_not_null(eng->handle, &req->table, req->column, err);
    if (rc != MIG_OK)
        return rc;
    mig_buf_printf(&b, "added column %s %s NOT NULL to %s", req->column, type, req->table.name);
    if (rows > 0)
        mig_buf_printf(&b, "; %s %lld row%s", fill ? "filled" : "gave the default to", rows,
                       rows == 1 ? "" : "s");
    *result = mig_buf_take(&b);
    return *result ? MIG_OK : mig_fail_nomem(err);
}

typedef struct add_column_job {
    column_request *req;
    const char *type, *fill, *default_sql;
    char **result;
} add_column_job;

static int add_column_work(void *arg, bool *changed, mig_error *err)
{
    (void)changed; /* a column was added */
    add_column_job *job = arg;
    return add_column(job->req, job->type, job->fill, job->default_sql, job->result, err);
}

/* migrate_add_column: the arguments checked first, then everything in one savepoint. */
int mig_add_column(const mig_engine *eng, const char *table, const char *column, const char *type,
                   const char *fill, const char *default_sql, char **result, mig_error *err)
{
    *result = NULL;
    int rc = MIG_OK;
    if (!column)
        rc = mig_fail(err, MIG_ERR_NULL, "migrate_add_column needs a column name");
    else if (!type)
        rc = mig_fail(err, MIG_ERR_NULL, "migrate_add_column needs the column's type");
    if (rc == MIG_OK)
        rc = mig_columns_sql_check("type", type, err);
    if (rc == MIG_OK && fill)
        rc = mig_columns_fill_check(fill, err);
    if (rc == MIG_OK && default_sql)
        rc = mig_columns_sql_check("default", default_sql, err);
    if (rc != MIG_OK)
        return rc;
    column_request req;
    /* the column does not exist yet: the table alone is resolved, ADD COLUMN names a clash */
    rc = request_open(eng, "migrate_add_column", table, NULL, MIG_TABLE_CHANGE, &req, err);
    if (rc == MIG_OK) {
        req.column = mig_strdup(column);
        req.quoted = mig_quote_ident(column);
        if (!req.column || !req.quoted)
            rc = mig_fail_nomem(err);
    }
    if (rc == MIG_OK)
        rc = use_nulls_quarantine(&req, err);
    add_column_job job = {&req, type, fill, default_sql, result};
    rc = in_savepoint(eng, rc, err, add_column_work, &job, "add_column");
    if (rc != MIG_OK) {
        mig_free(*result);
        *result = NULL;
    }
    request_free(&req);
    return rc;
}

typedef struct rebuild_job {
    column_request *req;
    const char *create_sql;
    char **drop;
    int ndrop;
    char **result;
} rebuild_job;

static int rebuild_work(void *arg, bool *changed, mig_error *err)
{
    (void)changed; /* the table was created again */
    rebuild_job *job = arg;
    const mig_engine *eng = job->req->eng;
    return eng->columns->rebuild(eng->handle, &job->req->table, job->create_sql, job->drop,
                                 job->ndrop, job->result, err);
}

/* migrate_rebuild: refused where the engine alters tables in place; else one savepoint. */
int mig_rebuild(const mig_engine *eng, const char *table, const char *create_sql,
                const char *drop_columns, char **result, mig_error *err)
{
    *result = NULL;
    if (mig_engine_has_columns(eng) && !eng->columns->rebuild) {
        mig_fail(err, MIG_ERR_STATE,
                 "migrate_rebuild is not needed on this engine: ALTER TABLE changes a column's "
                 "type, NOT NULL, CHECK, collation and foreign keys in place, inside the "
                 "transaction; nothing was changed");
        mig_error_set_hint(err, "write the ALTER TABLE statements in the migration; "
                                "migrate_set_not_null makes a column NOT NULL without a long scan");
        strcpy(err->sqlstate, "0A000");
        return err->code;
    }
    if (!create_sql && mig_engine_has_columns(eng))
        return mig_fail(err, MIG_ERR_NULL, "migrate_rebuild needs the table's new definition");
    char **drop = NULL;
    int ndrop = 0, rc = MIG_OK;
    if (drop_columns)
        rc = mig_unique_columns("migrate_rebuild", drop_columns, &drop, &ndrop, err);
    if (rc != MIG_OK)
        return rc;
    column_request req;
    rc = request_open(eng, "migrate_rebuild", table, NULL, MIG_TABLE_CHANGE, &req, err);
    rebuild_job job = {&req, create_sql, drop, ndrop, result};
    rc = in_savepoint(eng, rc, err, rebuild_work, &job, "rebuild");
    if (rc != MIG_OK) {
        mig_free(*result);
        *result = NULL;
    }
    mig_unique_columns_free(drop, ndrop);
    request_free(&req);
    return rc;
}

/* Entries of after missing from before; both sorted by strcmp. */
size_t mig_columns_fresh(char *const *before, size_t nbefore, char *const *after, size_t nafter,
                         char **detail)
{
    mig_buf b = {0};
    size_t fresh = 0, i = 0;
    for (size_t j = 0; j < nafter; j++) {
        while (i < nbefore && strcmp(before[i], after[j]) < 0)
            i++;
        if (i < nbefore && strcmp(before[i], after[j]) == 0) {
            i++;
            continue;
        }
        if (++fresh <= 10)
            mig_buf_printf(&b, "%s%s", fresh > 1 ? "\n" : "", after[j]);
    }
    if (fresh > 10)
        mig_buf_printf(&b, "\n... and %zu more", fresh - 10);
    *detail = fresh ? mig_buf_take(&b) : (mig_buf_free(&b), NULL);
    return fresh;
}
