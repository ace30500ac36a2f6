/*
 * The rehearse capability (common/mig_engine_rehearse.h) over one SQLite connection: what
 * migrate_check needs to run each migration in a savepoint of its own and to say what it did.
 * SQLite's findings come from the schema before and after a migration: a table gone (data
 * loss, counted in the state before), a table whose root page changed (a rebuild: the 12-step
 * ALTER, or a drop and create of the same name), a column gone, and foreign key violations that
 * were not there before (checked when the call switched enforcement off, as migrate_apply does).
 *
 * A look at the schema costs one read of sqlite_schema: a table's columns follow from its
 * CREATE TABLE text, so they are read (pragma_table_info) once per text the call meets and kept
 * for the call. The look after a migration that is kept is the look before the next one, so each
 * migration costs one read of sqlite_schema, whatever the size of the rest of the schema.
 */
#include "sqlite_engine.h"
SQLITE_EXTENSION_INIT3

#include "../common/mig_alloc.h"
#include "../common/mig_buf.h"
#include "../common/mig_check.h"
#include "../common/mig_engine_rehearse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STEP_SAVEPOINT "\"migrate_check_step\""

/* One CREATE TABLE text of a table and the columns it gives, kept for the call. */
typedef struct table_def {
    char *name;
    char *sql;
    size_t sql_len;
    char **columns; /* in the table's order */
    size_t ncolumns;
    uint64_t hash; /* of name and sql */
    struct table_def *next;
} table_def;

/* A table as one look saw it. */
typedef struct look_table {
    const table_def *def;
    long long rootpage;
} look_table;

/* The tables of main (by name) and the foreign key violations, as one look saw them. */
typedef struct schema_look {
    int refs;
    int cookie; /* the schema_version the look read */
    look_table *tables;
    size_t ntables;
    char **violations; /* foreign key violations, sorted; NULL when not checked */
    size_t nviolations;
} schema_look;

/*
 * What the call's rehearsal keeps from one migration to the next (sqlite_engine.rehearse): the
 * definitions met, and which look is true of the state now, as the step savepoints move it.
 */
struct sqlite_rehearse_cache {
    table_def **defs; /* a hash table of chains */
    size_t nbuckets, ndefs;
    schema_look *known;   /* true of the state now, or NULL: look again */
    schema_look *at_open; /* known when the step's savepoint opened: true again after its undo */
    schema_look *pending; /* observe_after's, inside the open step: true after its release */
    char *lost; /* the failure after which SQLite rolled back the whole transaction, or NULL */
};

/* What observe_before saw, and what observe_after found dropped, for count_losses. */
typedef struct rehearse_state {
    schema_look *before;
    const char **lost_tables; /* borrowed from the call's definitions */
    size_t nlost_tables;
    char **lost_columns; /* "table" NUL "column", owned */
    size_t nlost_columns;
} rehearse_state;

/* Drop a reference to a look. */
static void look_release(schema_look *l)
{
    if (!l || --l->refs > 0)
        return;
    mig_free(l->tables);
    sqlite_engine_free_strings(l->violations, l->nviolations);
    mig_free(l);
}

/* Take a reference to a look (or NULL). */
static schema_look *look_ref(schema_look *l)
{
    if (l)
        l->refs++;
    return l;
}

/* Set *slot to l, with a reference of its own. */
static void look_set(schema_look **slot, schema_look *l)
{
    schema_look *old = *slot;
    *slot = look_ref(l);
    look_release(old);
}

/* The call's cache, created on first use; NULL: no memory. */
static struct sqlite_rehearse_cache *cache_of(sqlite_engine *se)
{
    if (!se->rehearse)
        se->rehearse = mig_calloc(1, sizeof *se->rehearse);
    return se->rehearse;
}

/* Release what the call's rehearsal kept (sqlite_engine_free). */
void sqlite_rehearse_free(sqlite_engine *se)
{
    struct sqlite_rehearse_cache *c = se->rehearse;
    if (!c)
        return;
    for (size_t i = 0; i < c->nbuckets; i++) {
        for (table_def *d = c->defs[i], *next; d; d = next) {
            next = d->next;
            mig_free(d->name);
            mig_free(d->sql);
            sqlite_engine_free_strings(d->columns, d->ncolumns);
            mig_free(d);
        }
    }
    mig_free(c->defs);
    look_release(c->known);
    look_release(c->at_open);
    look_release(c->pending);
    mig_free(c->lost);
    mig_free(c);
    se->rehearse = NULL;
}

/* Run fixed SQL. */
static int exec_sql(sqlite3 *db, const char *sql, mig_error *err)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return err ? sqlite_engine_error(db, err) : MIG_ENGINE;
    return MIG_OK;
}

