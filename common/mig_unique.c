/*
 * migrate_add_unique and migrate_duplicates: the SQL that finds duplicate keys, reports them,
 * and moves the extra rows of each group to <table>_duplicates, built here for both engines.
 * The engine resolves and locks the table, compares existing indexes and creates the index;
 * the index is tried first, and the duplicates are looked for only when it is refused.
 */
#include "mig_unique.h"

#include "mig_alloc.h"
#include "mig_buf.h"
#include "mig_columns.h"
#include "mig_drift.h"
#include "mig_engine_drift.h"
#include "mig_sha256.h"
#include "mig_vec.h"

#include <stdlib.h>
#include <string.h>

#define UNIQUE_SAVEPOINT "migrate_unique"
/* How many duplicate groups an error shows before pointing at migrate_duplicates. */
#define REPORT_GROUPS_SHOWN 5

/* Quote an identifier: double quotes, inner quotes doubled, as both engines read it. */
char *mig_quote_ident(const char *name)
{
    mig_buf b = {0};
    mig_buf_puts(&b, "\"");
    for (const char *p = name; *p; p++)
        mig_buf_puts(&b, *p == '"' ? "\"\"" : (char[2]){*p, '\0'});
    mig_buf_puts(&b, "\"");
    return mig_buf_take(&b);
}

