/*
 * The finding for a constraint that rows break: two queries over the rows the engine's
 * condition selects, one counting them and one listing the identities of the first few in
 * order, each value cast to text so both engines hand it over alike.
 */
#include "mig_violation.h"

#include "mig_alloc.h"
#include "mig_unique.h"

#include <stdlib.h>
#include <string.h>

/* Free what a violation holds. */
void mig_violation_free(mig_violation *v)
{
    mig_free(v->what);
    mig_free(v->from);
    mig_free(v->where);
    for (int i = 0; i < v->nidentity; i++)
        mig_free(v->identity[i]);
    mig_free(v->identity);
    memset(v, 0, sizeof *v);
}

/* The count of the first row. */
static int on_count(void *ctx, int ncols, const char *const *values)
{
    if (ncols < 1 || !values[0])
        return MIG_ERR_STATE;
    *(long long *)ctx = strtoll(values[0], NULL, 10);
    return MIG_OK;
}

typedef struct shown_rows {
    mig_buf text;
    int n;
} shown_rows;

/* One row's identity, joined to the ones before. */
static int on_row(void *ctx, int ncols, const char *const *values)
{
    shown_rows *s = ctx;
    char *id = mig_unique_join_values(values, 0, ncols, true, false);
    if (!id)
        return MIG_NOMEM;
    mig_buf_printf(&s->text, "%s%s", s->n++ ? ", " : "", id);
    mig_free(id);
    return MIG_OK;
}

/* Run sql (taken from b) through the engine. */
static int run(const mig_engine *eng, mig_buf *b, mig_row_fn fn, void *ctx, mig_error *err)
{
    char *sql = mig_buf_take(b);
    if (!sql)
        return mig_fail_nomem(err);
    int rc = eng->query(eng->handle, sql, 0, NULL, fn, ctx, err);
    mig_free(sql);
    if (rc == MIG_NOMEM && !err->message)
        return mig_fail_nomem(err);
    if (rc != MIG_OK && !err->message)
        return mig_fail(err, MIG_ERR_STATE,
                        "migrate_check: an internal query returned rows of "
                        "an unexpected shape");
    return rc;
}

/*
 * Append an identity expression as the finding names it: without the table's alias, and
 * without the quotes of a quoted name that holds none, so both engines show "id" as id.
 */
static void put_shown_name(mig_buf *b, const char *expr)
{
    static const char alias[] = "migrate_t.";
    if (strncmp(expr, alias, sizeof alias - 1) == 0)
        expr += sizeof alias - 1;
    size_t n = strlen(expr);
    if (n > 2 && expr[0] == '"' && expr[n - 1] == '"' && !memchr(expr + 1, '"', n - 2))
        mig_buf_append(b, expr + 1, n - 2);
    else
        mig_buf_puts(b, expr);
}

/* Count the breaking rows and show the first few. */
int mig_violation_report(const mig_engine *eng, const mig_violation *v, mig_buf *out,
                         mig_error *err)
{
    mig_buf b = {0};
    mig_buf_printf(&b, "SELECT count(*) FROM %s AS migrate_t WHERE (%s)", v->from, v->where);
    long long count = 0;
    int rc = run(eng, &b, on_count, &count, err);
    if (rc != MIG_OK || count == 0)
        return rc;
    shown_rows rows = {{0}, 0};
    if (v->nidentity > 0) {
        mig_buf_puts(&b, "SELECT ");
        for (int i = 0; i < v->nidentity; i++)
            mig_buf_printf(&b, "%sCAST(%s AS TEXT)", i ? ", " : "", v->identity[i]);
        mig_buf_printf(&b, " FROM %s AS migrate_t WHERE (%s) ORDER BY ", v->from, v->where);
        for (int i = 0; i < v->nidentity; i++)
            mig_buf_printf(&b, "%s%s", i ? ", " : "", v->identity[i]);
        mig_buf_printf(&b, " LIMIT %d", MIG_VIOLATION_ROWS_SHOWN);
        rc = run(eng, &b, on_row, &rows, err);
    }
    if (rc == MIG_OK) {
        mig_buf_printf(out, "constraint: %s %s is broken by %lld row%s", v->kind, v->what, count,
                       count == 1 ? "" : "s");
        if (rows.n) {
            mig_buf_printf(out, ": %s%s (by ", rows.text.data, count > rows.n ? ", ..." : "");
            for (int i = 0; i < v->nidentity; i++) {
                mig_buf_puts(out, i ? ", " : "");
                put_shown_name(out, v->identity[i]);
            }
            mig_buf_puts(out, ")");
        }
        mig_buf_puts(out, "\n");
        if (rows.text.failed)
            rc = mig_fail_nomem(err);
    }
    mig_buf_free(&rows.text);
    return rc;
}