/*
 * rehearse.step_open: a savepoint inside the call's; what is known now is known after its undo.
 * The call's transaction is open here, unless SQLite rolled it back whole when a statement of
 * an earlier migration failed (an I/O error, a full disk, no memory): then the next savepoint
 * would start a transaction of its own and its RELEASE would commit the next migration for real,
 * so the rehearsal stops with an error.
 */
static int rehearse_step_open(void *h, mig_error *err)
{
    sqlite_engine *se = h;
    if (sqlite3_get_autocommit(se->db))
        return mig_fail(err, MIG_ENGINE,
                        "migrate_check stopped: SQLite rolled back the rehearsal's whole "
                        "transaction after %s; nothing of it was kept, run it again",
                        se->rehearse && se->rehearse->lost ? se->rehearse->lost
                                                           : "an error of an earlier migration");
    int rc = exec_sql(se->db, "SAVEPOINT " STEP_SAVEPOINT, err);
    if (se->rehearse) {
        look_set(&se->rehearse->at_open, rc == MIG_OK ? se->rehearse->known : NULL);
        look_set(&se->rehearse->pending, NULL);
    }
    return rc;
}

/* rehearse.step_keep: what the migration did stays for the ones after it. */
static int rehearse_step_keep(void *h, mig_error *err)
{
    sqlite_engine *se = h;
    int rc = exec_sql(se->db, "RELEASE " STEP_SAVEPOINT, err);
    if (se->rehearse) { /* the look taken inside the step, if any, is the state's now */
        look_set(&se->rehearse->known, rc == MIG_OK ? se->rehearse->pending : NULL);
        look_set(&se->rehearse->pending, NULL);
        look_set(&se->rehearse->at_open, NULL);
    }
    return rc;
}