static bool is_blank_char(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Where the item starting at start ends: the first ',' outside parentheses. Quotes count only
 * inside parentheses (an expression's string or name), so that a plain column name may hold
 * any character but ',' as before.
 */
static const char *item_end(const char *start)
{
    int depth = 0;
    for (const char *p = start; *p; p++) {
        if (depth > 0 && (*p == '\'' || *p == '"')) {
            char q = *p;
            for (p++; *p && !(*p == q && p[1] != q); p++)
                if (*p == q)
                    p++;
            if (!*p)
                return p;
        } else if (*p == '(') {
            depth++;
        } else if (*p == ')' && depth > 0) {
            depth--;
        } else if (*p == ',' && depth == 0) {
            return p;
        }
    }
    return start + strlen(start);
}

/* Whether a key of the list is an expression (it holds a parenthesis) rather than a name. */
bool mig_unique_is_expression(const char *key)
{
    return strchr(key, '(') != NULL;
}

/*
 * Split a comma-separated list of keys, trimming white space around each: column names, or
 * expressions (commas inside their parentheses are theirs).
 */
int mig_unique_columns(const char *function, const char *list, char ***names, int *count,
                       mig_error *err)
{
    *names = NULL;
    *count = 0;
    if (!list)
        return mig_fail(err, MIG_ERR_NULL, "%s needs a list of columns", function);
    int cap = 1;
    for (const char *p = list; *p; p++)
        cap += *p == ',';
    char **out = mig_calloc((size_t)cap, sizeof *out);
    if (!out)
        return mig_fail_nomem(err);
    int n = 0;
    const char *start = list;
    for (;;) {
        const char *end = item_end(start);
        const char *a = start, *b = end;
        while (a < b && is_blank_char(*a))
            a++;
        while (b > a && is_blank_char(b[-1]))
            b--;
        if (a == b) {
            mig_unique_columns_free(out, n);
            return mig_fail(err, MIG_ERR_ARGUMENT, "column list \"%s\" has an empty column name",
                            list);
        }
        if (!(out[n] = mig_strndup(a, (size_t)(b - a)))) {
            mig_unique_columns_free(out, n);
            return mig_fail_nomem(err);
        }
        for (int i = 0; i < n; i++)
            if (strcmp(out[i], out[n]) == 0) {
                mig_fail(err, MIG_ERR_ARGUMENT, "column list \"%s\" names column \"%s\" twice",
                         list, out[n]);
                mig_unique_columns_free(out, n + 1);
                return MIG_ERR_ARGUMENT;
            }
        n++;
        if (!*end)
            break;
        start = end + 1;
    }
    *names = out;
    *count = n;
    return MIG_OK;
}

void mig_unique_columns_free(char **names, int count)
{
    for (int i = 0; names && i < count; i++)
        mig_free(names[i]);
    mig_free(names);
}

/*
 * name (ending in suffix, taken) as it may be used: past 63 bytes, which PostgreSQL would cut
 * silently, a prefix plus a hash of the whole plus the suffix, so that names stay distinct.
 */
static char *fit_identifier(char *name, const char *suffix)
{
    if (!name || strlen(name) <= MIG_MAX_IDENTIFIER)
        return name;
    char hex[65];
    mig_sha256_hex(name, strlen(name), hex);
    size_t keep = MIG_MAX_IDENTIFIER - 1 - 8 - strlen(suffix); /* "_" + 8 hex + suffix */
    while (keep > 0 && ((unsigned char)name[keep] & 0xC0) == 0x80)
        keep--; /* never cut a UTF-8 character in two */
    char *shorter = mig_printf("%.*s_%.8s%s", (int)keep, name, hex, suffix);
    mig_free(name);
    return shorter;
}

/* <table>_<col>..._key, fitted to 63 bytes. */
char *mig_unique_index_name(const char *table, char *const *columns, int count)
{
    mig_buf b = {0};
    mig_buf_puts(&b, table);
    for (int i = 0; i < count; i++) {
        mig_buf_puts(&b, "_");
        mig_buf_puts(&b, columns[i]);
    }
    mig_buf_puts(&b, "_key");
    return fit_identifier(mig_buf_take(&b), "_key");
}

/* <table>_duplicates, fitted to 63 bytes. */
char *mig_unique_quarantine_name(const char *table)
{
    return mig_quarantine_table_name(table, "_duplicates");
}

/* <table><suffix>, fitted to 63 bytes. */
char *mig_quarantine_table_name(const char *table, const char *suffix)
{
    return fit_identifier(mig_printf("%s%s", table, suffix), suffix);
}

/* Parse the on_duplicate argument. */
int mig_unique_on_duplicate(const char *text, mig_on_duplicate *out, mig_error *err)
{
    if (!text || strcmp(text, "fail") == 0)
        *out = MIG_DUP_FAIL;
    else if (strcmp(text, "keep_first") == 0)
        *out = MIG_DUP_KEEP_FIRST;
    else if (strcmp(text, "keep_last") == 0)
        *out = MIG_DUP_KEEP_LAST;
    else if (strcmp(text, "merge") == 0)
        *out = MIG_DUP_MERGE;
    else {
        mig_fail(err, MIG_ERR_ARGUMENT,
                 "on_duplicate must be 'fail', 'keep_first', 'keep_last' or 'merge', not '%s'",
                 text);
        return err->code;
    }
    return MIG_OK;
}

/* Release what a table description holds. */
void mig_table_desc_free(mig_table_desc *t)
{
    mig_free(t->name);
    mig_free(t->schema);
    mig_free(t->table);
    mig_free(t->qualified);
    mig_free(t->quarantine);
    mig_free(t->quarantine_name);
    for (int i = 0; i < t->nidentity; i++)
        mig_free(t->identity[i]);
    mig_free(t->identity);
    mig_free(t->referenced_by);
    mig_unique_columns_free(t->columns, t->ncolumns);
    memset(t, 0, sizeof *t);
}

/* Release the foreign keys references listed. */
void mig_fk_refs_free(mig_fk_ref *refs, int count)
{
    for (int i = 0; refs && i < count; i++) {
        mig_free(refs[i].child);
        mig_free(refs[i].qualified);
        mig_unique_columns_free(refs[i].child_columns, refs[i].ncolumns);
        mig_unique_columns_free(refs[i].parent_columns, refs[i].ncolumns);
    }
    mig_free(refs);
}

/* Release a report. */
void mig_dup_report_free(mig_dup_report *report)
{
    for (size_t i = 0; i < report->count; i++) {
        mig_free(report->groups[i].key);
        mig_free(report->groups[i].shown);
        mig_free(report->groups[i].rows);
    }
    mig_free(report->groups);
    memset(report, 0, sizeof *report);
}

/* The parsed arguments and resolved table of one request. */
typedef struct unique_request {
    const mig_engine *eng;
    const char *function; /* migrate_add_unique or migrate_duplicates, for messages */
    char **columns;
    int ncolumns;
    char **quoted; /* the columns quoted; an expression as written */
    bool *expr;    /* which keys are expressions */
    mig_table_desc table;
} unique_request;

static void request_free(unique_request *req)
{
    mig_unique_columns_free(req->columns, req->ncolumns);
    mig_unique_columns_free(req->quoted, req->ncolumns);
    mig_free(req->expr);
    mig_table_desc_free(&req->table);
}

/* Parse the columns and resolve the table through the engine. */
static int request_open(const mig_engine *eng, const char *function, mig_table_access access,
                        const char *table, const char *columns, unique_request *req, mig_error *err)
{
    memset(req, 0, sizeof *req);
    req->eng = eng;
    req->function = function;
    if (!mig_engine_has_unique(eng))
        return mig_fail(err, MIG_ERR_STATE, "%s is not available on this engine", function);
    if (!table)
        return mig_fail(err, MIG_ERR_NULL, "%s needs a table name", function);
    int rc = mig_unique_columns(function, columns, &req->columns, &req->ncolumns, err);
    if (rc != MIG_OK)
        return rc;
    req->quoted = mig_calloc((size_t)req->ncolumns, sizeof *req->quoted);
    req->expr = mig_calloc((size_t)req->ncolumns, sizeof *req->expr);
    const char **plain = mig_calloc((size_t)req->ncolumns, sizeof *plain);
    if (!req->quoted || !req->expr || !plain) {
        mig_free(plain);
        return mig_fail_nomem(err);
    }
    int nplain = 0;
    for (int i = 0; rc == MIG_OK && i < req->ncolumns; i++) {
        req->expr[i] = mig_unique_is_expression(req->columns[i]);
        if (req->expr[i]) /* SQL of the caller's: one expression, nothing that ends it */
            rc = mig_columns_sql_check("the expression", req->columns[i], err);
        else
            plain[nplain++] = req->columns[i];
        if (rc == MIG_OK && !(req->quoted[i] = req->expr[i] ? mig_strdup(req->columns[i])
                                                            : mig_quote_ident(req->columns[i])))
            rc = mig_fail_nomem(err);
    }
    if (rc == MIG_OK) /* the table and the columns named; expressions are checked by use */
        rc = eng->unique->table_describe(eng->handle, table, access, plain, nplain, &req->table,
                                         err);
    mig_free(plain);
    if (rc == MIG_OK && req->table.own) /* its rows are the extension's, not data to clean */
        return mig_fail(err, MIG_PRIVILEGE,
                        "%s refuses table %s: it is one of migrate's own tables, which only "
                        "migrate itself changes; nothing was changed",
                        function, req->table.name);
    return rc;
}

/*
 * Append "a, b, c" built from the request's keys, each between prefix and suffix; a prefix
 * ending in '.' qualifies a column, and an expression (which reads the one table of its query)
 * goes without it.
 */
static void list_columns(mig_buf *b, const unique_request *req, const char *prefix,
                         const char *suffix)
{
    size_t len = strlen(prefix);
    bool qualifier = len > 0 && prefix[len - 1] == '.';
    for (int i = 0; i < req->ncolumns; i++)
        mig_buf_printf(b, "%s%s%s%s", i ? ", " : "", qualifier && req->expr[i] ? "" : prefix,
                       req->quoted[i], suffix);
}

/*
 * The keys as the columns of a subquery (as_alias: "key AS migrate_k<i>" where the key is an
 * expression, which the outer query could not name) or as the outer query names them.
 */
static void list_key_columns(mig_buf *b, const unique_request *req, bool as_alias,
                             const char *prefix, const char *suffix)
{
    for (int i = 0; i < req->ncolumns; i++) {
        mig_buf_printf(b, "%s%s", i ? ", " : "", prefix);
        if (!req->expr[i])
            mig_buf_puts(b, req->quoted[i]);
        else if (as_alias)
            mig_buf_printf(b, "%s AS migrate_k%d", req->quoted[i], i + 1);
        else
            mig_buf_printf(b, "migrate_k%d", i + 1);
        mig_buf_puts(b, suffix);
    }
}

/* WHERE clause keeping rows whose key has no NULL: NULLs are distinct to a unique index. */
static void where_key_not_null(mig_buf *b, const unique_request *req)
{
    for (int i = 0; i < req->ncolumns; i++)
        mig_buf_printf(b, "%s%s IS NOT NULL", i ? " AND " : " WHERE ", req->quoted[i]);
}

typedef struct report_state {
    mig_dup_report *report;
    int nkeys, nids;
    long long current; /* group number of the last group, -1 before any */
} report_state;

/* Append "'v'" with inner quotes doubled. */
static void quote_value(mig_buf *b, const char *v)
{
    mig_buf_puts(b, "'");
    for (const char *p = v; *p; p++)
        mig_buf_puts(b, *p == '\'' ? "''" : (char[2]){*p, '\0'});
    mig_buf_puts(b, "'");
}

/*
 * Join values[from .. from+n) into "a, b"; quoted, each value in quotes; parens, several
 * values in parentheses.
 */
char *mig_unique_join_values(const char *const *values, int from, int n, bool parens, bool quoted)
{
    mig_buf b = {0};
    if (parens && n > 1)
        mig_buf_puts(&b, "(");
    for (int i = 0; i < n; i++) {
        const char *v = values[from + i] ? values[from + i] : "NULL";
        if (i)
            mig_buf_puts(&b, ", ");
        if (quoted)
            quote_value(&b, v);
        else
            mig_buf_puts(&b, v);
    }
    if (parens && n > 1)
        mig_buf_puts(&b, ")");
    return mig_buf_take(&b);
}

/* One duplicate row: group, count, key values, identity values. */
static int on_duplicate_row(void *ctx, int ncols, const char *const *v)
{
    report_state *st = ctx;
    mig_dup_report *r = st->report;
    if (ncols != 2 + st->nkeys + st->nids || !v[0] || !v[1])
        return MIG_ERR_STATE;
    long long group = strtoll(v[0], NULL, 10);
    char *id = mig_unique_join_values(v, 2 + st->nkeys, st->nids, true, false);
    if (!id)
        return MIG_NOMEM;
    if (group != st->current) {
        if (mig_grow((void **)&r->groups, &r->cap, r->count + 1, sizeof *r->groups) != MIG_OK) {
            mig_free(id);
            return MIG_NOMEM;
        }
        mig_dup_group *g = &r->groups[r->count++];
        g->count = strtoll(v[1], NULL, 10);
        g->key = mig_unique_join_values(v, 2, st->nkeys, false, false);
        g->shown = mig_unique_join_values(v, 2, st->nkeys, true, true);
        g->rows = id;
        r->rows += g->count;
        st->current = group;
        return g->key && g->shown ? MIG_OK : MIG_NOMEM;
    }
    mig_dup_group *g = &r->groups[r->count - 1];
    char *rows = mig_printf("%s, %s", g->rows, id);
    mig_free(id);
    if (!rows)
        return MIG_NOMEM;
    mig_free(g->rows);
    g->rows = rows;
    return MIG_OK;
}

/*
 * Keep only rows of duplicate groups: the keys come from GROUP BY ... HAVING count(*) > 1,
 * which compares with the columns' collations exactly as the unique index will and costs one
 * sort, like building the index; both engines probe the few keys through an index of the IN
 * list. The table is aliased migrate_t.
 */
static void from_duplicate_rows(mig_buf *b, const unique_request *req)
{
    mig_buf_printf(b, " FROM %s AS migrate_t WHERE (", req->table.qualified);
    list_columns(b, req, "migrate_t.", "");
    mig_buf_puts(b, ") IN (SELECT ");
    list_columns(b, req, "", "");
    mig_buf_printf(b, " FROM %s", req->table.qualified);
    where_key_not_null(b, req);
    mig_buf_puts(b, " GROUP BY ");
    list_columns(b, req, "", "");
    mig_buf_puts(b, " HAVING count(*) > 1)");
}

/* Run one statement built in b (taking its text), handing each row to fn when not NULL. */
static int run_built(const unique_request *req, mig_buf *b, int nparams, const char *const *params,
                     mig_row_fn fn, void *ctx, mig_error *err)
{
    const mig_engine *eng = req->eng;
    char *sql = mig_buf_take(b);
    if (!sql)
        return mig_fail_nomem(err);
    int rc = eng->query(eng->handle, sql, nparams, params, fn, ctx, err);
    mig_free(sql);
    if (rc == MIG_NOMEM)
        return mig_fail_nomem(err);
    if (rc != MIG_OK && !err->message) /* a row callback refused a row it cannot read */
        return mig_fail(err, MIG_ERR_STATE,
                        "an internal query of %s returned rows of an unexpected shape; nothing "
                        "was changed",
                        req->function);
    return rc;
}

/* What an error or a quarantine needs to say: the counts and the first groups' keys. */
typedef struct dup_summary {
    mig_dup_group shown[REPORT_GROUPS_SHOWN]; /* key, shown and count; no rows */
    int nshown;
    size_t groups;
    long long rows;
} dup_summary;

static void dup_summary_free(dup_summary *s)
{
    for (int i = 0; i < s->nshown; i++) {
        mig_free(s->shown[i].key);
        mig_free(s->shown[i].shown);
    }
    memset(s, 0, sizeof *s);
}

/* One group of the summary query: key values, then the count. */
static int on_summary_row(void *ctx, int ncols, const char *const *v)
{
    dup_summary *s = ctx;
    int nkeys = ncols - 1;
    if (nkeys < 1 || !v[nkeys])
        return MIG_ERR_STATE;
    long long count = strtoll(v[nkeys], NULL, 10);
    s->groups++;
    s->rows += count;
    if (s->nshown == REPORT_GROUPS_SHOWN)
        return MIG_OK;
    mig_dup_group *g = &s->shown[s->nshown++];
    g->count = count;
    g->key = mig_unique_join_values(v, 0, nkeys, false, false);
    g->shown = mig_unique_join_values(v, 0, nkeys, true, true);
    return g->key && g->shown ? MIG_OK : MIG_NOMEM;
}

/*
 * Count the duplicate groups and their rows, keeping the first few keys: one sort of the key
 * columns, as the index build does, and no join back to the rows, so the error for 'fail'
 * costs about what building the index costs. The keys are sorted in a subquery so that the
 * groups are counted off the sorted rows: a key about to be made unique has nearly as many
 * groups as rows, where PostgreSQL's hash aggregation (chosen on its estimate of the HAVING)
 * spills to disk and is slower.
 */
static int summarize_duplicates(const unique_request *req, dup_summary *out, mig_error *err)
{
    memset(out, 0, sizeof *out);
    mig_buf b = {0};
    mig_buf_puts(&b, "SELECT ");
    list_key_columns(&b, req, false, "CAST(", " AS TEXT)");
    mig_buf_puts(&b, ", count(*) FROM (SELECT ");
    list_key_columns(&b, req, true, "", "");
    mig_buf_printf(&b, " FROM %s", req->table.qualified);
    where_key_not_null(&b, req);
    mig_buf_puts(&b, " ORDER BY ");
    list_columns(&b, req, "", "");
    mig_buf_puts(&b, ") AS migrate_keys GROUP BY ");
    list_key_columns(&b, req, false, "", "");
    mig_buf_puts(&b, " HAVING count(*) > 1 ORDER BY ");
    list_key_columns(&b, req, false, "", "");
    int rc = run_built(req, &b, 0, NULL, on_summary_row, out, err);
    if (rc != MIG_OK)
        dup_summary_free(out);
    return rc;
}

/* Find the groups, each with its rows' identities, ordered by key and identity. */
static int find_duplicates(const unique_request *req, mig_dup_report *out, mig_error *err)
{
    memset(out, 0, sizeof *out);
    const mig_table_desc *t = &req->table;
    mig_buf b = {0};
    mig_buf_puts(&b, "SELECT migrate_group, migrate_count");
    for (int i = 0; i < req->ncolumns; i++)
        mig_buf_printf(&b, ", CAST(migrate_key%d AS TEXT)", i + 1);
    for (int i = 0; i < t->nidentity; i++)
        mig_buf_printf(&b, ", CAST(migrate_id%d AS TEXT)", i + 1);
    mig_buf_puts(&b, " FROM (SELECT dense_rank() OVER (ORDER BY ");
    list_columns(&b, req, "migrate_t.", "");
    mig_buf_puts(&b, ") AS migrate_group, count(*) OVER (PARTITION BY ");
    list_columns(&b, req, "migrate_t.", "");
    mig_buf_puts(&b, ") AS migrate_count");
    for (int i = 0; i < req->ncolumns; i++)
        mig_buf_printf(&b, ", %s%s AS migrate_key%d", req->expr[i] ? "" : "migrate_t.",
                       req->quoted[i], i + 1);
    for (int i = 0; i < t->nidentity; i++)
        mig_buf_printf(&b, ", migrate_t.%s AS migrate_id%d", t->identity[i], i + 1);
    from_duplicate_rows(&b, req);
    /* qualified: PostgreSQL names the CAST output columns after their arguments */
    mig_buf_puts(&b, ") AS migrate_groups ORDER BY migrate_groups.migrate_group");
    for (int i = 0; i < t->nidentity; i++)
        mig_buf_printf(&b, ", migrate_groups.migrate_id%d", i + 1);
    report_state st = {out, req->ncolumns, t->nidentity, -1};
    int rc = run_built(req, &b, 0, NULL, on_duplicate_row, &st, err);
    if (rc != MIG_OK)
        mig_dup_report_free(out);
    return rc;
}

/* Append s as the body of an SQL string literal (quotes doubled). */
static void literal_body(mig_buf *b, const char *s)
{
    for (const char *p = s; *p; p++)
        mig_buf_puts(b, *p == '\'' ? "''" : (char[2]){*p, '\0'});
}

/* The error for data that breaks the constraint: counts, the first groups, where to look. */
static int duplicates_error(const unique_request *req, const dup_summary *report, mig_error *err)
{
    mig_buf cols = {0}, detail = {0}, hint = {0};
    for (int c = 0; c < req->ncolumns; c++)
        mig_buf_printf(&cols, "%s%s", c ? ", " : "", req->columns[c]);
    for (int i = 0; i < report->nshown; i++) {
        const mig_dup_group *g = &report->shown[i];
        mig_buf_printf(&detail, "%s%s%s%s %s appears %lld times", i ? "\n" : "",
                       req->ncolumns > 1 ? "(" : "", cols.data, req->ncolumns > 1 ? ")" : "",
                       g->shown, g->count);
    }
    if (report->groups > REPORT_GROUPS_SHOWN)
        mig_buf_printf(&detail, "\n... and %zu more groups", report->groups - REPORT_GROUPS_SHOWN);
    mig_buf_puts(&hint, "SELECT * FROM migrate_duplicates('");
    literal_body(&hint, req->table.name);
    mig_buf_puts(&hint, "', '");
    literal_body(&hint, cols.data ? cols.data : "");
    mig_buf_printf(&hint,
                   "') lists every group; on_duplicate 'keep_first' or 'keep_last' moves the "
                   "other rows of each group to %s",
                   req->table.quarantine_name);
    mig_fail(err, MIG_ERR_CONFLICT,
             "cannot make %s (%s) unique: %zu duplicate group%s, %lld rows; nothing was changed",
             req->table.name, cols.data ? cols.data : "", report->groups,
             report->groups == 1 ? "" : "s", report->rows);
    mig_error_set_detail(err, mig_buf_take(&detail));
    char *hint_text = mig_buf_take(&hint);
    mig_error_set_hint(err, "%s", hint_text ? hint_text : "");
    mig_free(hint_text);
    mig_buf_free(&cols);
    strcpy(err->sqlstate, MIG_SQLSTATE_UNIQUE_VIOLATION);
    return err->code;
}

/* The rows to move: all but the first (or last) of each duplicate group, by row identity. */
static void rows_to_move(mig_buf *b, const unique_request *req, bool keep_last)
{
    const mig_table_desc *t = &req->table;
    mig_buf_puts(b, " WHERE (");
    for (int i = 0; i < t->nidentity; i++)
        mig_buf_printf(b, "%s%s", i ? ", " : "", t->identity[i]);
    mig_buf_puts(b, ") IN (SELECT ");
    for (int i = 0; i < t->nidentity; i++)
        mig_buf_printf(b, "%smigrate_id%d", i ? ", " : "", i + 1);
    mig_buf_puts(b, " FROM (SELECT row_number() OVER (PARTITION BY ");
    list_columns(b, req, "migrate_t.", "");
    mig_buf_puts(b, " ORDER BY ");
    for (int i = 0; i < t->nidentity; i++)
        mig_buf_printf(b, "%smigrate_t.%s %s", i ? ", " : "", t->identity[i],
                       keep_last ? "DESC" : "ASC");
    mig_buf_puts(b, ") AS migrate_rank");
    for (int i = 0; i < t->nidentity; i++)
        mig_buf_printf(b, ", migrate_t.%s AS migrate_id%d", t->identity[i], i + 1);
    from_duplicate_rows(b, req);
    mig_buf_puts(b, ") AS migrate_ranked WHERE migrate_rank > 1)");
}

/* The quarantine's columns in order: every column of the table, then migrate_moved_at. */
static void list_quarantine_columns(mig_buf *b, const mig_table_desc *t, const char *prefix)
{
    for (int i = 0; i < t->ncolumns; i++) {
        char *q = mig_quote_ident(t->columns[i]);
        mig_buf_printf(b, "%s%s%s", i ? ", " : "", prefix, q ? q : "");
        mig_free(q);
    }
}

/*
 * Whether an existing quarantine table may be written into: only one that nobody else could
 * have prepared (same owner, no trigger, rule or policy, which would run with the caller's
 * rights) and whose columns are exactly the table's plus migrate_moved_at (the INSERT names
 * them, so their order does not matter).
 */
static int check_quarantine(const mig_engine *eng, const mig_table_desc *t, const char *what,
                            bool *exists, mig_error *err)
{
    const char *why = NULL;
    char **cols = NULL;
    int ncols = 0;
    int rc = eng->unique->quarantine_state(eng->handle, t, exists, &why, &cols, &ncols, err);
    if (rc != MIG_OK || !*exists)
        return rc;
    if (!why && ncols != t->ncolumns + 1)
        why = "its columns are not the columns of the table plus migrate_moved_at";
    for (int i = 0; !why && i < ncols; i++) {
        bool expected = strcmp(cols[i], "migrate_moved_at") == 0;
        for (int c = 0; !expected && c < t->ncolumns; c++)
            expected = strcmp(cols[i], t->columns[c]) == 0;
        if (!expected)
            why = "its columns are not the columns of the table plus migrate_moved_at";
    }
    mig_unique_columns_free(cols, ncols);
    if (why)
        return mig_fail(err, MIG_ERR_CONFLICT,
                        "refusing to move %s of %s into the existing table %s: %s; "
                        "nothing was changed",
                        what, t->name, t->quarantine_name, why);
    return MIG_OK;
}

/* Run one statement built in b (taking its text) for function, with no rows expected. */
static int run_plain(const mig_engine *eng, const char *function, mig_buf *b, int nparams,
                     const char *const *params, mig_error *err)
{
    unique_request req = {.eng = eng, .function = function};
    return run_built(&req, b, nparams, params, NULL, NULL, err);
}

/*
 * Move the rows of t that where selects to t->quarantine, then delete them from t. The
 * quarantine is created by this call, or is an existing one check_quarantine accepts.
 * repointed: every row that referenced the rows has been re-pointed (merge), so the delete
 * cannot cascade; otherwise a table that references t refuses it.
 */
static int quarantine_rows(const mig_engine *eng, const mig_table_desc *t, const char *function,
                           const char *what, const char *where, bool repointed, mig_error *err)
{
    if (t->referenced_by && !repointed) {
        mig_fail(err, MIG_ERR_STATE,
                 "refusing to delete %s of %s: table %s references it with a "
                 "foreign key, and deleting could cascade to its rows; nothing was changed",
                 what, t->name, t->referenced_by);
        if (strcmp(what, "duplicate rows") == 0)
            mig_error_set_hint(err, "on_duplicate 'merge' re-points the rows that reference the "
                                    "duplicates to the row kept, then moves the duplicates");
        return err->code;
    }
    bool exists = false;
    int rc = check_quarantine(eng, t, what, &exists, err);
    if (rc != MIG_OK)
        return rc;
    mig_buf b = {0};
    if (!exists && eng->unique->quarantine_create) {
        rc = eng->unique->quarantine_create(eng->handle, t, err);
        if (rc != MIG_OK)
            return rc;
    } else if (!exists) { /* a table created in between makes CREATE fail: never adopted */
        mig_buf_printf(&b, "CREATE TABLE %s AS SELECT ", t->quarantine);
        list_quarantine_columns(&b, t, "migrate_source.");
        mig_buf_printf(&b,
                       ", CAST(NULL AS %s) AS migrate_moved_at FROM %s AS migrate_source "
                       "WHERE 1 = 0",
                       eng->unique->timestamp_type, t->qualified);
        rc = run_plain(eng, function, &b, 0, NULL, err);
        if (rc != MIG_OK)
            return rc;
    }
    char *now = eng->now_utc(eng->handle);
    if (!now)
        return mig_fail_nomem(err);
    const char *params[1] = {now};
    mig_buf_printf(&b, "INSERT INTO %s (", t->quarantine);
    list_quarantine_columns(&b, t, "");
    mig_buf_puts(&b, ", migrate_moved_at) SELECT ");
    list_quarantine_columns(&b, t, "migrate_source.");
    mig_buf_printf(&b, ", $1 FROM %s AS migrate_source%s", t->qualified, where);
    rc = run_plain(eng, function, &b, 1, params, err);
    mig_free(now);
    if (rc != MIG_OK)
        return rc;
    mig_buf_printf(&b, "DELETE FROM %s%s", t->qualified, where);
    return run_plain(eng, function, &b, 0, NULL, err);
}

/* Move rows to the quarantine; refused when another table references t. */
int mig_quarantine_rows(const mig_engine *eng, const mig_table_desc *t, const char *function,
                        const char *what, const char *where, mig_error *err)
{
    return quarantine_rows(eng, t, function, what, where, false, err);
}

/* Move the extra rows of each group to <table>_duplicates (repointed: see quarantine_rows). */
static int quarantine_duplicates(const unique_request *req, bool keep_last, bool repointed,
                                 mig_error *err)
{
    mig_buf where = {0};
    rows_to_move(&where, req, keep_last);
    char *text = mig_buf_take(&where);
    if (!text)
        return mig_fail_nomem(err);
    int rc = quarantine_rows(req->eng, &req->table, req->function, "duplicate rows", text,
                             repointed, err);
    mig_free(text);
    return rc;
}

/*
 * The map from each row to move (all but the first of its group, as keep_first) to the row
 * kept, through the columns ref points at: a derived table migrate_map of migrate_old<i>
 * (the moved row's value) and migrate_new<i> (the kept row's).
 */
static void merge_map(mig_buf *b, const unique_request *req, const mig_fk_ref *ref)
{
    const mig_table_desc *t = &req->table;
    mig_buf_puts(b, "(SELECT * FROM (SELECT row_number() OVER (PARTITION BY ");
    list_columns(b, req, "migrate_t.", "");
    mig_buf_puts(b, " ORDER BY ");
    for (int i = 0; i < t->nidentity; i++)
        mig_buf_printf(b, "%smigrate_t.%s", i ? ", " : "", t->identity[i]);
    mig_buf_puts(b, ") AS migrate_rank");
    for (int c = 0; c < ref->ncolumns; c++) {
        mig_buf_printf(b,
                       ", migrate_t.%s AS migrate_old%d, first_value(migrate_t.%s) OVER "
                       "(PARTITION BY ",
                       ref->parent_columns[c], c + 1, ref->parent_columns[c]);
        list_columns(b, req, "migrate_t.", "");
        mig_buf_puts(b, " ORDER BY ");
        for (int i = 0; i < t->nidentity; i++)
            mig_buf_printf(b, "%smigrate_t.%s", i ? ", " : "", t->identity[i]);
        mig_buf_printf(b, ") AS migrate_new%d", c + 1);
    }
    from_duplicate_rows(b, req);
    mig_buf_puts(b, ") AS migrate_ranked WHERE migrate_rank > 1) AS migrate_map");
}

/* One count(*). */
static int on_count_row(void *ctx, int ncols, const char *const *v)
{
    if (ncols != 1 || !v[0])
        return MIG_ERR_STATE;
    *(long long *)ctx = strtoll(v[0], NULL, 10);
    return MIG_OK;
}

/* The join of ref's referencing table (aliased migrate_c) with the map: " WHERE ...". */
static void merge_join(mig_buf *b, const mig_fk_ref *ref)
{
    for (int c = 0; c < ref->ncolumns; c++)
        mig_buf_printf(b, "%smigrate_map.migrate_old%d = migrate_c.%s", c ? " AND " : " WHERE ",
                       c + 1, ref->child_columns[c]);
}

/*
 * Re-point the rows of ref's table that reference a row about to move to the row kept, adding
 * how many to *count: counted first, then one UPDATE ... FROM the map (both engines).
 */
static int repoint(const unique_request *req, const mig_fk_ref *ref, long long *count,
                   mig_error *err)
{
    mig_buf b = {0};
    mig_buf_printf(&b, "SELECT count(*) FROM %s AS migrate_c, ", ref->qualified);
    merge_map(&b, req, ref);
    merge_join(&b, ref);
    long long n = 0;
    int rc = run_built(req, &b, 0, NULL, on_count_row, &n, err);
    if (rc != MIG_OK || n == 0)
        return rc;
    mig_buf_printf(&b, "UPDATE %s AS migrate_c SET ", ref->qualified);
    for (int c = 0; c < ref->ncolumns; c++)
        mig_buf_printf(&b, "%s%s = migrate_map.migrate_new%d", c ? ", " : "", ref->child_columns[c],
                       c + 1);
    mig_buf_puts(&b, " FROM ");
    merge_map(&b, req, ref);
    merge_join(&b, ref);
    rc = run_built(req, &b, 0, NULL, NULL, NULL, err);
    if (rc == MIG_OK)
        *count += n;
    return rc;
}

/*
 * on_duplicate 'merge': every row of every table that references a row about to move is
 * re-pointed to the row kept, then the rows move as with keep_first. *summary (caller frees)
 * says how many rows of each referencing table were re-pointed.
 */
static int merge_duplicates(const unique_request *req, char **summary, mig_error *err)
{
    const mig_engine *eng = req->eng;
    *summary = NULL;
    if (!eng->unique->references)
        return mig_fail(err, MIG_ERR_STATE,
                        "on_duplicate 'merge' is not available on this engine; nothing was "
                        "changed");
    mig_fk_ref *refs = NULL;
    int nrefs = 0;
    int rc = eng->unique->references(eng->handle, &req->table, &refs, &nrefs, err);
    mig_buf b = {0};
    long long count = 0;
    for (int i = 0; rc == MIG_OK && i < nrefs; i++) {
        rc = repoint(req, &refs[i], &count, err);
        bool last = i + 1 == nrefs || strcmp(refs[i + 1].qualified, refs[i].qualified) != 0;
        if (rc == MIG_OK && last) { /* one count per referencing table */
            mig_buf_printf(&b, "%s%lld row%s of %s", b.len ? ", " : "", count,
                           count == 1 ? "" : "s", refs[i].child);
            count = 0;
        }
    }
    mig_fk_refs_free(refs, nrefs);
    if (rc == MIG_OK)
        rc = quarantine_duplicates(req, false, true, err);
    if (rc == MIG_OK && nrefs > 0 && !(*summary = mig_buf_take(&b)))
        rc = mig_fail_nomem(err);
    mig_buf_free(&b);
    return rc;
}

/*
 * The index was refused for duplicate keys, and err holds the engine's error: fail listing the
 * groups ('fail'), or move the extra rows aside and create the index (keep_first, keep_last).
 * The engine's error stands when the query finds no duplicates (the index saw what it did
 * not); the query reports into its own error, which replaces err only when the query fails.
 */
static int apply_duplicate_policy(const unique_request *req, const char *index,
                                  mig_on_duplicate policy, char **result, mig_error *err)
{
    const mig_engine *eng = req->eng;
    dup_summary report;
    mig_error query_err;
    mig_error_init(&query_err);
    int rc = summarize_duplicates(req, &report, &query_err);
    if (rc != MIG_OK) {
        mig_error_move(err, &query_err);
        return rc;
    }
    mig_error_clear(&query_err);
    if (report.groups == 0)
        rc = err->code;
    else if (policy == MIG_DUP_FAIL)
        rc = duplicates_error(req, &report, err);
    else {
        mig_error_clear(err);
        char *repointed = NULL;
        if (policy == MIG_DUP_MERGE)
            rc = merge_duplicates(req, &repointed, err);
        else
            rc = quarantine_duplicates(req, policy == MIG_DUP_KEEP_LAST, false, err);
        if (rc == MIG_OK)
            rc = eng->unique->unique_create(eng->handle, &req->table, index,
                                            (const char *const *)req->columns, req->expr,
                                            req->ncolumns, err);
        if (rc == MIG_OK)
            *result = mig_printf("moved %lld duplicate rows of %s to %s; %s%s%screated unique "
                                 "index %s",
                                 report.rows - (long long)report.groups, req->table.name,
                                 req->table.quarantine_name, repointed ? "re-pointed " : "",
                                 repointed ? repointed : "", repointed ? "; " : "", index);
        mig_free(repointed);
        if (rc == MIG_OK && !*result)
            rc = mig_fail_nomem(err);
    }
    dup_summary_free(&report);
    return rc;
}

/*
 * An index of the name that is not the unique index asked for: refused, naming what differs, with
 * the DROP to run first when a failed concurrent build left it invalid; then says what to do next.
 */
static int different_index_error(const unique_request *req, const char *index, const char *how,
                                 const char *then, mig_error *err)
{
    int rc = mig_fail(err, MIG_ERR_CONFLICT,
                      "an index named %s already exists and is not a unique index "
                      "on %s of these columns%s%s",
                      index, req->table.name, how ? ": " : "", how ? how : "");
    if (how && strstr(how, "not valid"))
        mig_error_set_hint(err, "DROP INDEX CONCURRENTLY %s; then %s", index, then);
    return rc;
}

/*
 * Give the table its unique index, inside the savepoint mig_add_unique opened: nothing to do
 * when an index already makes the columns unique, a refusal when the name is taken by another
 * index, else the index, created at once on clean data or after the duplicate policy.
 */
static int add_unique_index(const unique_request *req, const char *index, mig_on_duplicate policy,
                            char **result, bool *changed, mig_error *err)
{
    const mig_engine *eng = req->eng;
    *changed = false;
    const char *const *cols = (const char *const *)req->columns;
    int state = MIG_INDEX_ABSENT;
    char *how = NULL;
    int rc = eng->unique->index_state(eng->handle, &req->table, index, cols, req->expr,
                                      req->ncolumns, &state, &how, err);
    if (rc != MIG_OK)
        return rc;
    if (state == MIG_INDEX_SAME) {
        *result = mig_printf("unique index %s on %s already exists; nothing to do", index,
                             req->table.name);
        return *result ? MIG_OK : mig_fail_nomem(err);
    }
    if (state == MIG_INDEX_EQUIVALENT) {
        *result = mig_printf("unique index %s on %s already makes these columns unique; nothing "
                             "to do",
                             how, req->table.name);
        mig_free(how);
        return *result ? MIG_OK : mig_fail_nomem(err);
    }
    *changed = true;
    if (state == MIG_INDEX_DIFFERENT) {
        rc = different_index_error(req, index, how, "call again", err);
        mig_free(how);
        return rc;
    }
    rc = eng->unique->unique_create(eng->handle, &req->table, index, cols, req->expr, req->ncolumns,
                                    err);
    if (rc == MIG_OK) { /* the fast path: clean data */
        *result = mig_printf("created unique index %s on %s", index, req->table.name);
        return *result ? MIG_OK : mig_fail_nomem(err);
    }
    if (strcmp(err->sqlstate, MIG_SQLSTATE_UNIQUE_VIOLATION) != 0)
        return rc;
    return apply_duplicate_policy(req, index, policy, result, err);
}

/*
 * <table>_<keys>_key, an expression's key written as the words of its text: lower(email)
 * gives users_lower_email_key.
 */
static char *default_index_name(const char *table, const unique_request *req)
{
    char **words = mig_calloc((size_t)req->ncolumns, sizeof *words);
    bool ok = words != NULL;
    for (int i = 0; ok && i < req->ncolumns; i++) {
        if (!req->expr[i]) {
            ok = (words[i] = mig_strdup(req->columns[i])) != NULL;
            continue;
        }
        mig_buf b = {0};
        bool gap = false;
        for (const char *p = req->columns[i]; *p; p++) {
            bool word = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                        (*p >= '0' && *p <= '9') || *p == '_' || (unsigned char)*p >= 0x80;
            if (word && gap && b.len)
                mig_buf_puts(&b, "_");
            if (word)
                mig_buf_append(&b, p, 1);
            gap = !word;
        }
        ok = (words[i] = mig_buf_take(&b)) != NULL;
    }
    char *name = ok ? mig_unique_index_name(table, words, req->ncolumns) : NULL;
    mig_unique_columns_free(words, req->ncolumns);
    return name;
}

/* migrate_add_unique: everything it does happens in one savepoint, or not at all. */
int mig_add_unique(const mig_engine *eng, const char *table, const char *columns,
                   const char *index_name, const char *on_duplicate, char **result, mig_error *err)
{
    *result = NULL;
    mig_on_duplicate policy;
    int rc = mig_unique_on_duplicate(on_duplicate, &policy, err);
    if (rc != MIG_OK)
        return rc;
    unique_request req;
    rc = request_open(eng, "migrate_add_unique", MIG_TABLE_CHANGE, table, columns, &req, err);
    char *index = NULL;
    if (rc == MIG_OK) {
        index = index_name ? mig_strdup(index_name) : default_index_name(table, &req);
        if (!index)
            rc = mig_fail_nomem(err);
    }
    if (rc == MIG_OK) /* a change by hand before it is drift, not this call's doing */
        rc = mig_drift_before_change(eng, err);
    if (rc == MIG_OK)
        rc = eng->savepoint(eng->handle, UNIQUE_SAVEPOINT, err);
    if (rc == MIG_OK) {
        bool changed = false;
        rc = add_unique_index(&req, index, policy, result, &changed, err);
        /* the new index is migrate's doing, not drift; a call that changed nothing records
         * nothing, so running it again leaves the database as one run does */
        if (rc == MIG_OK && changed)
            rc = mig_drift_after_change(eng, "add_unique", err);
        if (rc == MIG_OK)
            rc = eng->release(eng->handle, UNIQUE_SAVEPOINT, err);
        else
            eng->rollback(eng->handle, UNIQUE_SAVEPOINT);
    }
    if (rc != MIG_OK) {
        mig_free(*result);
        *result = NULL;
    }
    mig_free(index);
    request_free(&req);
    return rc;
}

/*
 * migrate_add_unique_script's checks and steps: what add_unique_index checks, then the
 * duplicates, which fail with the report of 'fail'; nothing is built, so no savepoint.
 */
static int unique_steps(const unique_request *req, const char *table, const char *columns,
                        const char *index, char ***steps, int *nsteps, mig_error *err)
{
    const mig_engine *eng = req->eng;
    const char *const *cols = (const char *const *)req->columns;
    int state = MIG_INDEX_ABSENT;
    char *how = NULL;
    int rc = eng->unique->index_state(eng->handle, &req->table, index, cols, req->expr,
                                      req->ncolumns, &state, &how, err);
    if (rc != MIG_OK || state == MIG_INDEX_SAME || state == MIG_INDEX_EQUIVALENT) {
        mig_free(how); /* already unique: no step */
        return rc;
    }
    if (state == MIG_INDEX_DIFFERENT) {
        rc = different_index_error(req, index, how, "run the steps again", err);
        mig_free(how);
        return rc;
    }
    dup_summary report;
    rc = summarize_duplicates(req, &report, err);
    if (rc == MIG_OK && report.groups > 0)
        rc = duplicates_error(req, &report, err);
    dup_summary_free(&report);
    if (rc != MIG_OK)
        return rc;
    char *check = eng->unique->script_call(eng->handle, table, columns, index);
    if (!check)
        return mig_fail_nomem(err);
    rc = eng->unique->concurrent_steps(eng->handle, &req->table, check, index, cols, req->expr,
                                       req->ncolumns, steps, nsteps, err);
    mig_free(check);
    return rc;
}

/* migrate_add_unique_script: refused where the engine has no build that lets writes go on. */
int mig_add_unique_steps(const mig_engine *eng, const char *table, const char *columns,
                         const char *index_name, char ***steps, int *nsteps, mig_error *err)
{
    *steps = NULL;
    *nsteps = 0;
    if (mig_engine_has_unique(eng) && (!eng->unique->concurrent_steps || !eng->unique->script_call))
        return mig_fail(err, MIG_ERR_STATE,
                        "migrate_add_unique_script is not available on this engine: it has no "
                        "index build that lets writes go on; migrate_add_unique builds the index "
                        "in the call's transaction");
    unique_request req;
    int rc =
        request_open(eng, "migrate_add_unique_script", MIG_TABLE_STEPS, table, columns, &req, err);
    char *index = NULL;
    if (rc == MIG_OK) {
        index = index_name ? mig_strdup(index_name) : default_index_name(table, &req);
        if (!index)
            rc = mig_fail_nomem(err);
    }
    if (rc == MIG_OK)
        rc = unique_steps(&req, table, columns, index, steps, nsteps, err);
    if (rc != MIG_OK) {
        mig_unique_columns_free(*steps, *nsteps);
        *steps = NULL;
        *nsteps = 0;
    }
    mig_free(index);
    request_free(&req);
    return rc;
}

/* migrate_duplicates: the groups a unique index on columns would reject. */
int mig_duplicates(const mig_engine *eng, const char *table, const char *columns,
                   mig_dup_report *out, mig_error *err)
{
    memset(out, 0, sizeof *out);
    unique_request req;
    int rc = request_open(eng, "migrate_duplicates", MIG_TABLE_READ, table, columns, &req, err);
    if (rc == MIG_OK)
        rc = find_duplicates(&req, out, err);
    request_free(&req);
    return rc;
}
