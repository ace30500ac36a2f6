/*
 * The rehearse capability (common/mig_engine_rehearse.h) over one SQLite connection: what
 * migrate_check needs to run each migration in a savepoint of its own and to say what it did.
 * SQLite's findings come from the schema before and after a migration: a table gone (data
 * loss, counted in the state before), a table whose root page changed (a rebuild: the 12-step
 * ALTER, or a drop and create of the same name), a column gone, and foreign key violations that
 * were not there before (checked when the call switched enforcement off, as migrate_apply does).
 */
#include "sqlite_engine.h"
SQLITE_EXTENSION_INIT3

#include "../common/mig_alloc.h"
#include "../common/mig_buf.h"
#include "../common/mig_check.h"
#include "../common/mig_engine_rehearse.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STEP_SAVEPOINT "\"migrate_check_step\""

/* A table's name and its position in a look's tables. */
struct named {
    const char *name;
    size_t at;
};

/* The tables of main and their columns, as one look at the schema saw them. */
typedef struct schema_look {
    char **tables;
    long long *rootpages;
    size_t ntables;
    char **columns; /* "table" NUL "column": both halves, one allocation */
    size_t ncolumns;
    char **violations; /* foreign key violations, sorted; NULL when not checked */
    size_t nviolations;
    /* for lookups in O(log n): the tables' positions by name, the columns by pair */
    struct named *by_name;
    char **columns_sorted; /* borrowed from columns */
} schema_look;

/* What observe_before saw, and what observe_after found dropped, for count_losses. */
typedef struct rehearse_state {
    schema_look before;
    char **lost_tables; /* borrowed from before */
    size_t nlost_tables;
    char **lost_columns; /* borrowed from before */
    size_t nlost_columns;
} rehearse_state;

/* Run fixed SQL. */
static int exec_sql(sqlite3 *db, const char *sql, mig_error *err)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return err ? sqlite_engine_error(db, err) : MIG_ENGINE;
    return MIG_OK;
}

/* rehearse.step_open: a savepoint inside the call's. */
static int rehearse_step_open(void *h, mig_error *err)
{
    return exec_sql(((sqlite_engine *)h)->db, "SAVEPOINT " STEP_SAVEPOINT, err);
}

/* rehearse.step_keep: what the migration did stays for the ones after it. */
static int rehearse_step_keep(void *h, mig_error *err)
{
    return exec_sql(((sqlite_engine *)h)->db, "RELEASE " STEP_SAVEPOINT, err);
}

/* rehearse.step_undo */
static void rehearse_step_undo(void *h)
{
    exec_sql(((sqlite_engine *)h)->db, "ROLLBACK TO " STEP_SAVEPOINT "; RELEASE " STEP_SAVEPOINT,
             NULL);
}

/* rehearse.exec: the script as migrate_apply runs it, with rows changed from SQLite's counter. */
static int rehearse_exec(void *h, const char *sql, size_t len, long *statements, long long *rows,
                         mig_error *err)
{
    sqlite_engine *se = h;
    int completed = 0;
    sqlite3_int64 before = sqlite3_total_changes64(se->db);
    int rc = sqlite_engine_run_script(se, sql, len, &completed, err);
    *statements = completed;
    *rows = (long long)(sqlite3_total_changes64(se->db) - before);
    if (rc == MIG_ENGINE && (err->engine_code & 0xff) == SQLITE_LOCKED)
        mig_error_set_hint(err, "SQLite drops no table or index while the calling statement reads "
                                "the database, as SELECT * FROM migrate_check(...) does; a plain "
                                "SELECT migrate_check(...) rehearses this migration");
    return rc;
}

/* Append s (owned) to a growing list; false when memory ran out (s is freed). */
static bool push(char ***list, size_t *count, char *s)
{
    char **bigger = s ? mig_realloc(*list, (*count + 1) * sizeof **list) : NULL;
    if (!bigger) {
        mig_free(s);
        return false;
    }
    *list = bigger;
    (*list)[(*count)++] = s;
    return true;
}