/* rehearse.step_undo */
static void rehearse_step_undo(void *h)
{
    sqlite_engine *se = h;
    exec_sql(se->db, "ROLLBACK TO " STEP_SAVEPOINT "; RELEASE " STEP_SAVEPOINT, NULL);
    if (se->rehearse) {
        look_set(&se->rehearse->known, se->rehearse->at_open);
        look_set(&se->rehearse->pending, NULL);
        look_set(&se->rehearse->at_open, NULL);
    }
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
    /* the failure took the call's transaction with it: step_open says so at the next migration */
    if (rc != MIG_OK && sqlite3_get_autocommit(se->db) && cache_of(se) && !se->rehearse->lost)
        se->rehearse->lost = mig_strdup(err->message ? err->message : "an error");
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

/* Order of two strings (foreign key violations). */
static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Order of two tables of a look, by name (BINARY, as ORDER BY name). */
static int compare_tables(const void *a, const void *b)
{
    return strcmp(((const look_table *)a)->def->name, ((const look_table *)b)->def->name);
}

/* FNV-1a of name and sql. */
static uint64_t def_hash(const char *name, const char *sql, size_t sql_len)
{
    uint64_t h = 14695981039346656037u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    h = (h ^ 0) * 1099511628211u;
    for (size_t i = 0; i < sql_len; i++)
        h = (h ^ (unsigned char)sql[i]) * 1099511628211u;
    return h;
}

/* Double the hash table of definitions. */
static bool defs_grow(struct sqlite_rehearse_cache *c)
{
    size_t n = c->nbuckets ? c->nbuckets * 2 : 256;
    table_def **bigger = mig_calloc(n, sizeof *bigger);
    if (!bigger)
        return false;
    for (size_t i = 0; i < c->nbuckets; i++) {
        for (table_def *d = c->defs[i], *next; d; d = next) {
            next = d->next;
            d->next = bigger[d->hash & (n - 1)];
            bigger[d->hash & (n - 1)] = d;
        }
    }
    mig_free(c->defs);
    c->defs = bigger;
    c->nbuckets = n;
    return true;
}

/* The columns of table as pragma_table_info gives them now, in the table's order. */
static int read_columns(sqlite_engine *se, table_def *d, mig_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(se->db, "SELECT name FROM pragma_table_info(?1, 'main') ORDER BY cid",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlite_engine_error(se->db, err);
    sqlite3_bind_text(st, 1, d->name, -1, SQLITE_STATIC);
    int rc = MIG_OK, step;
    while (rc == MIG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *column = (const char *)sqlite3_column_text(st, 0);
        if (column && !push(&d->columns, &d->ncolumns, mig_strdup(column)))
            rc = mig_fail_nomem(err);
    }
    if (rc == MIG_OK && step != SQLITE_DONE)
        rc = sqlite_engine_error(se->db, err);
    sqlite3_finalize(st);
    return rc;
}

/*
 * The definition of the table name whose CREATE TABLE is sql, from the call's cache, or read
 * now (the table has that text now, so its columns are the text's).
 */
static int def_of(sqlite_engine *se, struct sqlite_rehearse_cache *c, const char *name,
                  const char *sql, size_t sql_len, const table_def **out, mig_error *err)
{
    uint64_t hash = def_hash(name, sql, sql_len);
    if (c->nbuckets) {
        for (const table_def *d = c->defs[hash & (c->nbuckets - 1)]; d; d = d->next) {
            if (d->hash == hash && strcmp(d->name, name) == 0 && d->sql_len == sql_len &&
                memcmp(d->sql, sql, sql_len) == 0) {
                *out = d;
                return MIG_OK;
            }
        }
    }
    if (c->ndefs >= c->nbuckets && !defs_grow(c))
        return mig_fail_nomem(err);
    table_def *d = mig_calloc(1, sizeof *d);
    if (!d)
        return mig_fail_nomem(err);
    d->name = mig_strdup(name);
    d->sql = mig_strndup(sql, sql_len);
    d->sql_len = sql_len;
    d->hash = hash;
    int rc = d->name && d->sql ? read_columns(se, d, err) : mig_fail_nomem(err);
    if (rc != MIG_OK) {
        mig_free(d->name);
        mig_free(d->sql);
        sqlite_engine_free_strings(d->columns, d->ncolumns);
        mig_free(d);
        return rc;
    }
    d->next = c->defs[hash & (c->nbuckets - 1)];
    c->defs[hash & (c->nbuckets - 1)] = d;
    c->ndefs++;
    *out = d;
    return MIG_OK;
}

/* The schema's version: it changes with every change of the schema. */
static int schema_cookie(sqlite_engine *se, int *cookie, mig_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = MIG_OK;
    if (sqlite3_prepare_v2(se->db, "PRAGMA main.schema_version", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        rc = sqlite_engine_error(se->db, err);
    else
        *cookie = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc;
}

/* The table of that name in the look, or NULL. */
static const look_table *find_table(const schema_look *l, const char *name)
{
    size_t lo = 0, hi = l->ntables;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(l->tables[mid].def->name, name);
        if (c == 0)
            return &l->tables[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/*
 * Look at main's tables (ordinary ones: not SQLite's own, not virtual) and their columns: one
 * read of sqlite_schema, the columns of a CREATE TABLE text not met before, and the foreign key
 * violations when the call switched enforcement off.
 */
static int look(sqlite_engine *se, int cookie, schema_look **out, mig_error *err)
{
    struct sqlite_rehearse_cache *c = cache_of(se);
    schema_look *l = c ? mig_calloc(1, sizeof *l) : NULL;
    *out = NULL;
    if (!l)
        return mig_fail_nomem(err);
    l->refs = 1;
    l->cookie = cookie;
    sqlite3_stmt *st = NULL;
    int rc = MIG_OK, step;
    if (sqlite3_prepare_v2(se->db,
                           "SELECT name, rootpage, sql FROM \"main\".sqlite_schema "
                           "WHERE type = 'table'",
                           -1, &st, NULL) != SQLITE_OK) {
        look_release(l);
        return sqlite_engine_error(se->db, err);
    }
    size_t cap = 0;
    while (rc == MIG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const char *sql = (const char *)sqlite3_column_text(st, 2);
        /* as name NOT LIKE 'sqlite\_%' AND sql NOT LIKE 'CREATE VIRTUAL%' */
        if (!name || !sql || strncasecmp(name, "sqlite_", 7) == 0 ||
            strncasecmp(sql, "CREATE VIRTUAL", 14) == 0)
            continue;
        if (l->ntables == cap) {
            cap = cap ? cap * 2 : 64;
            look_table *bigger = mig_realloc(l->tables, cap * sizeof *bigger);
            if (!bigger) {
                rc = mig_fail_nomem(err);
                break;
            }
            l->tables = bigger;
        }
        look_table *t = &l->tables[l->ntables];
        t->rootpage = sqlite3_column_int64(st, 1);
        size_t sql_len = (size_t)sqlite3_column_bytes(st, 2);
        /* most tables are as the last look saw them: no hashing of their text then */
        const look_table *was = c->known ? find_table(c->known, name) : NULL;
        if (was && was->def->sql_len == sql_len && memcmp(was->def->sql, sql, sql_len) == 0)
            t->def = was->def;
        else
            rc = def_of(se, c, name, sql, sql_len, &t->def, err);
        if (rc == MIG_OK && t->def->ncolumns) /* as the join with pragma_table_info did */
            l->ntables++;
    }
    if (rc == MIG_OK && step != SQLITE_DONE)
        rc = sqlite_engine_error(se->db, err);
    sqlite3_finalize(st);
    if (l->ntables)
        qsort(l->tables, l->ntables, sizeof *l->tables, compare_tables);
    if (rc == MIG_OK && se->fk_restore) /* enforcement is off: violations would go unseen */
        rc = sqlite_engine_violations(se, &l->violations, &l->nviolations, err);
    if (rc != MIG_OK) {
        look_release(l);
        return rc;
    }
    *out = l;
    return MIG_OK;
}

/* Whether the definition has a column of that name. */
static bool has_column(const table_def *d, const char *column)
{
    for (size_t i = 0; i < d->ncolumns; i++)
        if (strcmp(d->columns[i], column) == 0)
            return true;
    return false;
}

/* Whether the violation was in the look's (sorted) list. */
static bool had_violation(const schema_look *l, const char *v)
{
    return l->nviolations &&
           bsearch(&v, l->violations, l->nviolations, sizeof *l->violations, compare_strings);
}

/* rehearse.observe_before: the look true of the state now, or a new one. */
static int rehearse_observe_before(void *h, void **state, mig_error *err)
{
    sqlite_engine *se = h;
    *state = NULL;
    rehearse_state *s = mig_calloc(1, sizeof *s);
    struct sqlite_rehearse_cache *c = cache_of(se);
    if (!s || !c) {
        mig_free(s);
        return mig_fail_nomem(err);
    }
    int cookie = 0;
    int rc = schema_cookie(se, &cookie, err);
    if (rc == MIG_OK && c->known && c->known->cookie == cookie)
        s->before = look_ref(c->known);
    else if (rc == MIG_OK && (rc = look(se, cookie, &s->before, err)) == MIG_OK)
        look_set(&c->known, s->before);
    if (rc != MIG_OK) {
        mig_free(s);
        return rc;
    }
    *state = s;
    return MIG_OK;
}

/* rehearse.observe_after: compare the schema with the one before. */
static int rehearse_observe_after(void *h, void *state, mig_buf *out, bool *count_before,
                                  mig_error *err)
{
    sqlite_engine *se = h;
    rehearse_state *s = state;
    const schema_look *b = s->before;
    schema_look *now = NULL;
    int cookie = 0;
    int rc = schema_cookie(se, &cookie, err);
    if (rc != MIG_OK)
        return rc;
    if (cookie == b->cookie && !se->fk_restore)
        now = look_ref(s->before); /* no change of the schema, and no violations to read */
    else if ((rc = look(se, cookie, &now, err)) != MIG_OK)
        return rc;
    look_set(&se->rehearse->pending, now);
    for (size_t i = 0; rc == MIG_OK && i < b->ntables; i++) {
        const table_def *d = b->tables[i].def;
        const look_table *n = find_table(now, d->name);
        if (!n) {
            const char **list = mig_realloc(s->lost_tables, (s->nlost_tables + 1) * sizeof *list);
            if (!list) {
                rc = mig_fail_nomem(err);
                break;
            }
            s->lost_tables = list;
            list[s->nlost_tables++] = d->name;
        } else if (n->rootpage != b->tables[i].rootpage) {
            mig_buf_printf(out,
                           "rebuild: table %s is rebuilt, every row copied (its root page "
                           "changed)\n",
                           d->name);
        }
    }
    for (size_t i = 0; rc == MIG_OK && i < b->ntables; i++) {
        const table_def *d = b->tables[i].def;
        const look_table *n = find_table(now, d->name);
        if (!n || n->def == d) /* the same text: the same columns */
            continue;
        for (size_t j = 0; rc == MIG_OK && j < d->ncolumns; j++)
            if (!has_column(n->def, d->columns[j]) &&
                !push(&s->lost_columns, &s->nlost_columns, pair(d->name, d->columns[j])))
                rc = mig_fail_nomem(err);
    }
    size_t fresh = 0;
    for (size_t i = 0; rc == MIG_OK && i < now->nviolations; i++) {
        if (had_violation(b, now->violations[i]))
            continue;
        if (++fresh <= 5)
            mig_buf_printf(out, "foreign key: %s\n", now->violations[i]);
    }
    if (fresh > 5)
        mig_buf_printf(out, "foreign key: ... and %zu more violations\n", fresh - 5);
    if (fresh)
        mig_buf_printf(out, "foreign key: migrate_apply would fail on %zu new violation%s\n", fresh,
                       fresh == 1 ? "" : "s");
    look_release(now);
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
    look_release(s->before);
    mig_free(s->lost_tables);
    sqlite_engine_free_strings(s->lost_columns, s->nlost_columns);
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