/* A "table" NUL "column" pair in one allocation. */
static char *pair(const char *table, const char *column)
{
    size_t a = strlen(table), b = strlen(column);
    char *p = mig_malloc(a + b + 2);
    if (p) {
        memcpy(p, table, a + 1);
        memcpy(p + a + 1, column, b + 1);
    }
    return p;
}

/* Free what one look holds. */
static void look_free(schema_look *l)
{
    sqlite_engine_free_strings(l->tables, l->ntables);
    mig_free(l->rootpages);
    sqlite_engine_free_strings(l->columns, l->ncolumns);
    sqlite_engine_free_strings(l->violations, l->nviolations);
    mig_free(l->by_name);
    mig_free(l->columns_sorted);
    memset(l, 0, sizeof *l);
}

/* Order of two "table" NUL "column" pairs: by table, then column. */
static int compare_pairs(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    int c = strcmp(x, y);
    return c ? c : strcmp(x + strlen(x) + 1, y + strlen(y) + 1);
}

/* Order of two strings (foreign key violations). */
static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Order of two named positions, by name. */
static int compare_named(const void *a, const void *b)
{
    return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

/*
 * Sort what observe_after looks up, so that comparing two looks costs n log n rather than the
 * square of the schema's size (a look is taken before and after every migration).
 */
static int look_index(schema_look *l)
{
    l->by_name = mig_malloc((l->ntables ? l->ntables : 1) * sizeof *l->by_name);
    l->columns_sorted = mig_malloc((l->ncolumns ? l->ncolumns : 1) * sizeof *l->columns_sorted);
    if (!l->by_name || !l->columns_sorted)
        return MIG_NOMEM;
    for (size_t i = 0; i < l->ntables; i++)
        l->by_name[i] = (struct named){l->tables[i], i};
    qsort(l->by_name, l->ntables, sizeof *l->by_name, compare_named);
    if (l->ncolumns)
        memcpy(l->columns_sorted, l->columns, l->ncolumns * sizeof *l->columns);
    qsort(l->columns_sorted, l->ncolumns, sizeof *l->columns_sorted, compare_pairs);
    return MIG_OK;
}

/* Look at main's tables (ordinary ones: not SQLite's own, not virtual) and their columns. */
static int look(sqlite_engine *se, schema_look *out, mig_error *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = NULL;
    int rc = MIG_OK, step;
    if (sqlite3_prepare_v2(se->db,
                           "SELECT m.name, m.rootpage, p.name FROM \"main\".sqlite_schema m "
                           "JOIN pragma_table_info(m.name, 'main') p "
                           "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                           "AND m.sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY m.name, p.cid",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlite_engine_error(se->db, err);
    while (rc == MIG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *table = (const char *)sqlite3_column_text(st, 0);
        const char *column = (const char *)sqlite3_column_text(st, 2);
        if (!table || !column)
            continue;
        if (!out->ntables || strcmp(out->tables[out->ntables - 1], table) != 0) {
            long long *pages = mig_realloc(out->rootpages, (out->ntables + 1) * sizeof *pages);
            if (!pages)
                rc = mig_fail_nomem(err);
            else {
                out->rootpages = pages;
                pages[out->ntables] = sqlite3_column_int64(st, 1);
                if (!push(&out->tables, &out->ntables, mig_strdup(table)))
                    rc = mig_fail_nomem(err);
            }
        }
        if (rc == MIG_OK && !push(&out->columns, &out->ncolumns, pair(table, column)))
            rc = mig_fail_nomem(err);
    }
    if (rc == MIG_OK && step != SQLITE_DONE)
        rc = sqlite_engine_error(se->db, err);
    sqlite3_finalize(st);
    if (rc == MIG_OK && se->fk_restore) /* enforcement is off: violations would go unseen */
        rc = sqlite_engine_violations(se, &out->violations, &out->nviolations, err);
    if (rc == MIG_OK && look_index(out) != MIG_OK)
        rc = mig_fail_nomem(err);
    if (rc != MIG_OK)
        look_free(out);
    return rc;
}

/* Where the table of that name is in the look's tables, or -1. */
static long find_table(const schema_look *l, const char *name)
{
    size_t lo = 0, hi = l->ntables;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(l->by_name[mid].name, name);
        if (c == 0)
            return (long)l->by_name[mid].at;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Whether the look has the pair among its columns. */
static bool has_pair(const schema_look *l, const char *p)
{
    return l->ncolumns &&
           bsearch(&p, l->columns_sorted, l->ncolumns, sizeof *l->columns_sorted, compare_pairs);
}

/* Whether the violation was in the look's (sorted) list. */
static bool had_violation(const schema_look *l, const char *v)
{
    return l->nviolations &&
           bsearch(&v, l->violations, l->nviolations, sizeof *l->violations, compare_strings);
}

/* rehearse.observe_before */
static int rehearse_observe_before(void *h, void **state, mig_error *err)
{
    rehearse_state *s = mig_calloc(1, sizeof *s);
    if (!s)
        return mig_fail_nomem(err);
    int rc = look(h, &s->before, err);
    if (rc != MIG_OK) {
        mig_free(s);
        s = NULL;
    }
    *state = s;
    return rc;
}

/* rehearse.observe_after: compare the schema with the one before. */
static int rehearse_observe_after(void *h, void *state, mig_buf *out, bool *count_before,
                                  mig_error *err)
{
    rehearse_state *s = state;
    schema_look now;
    int rc = look(h, &now, err);
    if (rc != MIG_OK)
        return rc;
    const schema_look *b = &s->before;
    for (size_t i = 0; i < b->ntables; i++) {
        long at = find_table(&now, b->tables[i]);
        if (at < 0) {
            char **list = mig_realloc(s->lost_tables, (s->nlost_tables + 1) * sizeof *list);
            if (!list) {
                rc = mig_fail_nomem(err);
                break;
            }
            s->lost_tables = list;
            list[s->nlost_tables++] = b->tables[i];
        } else if (now.rootpages[at] != b->rootpages[i]) {
            mig_buf_printf(out,
                           "rebuild: table %s is rebuilt, every row copied (its root page "
                           "changed)\n",
                           b->tables[i]);
        }
    }
    for (size_t i = 0; rc == MIG_OK && i < b->ncolumns; i++) {
        const char *table = b->columns[i];
        if (find_table(&now, table) < 0 || has_pair(&now, b->columns[i]))
            continue;
        char **list = mig_realloc(s->lost_columns, (s->nlost_columns + 1) * sizeof *list);
        if (!list) {
            rc = mig_fail_nomem(err);
            break;
        }
        s->lost_columns = list;
        list[s->nlost_columns++] = b->columns[i];
    }
    size_t fresh = 0;
    for (size_t i = 0; rc == MIG_OK && i < now.nviolations; i++) {
        if (had_violation(b, now.violations[i]))
            continue;
        if (++fresh <= 5)
            mig_buf_printf(out, "foreign key: %s\n", now.violations[i]);
    }
    if (fresh > 5)
        mig_buf_printf(out, "foreign key: ... and %zu more violations\n", fresh - 5);
    if (fresh)
        mig_buf_printf(out, "foreign key: migrate_apply would fail on %zu new violation%s\n", fresh,
                       fresh == 1 ? "" : "s");
    look_free(&now);
    *count_before = rc == MIG_OK && (s->nlost_tables || s->nlost_columns);
    return rc;
}

/* One count of a query built from the names, as text. */
static int count_of(sqlite_engine *se, const char *fmt, const char *a, const char *b, long long *n,
                    mig_error *err)
{
    char *sql = b ? sqlite3_mprintf(fmt, a, b) : sqlite3_mprintf(fmt, a);
    if (!sql)
        return mig_fail_nomem(err);
    sqlite3_stmt *st = NULL;
    int rc = MIG_OK;
    if (sqlite3_prepare_v2(se->db, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        rc = sqlite_engine_error(se->db, err);
    else
        *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_free(sql);
    return rc;
}

/* rehearse.count_losses: in the state before the migration. */
static int rehearse_count_losses(void *h, void *state, mig_buf *out, mig_error *err)
{
    rehearse_state *s = state;
    int rc = MIG_OK;
    for (size_t i = 0; rc == MIG_OK && i < s->nlost_tables; i++) {
        long long n = 0;
        rc = count_of(h, "SELECT count(*) FROM \"main\".\"%w\"", s->lost_tables[i], NULL, &n, err);
        if (rc == MIG_OK)
            mig_buf_printf(out, "data loss: table %s dropped with %lld row%s\n", s->lost_tables[i],
                           n, n == 1 ? "" : "s");
    }
    for (size_t i = 0; rc == MIG_OK && i < s->nlost_columns; i++) {
        const char *table = s->lost_columns[i], *column = table + strlen(table) + 1;
        long long n = 0;
        rc = count_of(h, "SELECT count(\"%w\") FROM \"main\".\"%w\"", column, table, &n, err);
        if (rc == MIG_OK)
            mig_buf_printf(out, "data loss: column %s.%s dropped with %lld non-NULL value%s\n",
                           table, column, n, n == 1 ? "" : "s");
    }
    return rc;
}

/* rehearse.explain_failure: "UNIQUE constraint failed: t.a, t.b" names the table and columns. */
static int rehearse_explain_failure(void *h, const char *sql, size_t len, mig_error *failure,
                                    char **table, char **columns, mig_error *err)
{
    (void)h, (void)sql, (void)len;
    static const char prefix[] = "UNIQUE constraint failed: ";
    *table = *columns = NULL;
    if (!failure->message || (failure->engine_code & 0xff) != SQLITE_CONSTRAINT ||
        strncmp(failure->message, prefix, sizeof prefix - 1) != 0)
        return MIG_OK;
    const char *p = failure->message + sizeof prefix - 1;
    const char *dot = strchr(p, '.');
    if (!dot || strncmp(p, "index '", 7) == 0)
        return MIG_OK;
    *table = mig_strndup(p, (size_t)(dot - p));
    mig_buf cols = {0};
    while (p && *p) { /* t.a, t.b: each column after its table's name and a dot */
        const char *d = strchr(p, '.');
        if (!d)
            break;
        const char *end = strstr(d, ", ");
        size_t n = end ? (size_t)(end - d - 1) : strlen(d + 1);
        mig_buf_printf(&cols, "%s%.*s", cols.len ? ", " : "", (int)n, d + 1);
        p = end ? end + 2 : NULL;
    }
    *columns = mig_buf_take(&cols);
    if (!*table || !*columns) {
        mig_free(*table);
        mig_free(*columns);
        *table = *columns = NULL;
        return mig_fail_nomem(err);
    }
    return MIG_OK;
}

/* rehearse.is_constraint: a NOT NULL or a CHECK (foreign keys are findings of their own). */
static bool rehearse_is_constraint(void *h, const mig_error *failure)
{
    (void)h;
    return failure->message && (failure->engine_code == SQLITE_CONSTRAINT_NOTNULL ||
                                failure->engine_code == SQLITE_CONSTRAINT_CHECK);
}

/*
 * The table the statement at the start of stmt writes into: the first OpenWrite of its program
 * on a table of main (EXPLAIN, so no parsing of our own). Caller frees; NULL: none found.
 */
static char *written_table(sqlite3 *db, const char *stmt, size_t len)
{
    char *sql = sqlite3_mprintf("EXPLAIN %.*s", (int)len, stmt);
    sqlite3_stmt *st = NULL;
    char *table = NULL;
    if (sql && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        while (!table && sqlite3_step(st) == SQLITE_ROW) {
            const char *op = (const char *)sqlite3_column_text(st, 1);
            if (!op || strcmp(op, "OpenWrite") != 0 || sqlite3_column_int(st, 4) != 0)
                continue;
            sqlite3_stmt *q = NULL;
            if (sqlite3_prepare_v2(db,
                                   "SELECT name FROM \"main\".sqlite_schema "
                                   "WHERE type = 'table' AND rootpage = ?1",
                                   -1, &q, NULL) == SQLITE_OK) {
                sqlite3_bind_int64(q, 1, sqlite3_column_int64(st, 3));
                if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
                    table = mig_strdup((const char *)sqlite3_column_text(q, 0));
            }
            sqlite3_finalize(q);
        }
    }
    sqlite3_finalize(st);
    sqlite3_free(sql);
    return table;
}

/* The text in parentheses that starts at p, without them (quotes skipped); NULL: unbalanced. */
static char *in_parentheses(const char *p)
{
    if (*p != '(')
        return NULL;
    int depth = 0;
    char quote = 0;
    for (const char *q = p; *q; q++) {
        if (quote) {
            if (*q == quote)
                quote = 0;
        } else if (*q == '\'' || *q == '"' || *q == '`') {
            quote = *q;
        } else if (*q == '(') {
            depth++;
        } else if (*q == ')' && --depth == 0) {
            return mig_strndup(p + 1, (size_t)(q - p - 1));
        }
    }
    return NULL;
}

/* The expression of the CHECK named name in a CREATE TABLE statement; NULL: not found. */
static char *named_check(const char *create, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = create; (p = strcasestr(p, name)) != NULL; p += n) {
        const char *q = p + n;
        if (*q == '"' || *q == '\'' || *q == '`' || *q == ']')
            q++;
        while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
            q++;
        if (strncasecmp(q, "CHECK", 5) != 0)
            continue;
        q += 5;
        while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
            q++;
        return in_parentheses(q);
    }
    return NULL;
}

/* One text value of a query with one text parameter, or NULL. */
static char *text_of(sqlite3 *db, const char *sql, const char *param)
{
    sqlite3_stmt *st = NULL;
    char *value = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
            value = mig_strdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return value;
}

/* The primary key columns of table as identities over migrate_t, or the rowid. */
static int identity_of(sqlite3 *db, const char *table, mig_violation *out)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM pragma_table_info(?1, 'main') WHERE pk > 0 "
                           "ORDER BY pk",
                           -1, &st, NULL) != SQLITE_OK)
        return MIG_ENGINE;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    int rc = MIG_OK;
    while (rc == MIG_OK && sqlite3_step(st) == SQLITE_ROW) {
        char *id = sqlite3_mprintf("migrate_t.\"%w\"", (const char *)sqlite3_column_text(st, 0));
        char **list =
            id ? mig_realloc(out->identity, (size_t)(out->nidentity + 1) * sizeof *list) : NULL;
        char *copy = id ? mig_strdup(id) : NULL;
        sqlite3_free(id);
        if (!list || !copy) {
            mig_free(copy);
            rc = MIG_NOMEM;
            break;
        }
        out->identity = list;
        list[out->nidentity++] = copy;
    }
    sqlite3_finalize(st);
    if (rc == MIG_OK && out->nidentity == 0) {
        out->identity = mig_malloc(sizeof *out->identity);
        if (!out->identity || !(out->identity[0] = mig_strdup("migrate_t.rowid")))
            return MIG_NOMEM;
        out->nidentity = 1;
    }
    return rc;
}

/*
 * rehearse.constraint_rows: the table the failing statement writes into is renamed and a copy
 * without constraints (CREATE TABLE AS) takes its name, with its rows; the statement then runs
 * into the copy, where the rows that break the NOT NULL ("t.c" in the message) or the CHECK
 * (its expression in the message, or its name, looked up in the table's CREATE TABLE) are
 * counted. The core undoes all of it. SQLite renames no table under a statement that reads the
 * database (the table-valued form): no finding then.
 */
static int rehearse_constraint_rows(void *h, const char *stmt, size_t len, const mig_error *failure,
                                    mig_violation *out, mig_error *err)
{
    sqlite_engine *se = h;
    sqlite3 *db = se->db;
    static const char notnull[] = "NOT NULL constraint failed: ";
    static const char check[] = "CHECK constraint failed: ";
    const char *msg = failure->message;
    bool is_check = failure->engine_code == SQLITE_CONSTRAINT_CHECK;
    const char *prefix = is_check ? check : notnull;
    const char *what = strstr(msg, prefix);
    if (!what)
        return MIG_OK;
    what += strlen(prefix);
    char *table = written_table(db, stmt, len);
    if (!table)
        return MIG_OK;
    char *column = NULL, *expr = NULL;
    int rc = MIG_OK;
    if (is_check) {
        char *create = text_of(db,
                               "SELECT sql FROM \"main\".sqlite_schema WHERE type = 'table' "
                               "AND name = ?1",
                               table);
        expr = create ? named_check(create, what) : NULL;
        if (!expr && create && strstr(create, what)) /* unnamed: the message is the expression */
            expr = mig_strdup(what);
        mig_free(create);
    } else {
        const char *dot = strchr(what, '.');
        if (dot && strncmp(what, table, (size_t)(dot - what)) == 0 && table[dot - what] == '\0')
            column = mig_strdup(dot + 1);
    }
    if (is_check ? !expr : !column)
        goto done;
    rc = identity_of(db, table, out);
    if (rc != MIG_OK)
        goto done;
    char *swap = sqlite3_mprintf("ALTER TABLE \"main\".\"%w\" RENAME TO \"migrate_check_%w\"; "
                                 "CREATE TABLE \"main\".\"%w\" AS "
                                 "SELECT * FROM \"main\".\"migrate_check_%w\";",
                                 table, table, table, table);
    if (!swap) {
        rc = MIG_NOMEM;
        goto done;
    }
    int swapped = sqlite3_exec(db, swap, NULL, NULL, NULL);
    sqlite3_free(swap);
    sqlite3_stmt *st = NULL;
    if (swapped != SQLITE_OK || sqlite3_prepare_v2(db, stmt, (int)len, &st, NULL) != SQLITE_OK ||
        !st) {
        sqlite3_finalize(st);
        goto done;
    }
    while (sqlite3_step(st) == SQLITE_ROW)
        ;
    int stepped = sqlite3_finalize(st);
    if (stepped != SQLITE_OK)
        goto done;
    out->kind = is_check ? "CHECK" : "NOT NULL";
    char *from = sqlite3_mprintf("\"main\".\"%w\"", table);
    char *where = is_check ? sqlite3_mprintf("NOT (%s)", expr)
                           : sqlite3_mprintf("migrate_t.\"%w\" IS NULL", column);
    out->what =
        is_check ? mig_printf("%s (%s)", table, expr) : mig_printf("%s (%s)", table, column);
    out->from = from ? mig_strdup(from) : NULL;
    out->where = where ? mig_strdup(where) : NULL;
    sqlite3_free(from);
    sqlite3_free(where);
    if (!out->what || !out->from || !out->where)
        rc = MIG_NOMEM;
done:
    mig_free(table);
    mig_free(column);
    mig_free(expr);
    if (rc == MIG_NOMEM)
        return mig_fail_nomem(err);
    if (rc != MIG_OK || !out->where) {
        mig_violation_free(out);
        return rc == MIG_OK ? MIG_OK
                            : mig_fail(err, rc, "migrate_check: the schema cannot be read");
    }
    return MIG_OK;
}

/* rehearse.observe_free */
static void rehearse_observe_free(void *h, void *state)
{
    (void)h;
    rehearse_state *s = state;
    if (!s)
        return;
    look_free(&s->before);
    mig_free(s->lost_tables);
    mig_free(s->lost_columns);
    mig_free(s);
}

const mig_engine_rehearse sqlite_rehearse = {
    .begin = NULL, /* lock waits follow the connection's busy timeout */
    .step_open = rehearse_step_open,
    .step_keep = rehearse_step_keep,
    .step_undo = rehearse_step_undo,
    .exec = rehearse_exec,
    .observe_before = rehearse_observe_before,
    .observe_after = rehearse_observe_after,
    .count_losses = rehearse_count_losses,
    .explain_failure = rehearse_explain_failure,
    .is_constraint = rehearse_is_constraint,
    .constraint_rows = rehearse_constraint_rows,
    .observe_free = rehearse_observe_free,
    .note = NULL,
};
