/*
 * The columns capability on SQLite: NOT NULL through ALTER TABLE ... ALTER COLUMN where the
 * library in use has it (3.53.0 and later, checked when the call runs), else through the
 * rebuild, which is SQLite's generalized ALTER TABLE procedure (lang_altertable.html, section
 * 7): create the new table under another name, copy the columns by name keeping rowids, drop
 * the old table, rename the new one, recreate the indexes and triggers, keep sqlite_sequence,
 * check the views and every foreign key. No cascade fires: outside a transaction the call's
 * savepoint switched enforcement off (sqlite_engine.c); inside the caller's, with enforcement
 * on, a table that another references is refused before anything is touched.
 */
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3

#include "sqlite_columns.h"
#include "sqlite_engine.h"

#include "../common/mig_alloc.h"
#include "../common/mig_buf.h"
#include "../common/mig_columns.h"
#include "../common/mig_ddl.h"
#include "../common/mig_unique.h"
#include "../common/mig_vec.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The first library whose ALTER TABLE can add NOT NULL to a column. */
#define ALTER_NOT_NULL_VERSION 3053000

/* A list of owned strings. */
typedef struct strings {
    char **items;
    size_t count, cap;
} strings;

static int strings_add(strings *s, const char *text)
{
    char *copy = mig_strdup(text ? text : "");
    if (!copy || mig_grow((void **)&s->items, &s->cap, s->count + 1, sizeof *s->items) != MIG_OK) {
        mig_free(copy);
        return MIG_NOMEM;
    }
    s->items[s->count++] = copy;
    return MIG_OK;
}

static void strings_free(strings *s)
{
    for (size_t i = 0; i < s->count; i++)
        mig_free(s->items[i]);
    mig_free(s->items);
    memset(s, 0, sizeof *s);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Run sql (from sqlite3_mprintf or mig_*, freed by the caller) with no result; refused once
 * SQLite rolled the call's transaction back (sqlite_engine_guard).
 */
static int exec(sqlite3 *db, const char *sql, mig_error *err)
{
    return sqlite_engine_exec(db, sql, err);
}

/* Run an sqlite3_mprintf'd statement and free it. */
static int exec_owned(sqlite3 *db, char *sql, mig_error *err)
{
    int rc = exec(db, sql, err);
    sqlite3_free(sql);
    return rc;
}

/* Collect the first column of every row of sql (from sqlite3_mprintf) bound to ?1 and ?2. */
static int collect(sqlite3 *db, char *sql, const char *p1, const char *p2, strings *out,
                   mig_error *err)
{
    sqlite3_stmt *st = sqlite_engine_prepare_owned(db, sql, err);
    if (!st)
        return err->code;
    if (p1)
        sqlite3_bind_text(st, 1, p1, -1, SQLITE_STATIC);
    if (p2)
        sqlite3_bind_text(st, 2, p2, -1, SQLITE_STATIC);
    int rc = MIG_OK, step;
    while (rc == MIG_OK && (step = sqlite3_step(st)) == SQLITE_ROW)
        if (strings_add(out, (const char *)sqlite3_column_text(st, 0)) != MIG_OK)
            rc = mig_fail_nomem(err);
    if (rc == MIG_OK && step != SQLITE_DONE)
        rc = sqlite_engine_error(db, err);
    sqlite3_finalize(st);
    return rc;
}

/* columns.column_not_null: the declared NOT NULL of pragma_table_info. */
static int sqlite_column_not_null(void *h, const mig_table_desc *t, const char *column,
                                  bool *not_null, mig_error *err)
{
    sqlite3 *db = ((sqlite_engine *)h)->db;
    sqlite3_stmt *st = sqlite_engine_prepare_owned(
        db,
        sqlite3_mprintf("SELECT \"notnull\" FROM pragma_table_info(?1, ?2) WHERE name = "
                        "?3 COLLATE NOCASE"),
        err);
    if (!st)
        return err->code;
    sqlite3_bind_text(st, 1, t->table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, t->schema, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, column, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    *not_null = step == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
    sqlite3_finalize(st);
    /* out of memory in the pragma is an error, not a column without NOT NULL */
    return step == SQLITE_ROW || step == SQLITE_DONE ? MIG_OK : sqlite_engine_error(db, err);
}

/* One column of pragma_table_xinfo: its name and whether it is generated (hidden 2 or 3). */
typedef struct column_info {
    char *name;
    int hidden;
    bool integer_pk; /* the table's only primary key column, declared INTEGER */
} column_info;

typedef struct table_info {
    column_info *cols;
    size_t count, cap;
    bool has_rowid;
    const char *rowid; /* a name of the rowid that no column takes, or NULL */
} table_info;

static void table_info_free(table_info *ti)
{
    for (size_t i = 0; i < ti->count; i++)
        mig_free(ti->cols[i].name);
    mig_free(ti->cols);
    memset(ti, 0, sizeof *ti);
}

/* The column of ti named name (any case), or NULL. */
static column_info *find_column(const table_info *ti, const char *name)
{
    for (size_t i = 0; i < ti->count; i++)
        if (strcasecmp(ti->cols[i].name, name) == 0)
            return &ti->cols[i];
    return NULL;
}

/* Read schema.table's columns, whether it has a rowid, and a free name for it. */
static int read_table(sqlite3 *db, const char *schema, const char *table, table_info *out,
                      mig_error *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = sqlite_engine_prepare_owned(
        db,
        sqlite3_mprintf("SELECT name, hidden, pk, upper(type) = 'INTEGER', "
                        "(SELECT count(*) FROM pragma_table_info(?1, ?2) WHERE pk > 0) "
                        "FROM pragma_table_xinfo(?1, ?2) ORDER BY cid"),
        err);
    if (!st)
        return err->code;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, schema, -1, SQLITE_STATIC);
    int rc = MIG_OK, step;
    while (rc == MIG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (mig_grow((void **)&out->cols, &out->cap, out->count + 1, sizeof *out->cols) != MIG_OK)
            rc = mig_fail_nomem(err);
        else {
            column_info *c = &out->cols[out->count];
            c->name = mig_strdup((const char *)sqlite3_column_text(st, 0));
            c->hidden = sqlite3_column_int(st, 1);
            c->integer_pk = sqlite3_column_int(st, 2) == 1 && sqlite3_column_int(st, 3) &&
                            sqlite3_column_int(st, 4) == 1;
            if (c->name)
                out->count++;
            else
                rc = mig_fail_nomem(err);
        }
    }
    /* an error of the pragma (out of memory) must not read as a table with fewer columns */
    if (rc == MIG_OK && step != SQLITE_DONE)
        rc = sqlite_engine_error(db, err);
    sqlite3_finalize(st);
    if (rc != MIG_OK)
        return rc;
    if (sqlite_engine_guard(db, err) != MIG_OK)
        return err->code;
    static const char *const aliases[] = {"rowid", "_rowid_", "oid"};
    for (size_t i = 0; !out->rowid && i < sizeof aliases / sizeof *aliases; i++)
        if (!find_column(out, aliases[i]))
            out->rowid = aliases[i];
    char *probe = out->rowid
                      ? sqlite3_mprintf("SELECT %s FROM \"%w\".\"%w\"", out->rowid, schema, table)
                      : NULL;
    sqlite3_stmt *p = NULL;
    if (out->rowid && !probe)
        return mig_fail_nomem(err);
    out->has_rowid = probe && sqlite3_prepare_v2(db, probe, -1, &p, NULL) == SQLITE_OK;
    sqlite3_finalize(p);
    sqlite3_free(probe);
    /* a WITHOUT ROWID table fails to prepare with an error; out of memory is not that */
    if (!out->has_rowid && out->rowid && sqlite3_errcode(db) == SQLITE_NOMEM)
        return sqlite_engine_error(db, err);
    for (size_t i = 0; !out->has_rowid && i < out->count; i++)
        out->cols[i].integer_pk = false;
    return MIG_OK;
}

/* Every foreign key violation of schema, as text, sorted. */
static int fk_violations(sqlite3 *db, const char *schema, strings *out, mig_error *err)
{
    sqlite3_stmt *st = sqlite_engine_prepare_owned(
        db, sqlite3_mprintf("PRAGMA \"%w\".foreign_key_check", schema), err);
    if (!st)
        return err->code;
    int rc = MIG_OK, step;
    while (rc == MIG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        char *one = mig_printf("table %s row %s references a missing row of %s (foreign key %d)",
                               (const char *)sqlite3_column_text(st, 0),
                               sqlite3_column_type(st, 1) == SQLITE_NULL
                                   ? "(without rowid)"
                                   : (const char *)sqlite3_column_text(st, 1),
                               (const char *)sqlite3_column_text(st, 2), sqlite3_column_int(st, 3));
        if (!one || strings_add(out, one) != MIG_OK)
            rc = mig_fail_nomem(err);
        mig_free(one);
    }
    if (rc == MIG_OK && step != SQLITE_DONE)
        rc = sqlite_engine_error(db, err);
    sqlite3_finalize(st);
    if (rc == MIG_OK && out->count)
        qsort(out->items, out->count, sizeof *out->items, compare_strings);
    return rc;
}

/* The views of every schema that do not prepare now, as "schema.view: why", sorted. */
static int broken_views(sqlite3 *db, strings *out, mig_error *err)
{
    strings schemas = {0}, views = {0};
    int rc = collect(db, sqlite3_mprintf("SELECT name FROM pragma_database_list ORDER BY seq"),
                     NULL, NULL, &schemas, err);
    for (size_t i = 0; rc == MIG_OK && i < schemas.count; i++)
        rc = collect(db,
                     sqlite3_mprintf("SELECT ?1 || char(31) || name FROM \"%w\".sqlite_schema "
                                     "WHERE type = 'view'",
                                     schemas.items[i]),
                     schemas.items[i], NULL, &views, err);
    strings_free(&schemas);
    for (size_t i = 0; rc == MIG_OK && i < views.count; i++) {
        char *sep = strchr(views.items[i], 31);
        if (!sep)
            continue;
        *sep = '\0';
        char *sql = sqlite3_mprintf("SELECT * FROM \"%w\".\"%w\" LIMIT 0", views.items[i], sep + 1);
        sqlite3_stmt *st = NULL;
        if (!sql)
            rc = mig_fail_nomem(err);
        else if (sqlite_engine_guard(db, err) != MIG_OK)
            rc = err->code;
        else if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK &&
                 sqlite3_errcode(db) == SQLITE_NOMEM) /* not the view's fault */
            rc = sqlite_engine_error(db, err);
        else if (!st) {
            char *why = mig_printf("view %s.%s: %s", views.items[i], sep + 1, sqlite3_errmsg(db));
            if (!why || strings_add(out, why) != MIG_OK)
                rc = mig_fail_nomem(err);
            mig_free(why);
        }
        sqlite3_finalize(st);
        sqlite3_free(sql);
    }
    strings_free(&views);
    if (rc == MIG_OK && out->count)
        qsort(out->items, out->count, sizeof *out->items, compare_strings);
    return rc;
}

/* The indexes and triggers to recreate: their SQL, indexes first, in creation order. */
static int dependents(sqlite3 *db, const mig_table_desc *t, strings *names, strings *sql,
                      mig_error *err)
{
    const char *query = "SELECT name, sql FROM \"%w\".sqlite_schema WHERE tbl_name = ?1 COLLATE "
                        "NOCASE AND type IN ('index', 'trigger') AND sql IS NOT NULL %s "
                        "ORDER BY type = 'trigger', rowid";
    for (int pass = 0; pass < 2; pass++) {
        bool temp = pass == 1;
        if (temp && strcmp(t->schema, "temp") == 0)
            break;
        sqlite3_stmt *st = sqlite_engine_prepare_owned(
            db,
            sqlite3_mprintf(query, temp ? "temp" : t->schema, temp ? "AND type = 'trigger'" : ""),
            err);
        if (!st)
            return err->code;
        sqlite3_bind_text(st, 1, t->table, -1, SQLITE_STATIC);
        int rc = MIG_OK, step;
        while (rc == MIG_OK && (step = sqlite3_step(st)) == SQLITE_ROW)
            if (strings_add(names, (const char *)sqlite3_column_text(st, 0)) != MIG_OK ||
                strings_add(sql, (const char *)sqlite3_column_text(st, 1)) != MIG_OK)
                rc = mig_fail_nomem(err);
        if (rc == MIG_OK && step != SQLITE_DONE) /* else an index would silently be lost */
            rc = sqlite_engine_error(db, err);
        sqlite3_finalize(st);
        if (rc != MIG_OK)
            return rc;
    }
    return MIG_OK;
}

/* The table's sqlite_sequence value, when it has one (*has). */
static int read_sequence(sqlite3 *db, const mig_table_desc *t, bool *has, sqlite3_int64 *seq,
                         mig_error *err)
{
    *has = false;
    sqlite3_stmt *st = NULL;
    char *sql =
        sqlite3_mprintf("SELECT seq FROM \"%w\".sqlite_sequence WHERE name = ?1", t->schema);
    if (!sql)
        return mig_fail_nomem(err);
    int rc = sqlite_engine_guard(db, err);
    /* no sqlite_sequence: no table of the schema has AUTOINCREMENT (SQLITE_ERROR); out of
     * memory or any other failure is an error */
    if (rc == MIG_OK && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, t->table, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            *has = true;
            *seq = sqlite3_column_int64(st, 0);
        } else if (step != SQLITE_DONE) {
            rc = sqlite_engine_error(db, err);
        }
    } else if (rc == MIG_OK && sqlite3_errcode(db) != SQLITE_ERROR) {
        rc = sqlite_engine_error(db, err);
    }
    sqlite3_finalize(st);
    sqlite3_free(sql);
    return rc;
}

/* Refuse to drop a column holding values unless the caller named it in may_drop. */
static int check_dropped(sqlite3 *db, const mig_table_desc *t, const table_info *old,
                         const table_info *new, char *const *may_drop, int nmay_drop,
                         mig_error *err)
{
    for (int i = 0; i < nmay_drop; i++) {
        const column_info *c = find_column(old, may_drop[i]);
        if (!c || find_column(new, may_drop[i]))
            return mig_fail(err, MIG_ERR_ARGUMENT,
                            "drop_columns names \"%s\", which is not a column of %s that the "
                            "new definition drops; nothing was changed",
                            may_drop[i], t->name);
    }
    for (size_t i = 0; i < old->count; i++) {
        const column_info *c = &old->cols[i];
        if (c->hidden != 0 || find_column(new, c->name))
            continue;
        bool allowed = false;
        for (int d = 0; d < nmay_drop && !allowed; d++)
            allowed = strcasecmp(may_drop[d], c->name) == 0;
        if (allowed)
            continue;
        sqlite3_stmt *st =
            sqlite_engine_prepare_owned(db,
                                        sqlite3_mprintf("SELECT count(*) FROM \"%w\".\"%w\" WHERE "
                                                        "\"%w\" IS NOT NULL",
                                                        t->schema, t->table, c->name),
                                        err);
        if (!st)
            return err->code;
        int step = sqlite3_step(st);
        sqlite3_int64 n = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_finalize(st);
        if (step != SQLITE_ROW)
            return sqlite_engine_error(db, err);
        if (n > 0) {
            mig_fail(err, MIG_ERR_CONFLICT,
                     "refusing to rebuild %s: the new definition drops column %s, which holds "
                     "values in %lld row%s; nothing was changed",
                     t->name, c->name, (long long)n, n == 1 ? "" : "s");
            mig_error_set_hint(err,
                               "name it in drop_columns to drop its values: migrate_rebuild("
                               "table, new_definition, '%s')",
                               c->name);
            return err->code;
        }
    }
    return MIG_OK;
}

/* INSERT INTO new SELECT FROM old, by column name, keeping rowids where both have them. */
static char *copy_statement(const mig_table_desc *t, const char *qnew, const table_info *old,
                            const table_info *new, long long *copied)
{
    mig_buf into = {0}, from = {0};
    int n = 0;
    bool alias_copied = false;
    for (size_t i = 0; i < new->count; i++) {
        const column_info *c = &new->cols[i];
        const column_info *o = find_column(old, c->name);
        if (c->hidden != 0 || !o || o->hidden == 1)
            continue;
        char *qc = mig_quote_ident(c->name), *qo = mig_quote_ident(o->name);
        mig_buf_printf(&into, "%s%s", n ? ", " : "", qc ? qc : "");
        mig_buf_printf(&from, "%s%s", n ? ", " : "", qo ? qo : "");
        mig_free(qc);
        mig_free(qo);
        alias_copied = alias_copied || c->integer_pk;
        n++;
    }
    *copied = n;
    if (old->has_rowid && new->has_rowid && !alias_copied &&new->rowid && old->rowid) {
        mig_buf_printf(&into, "%s%s", n ? ", " : "", new->rowid);
        mig_buf_printf(&from, "%s%s", n ? ", " : "", old->rowid);
        n++;
    }
    char *cols_into = mig_buf_take(&into), *cols_from = mig_buf_take(&from);
    char *sql = cols_into && cols_from && n ? mig_printf("INSERT INTO %s (%s) SELECT %s FROM %s",
                                                         qnew, cols_into, cols_from, t->qualified)
                                            : NULL;
    mig_free(cols_into);
    mig_free(cols_from);
    return sql;
}

/* Compare a list taken before with one taken now: an error naming what is new. */
static int refuse_fresh(const strings *before, const strings *after, const mig_table_desc *t,
                        const char *what, mig_error *err)
{
    char *detail = NULL;
    size_t fresh =
        mig_columns_fresh(before->items, before->count, after->items, after->count, &detail);
    if (!fresh)
        return MIG_OK;
    mig_fail(err, MIG_ERR_CONFLICT,
             "refusing to rebuild %s: it would leave %zu %s%s; nothing was changed", t->name, fresh,
             what, fresh == 1 ? "" : "s");
    mig_error_set_detail(err, detail);
    return err->code;
}

/* Everything one rebuild holds. */
typedef struct rebuild_state {
    sqlite3 *db;
    const mig_table_desc *t;
    table_info old, new;
    strings fk_before, fk_after, views_before, views_after, dep_names, dep_sql;
    char *tmp, *qtmp, *create;
} rebuild_state;

static void rebuild_state_free(rebuild_state *s)
{
    table_info_free(&s->old);
    table_info_free(&s->new);
    strings_free(&s->fk_before);
    strings_free(&s->fk_after);
    strings_free(&s->views_before);
    strings_free(&s->views_after);
    strings_free(&s->dep_names);
    strings_free(&s->dep_sql);
    mig_free(s->tmp);
    mig_free(s->qtmp);
    mig_free(s->create);
}

/* Create the new table under the temporary name, after checking what create_sql names. */
static int create_new(rebuild_state *s, const char *create_sql, mig_error *err)
{
    const mig_table_desc *t = s->t;
    s->tmp = mig_quarantine_table_name(t->table, "_migrate_new");
    char *qs = mig_quote_ident(t->schema), *qn = s->tmp ? mig_quote_ident(s->tmp) : NULL;
    s->qtmp = qs && qn ? mig_printf("%s.%s", qs, qn) : NULL;
    mig_free(qs);
    mig_free(qn);
    if (!s->qtmp)
        return mig_fail_nomem(err);
    char *named = NULL;
    int rc = mig_ddl_retarget(create_sql, s->qtmp, &s->create, &named, err);
    if (rc != MIG_OK)
        return rc;
    if (named && strcasecmp(named, t->table) != 0)
        rc = mig_fail(err, MIG_ERR_ARGUMENT,
                      "the new definition creates table \"%s\", not %s; nothing was changed", named,
                      t->name);
    mig_free(named);
    if (rc != MIG_OK)
        return rc;
    rc = exec(s->db, s->create, err);
    if (rc != MIG_OK) {
        char *why = err->message;
        err->message = mig_printf("the new definition of %s does not create a table: %s; "
                                  "nothing was changed",
                                  t->name, why ? why : "");
        mig_free(why);
    }
    return rc;
}

/* Rename the new table to the old name without touching what refers to either (legacy mode). */
static int rename_new(rebuild_state *s, mig_error *err)
{
    int legacy = 0, ignored;
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_LEGACY_ALTER_TABLE, -1, &legacy);
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_LEGACY_ALTER_TABLE, 1, &ignored);
    int rc = exec_owned(
        s->db, sqlite3_mprintf("ALTER TABLE %s RENAME TO \"%w\"", s->qtmp, s->t->table), err);
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_LEGACY_ALTER_TABLE, legacy, &ignored);
    return rc;
}

/* Put back the table's sqlite_sequence value when the new table counts one too. */
static int restore_sequence(rebuild_state *s, bool had, sqlite3_int64 seq, const char *create_sql,
                            mig_error *err)
{
    if (!had || !mig_ddl_has_word(create_sql, "AUTOINCREMENT"))
        return MIG_OK;
    const mig_table_desc *t = s->t;
    int rc = exec_owned(s->db,
                        sqlite3_mprintf("UPDATE \"%w\".sqlite_sequence SET seq = max(seq, %lld) "
                                        "WHERE name = '%q'",
                                        t->schema, (long long)seq, t->table),
                        err);
    if (rc == MIG_OK && sqlite3_changes(s->db) == 0)
        rc = exec_owned(s->db,
                        sqlite3_mprintf("INSERT INTO \"%w\".sqlite_sequence (name, seq) VALUES "
                                        "('%q', %lld)",
                                        t->schema, t->table, (long long)seq),
                        err);
    return rc;
}

/* Recreate each index and trigger; one the new definition breaks is refused by name. */
static int recreate_dependents(rebuild_state *s, mig_error *err)
{
    for (size_t i = 0; i < s->dep_sql.count; i++) {
        if (exec(s->db, s->dep_sql.items[i], err) == MIG_OK)
            continue;
        char *why = err->message;
        err->message = mig_printf("refusing to rebuild %s: the new definition breaks %s: %s; "
                                  "nothing was changed",
                                  s->t->name, s->dep_names.items[i], why ? why : "");
        mig_free(why);
        return err->code;
    }
    return MIG_OK;
}

/* The steps of the rebuild, in the order of SQLite's procedure. */
static int rebuild_steps(rebuild_state *s, const char *create_sql, char *const *may_drop,
                         int nmay_drop, char **result, mig_error *err)
{
    const mig_table_desc *t = s->t;
    bool had_seq = false;
    sqlite3_int64 seq = 0;
    long long columns = 0;
    int rc = fk_violations(s->db, t->schema, &s->fk_before, err);
    if (rc == MIG_OK)
        rc = broken_views(s->db, &s->views_before, err);
    if (rc == MIG_OK)
        rc = read_table(s->db, t->schema, t->table, &s->old, err);
    if (rc == MIG_OK)
        rc = dependents(s->db, t, &s->dep_names, &s->dep_sql, err);
    if (rc == MIG_OK)
        rc = read_sequence(s->db, t, &had_seq, &seq, err);
    if (rc == MIG_OK)
        rc = create_new(s, create_sql, err);
    if (rc == MIG_OK)
        rc = read_table(s->db, t->schema, s->tmp, &s->new, err);
    if (rc == MIG_OK)
        rc = check_dropped(s->db, t, &s->old, &s->new, may_drop, nmay_drop, err);
    char *copy = rc == MIG_OK ? copy_statement(t, s->qtmp, &s->old, &s->new, &columns) : NULL;
    if (rc == MIG_OK && !copy && columns > 0)
        rc = mig_fail_nomem(err);
    if (rc == MIG_OK && !copy)
        rc = mig_fail(err, MIG_ERR_ARGUMENT,
                      "refusing to rebuild %s: the new definition keeps none of its columns; "
                      "nothing was changed",
                      t->name);
    if (rc == MIG_OK && exec(s->db, copy, err) != MIG_OK) {
        char *why = err->message;
        err->message = mig_printf("refusing to rebuild %s: its rows do not fit the new "
                                  "definition: %s; nothing was changed",
                                  t->name, why ? why : "");
        mig_free(why);
        rc = err->code;
    }
    mig_free(copy);
    long long rows = rc == MIG_OK ? sqlite3_changes(s->db) : 0;
    if (rc == MIG_OK)
        rc = exec_owned(s->db, sqlite3_mprintf("DROP TABLE %s", t->qualified), err);
    if (rc == MIG_OK)
        rc = rename_new(s, err);
    if (rc == MIG_OK)
        rc = recreate_dependents(s, err);
    if (rc == MIG_OK)
        rc = restore_sequence(s, had_seq, seq, create_sql, err);
    if (rc == MIG_OK)
        rc = broken_views(s->db, &s->views_after, err);
    if (rc == MIG_OK)
        rc = refuse_fresh(&s->views_before, &s->views_after, t, "broken view", err);
    if (rc == MIG_OK)
        rc = fk_violations(s->db, t->schema, &s->fk_after, err);
    if (rc == MIG_OK)
        rc = refuse_fresh(&s->fk_before, &s->fk_after, t, "foreign key violation", err);
    if (rc == MIG_OK) {
        *result = mig_printf("rebuilt %s: copied %lld row%s, recreated %zu of its indexes and "
                             "triggers",
                             t->name, rows, rows == 1 ? "" : "s", s->dep_sql.count);
        if (!*result)
            rc = mig_fail_nomem(err);
    }
    return rc;
}

/*
 * Whether enforcement is on inside the caller's transaction with a table referencing t: then
 * dropping the old table would cascade to, or orphan, that table's rows.
 */
static int refuse_cascade(sqlite3 *db, const mig_table_desc *t, mig_error *err)
{
    int fk = 0;
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FKEY, -1, &fk);
    if (!fk || !t->referenced_by)
        return MIG_OK;
    mig_fail(err, MIG_ERR_STATE,
             "refusing to rebuild %s inside the caller's transaction: foreign keys are enforced "
             "and table %s references it, so dropping the old table would cascade to its rows "
             "or orphan them; nothing was changed",
             t->name, t->referenced_by);
    mig_error_set_hint(err, "call it outside a transaction (it then switches enforcement off for "
                            "the rebuild and checks every foreign key before it commits), or run "
                            "PRAGMA foreign_keys = OFF before BEGIN");
    return err->code;
}

/* columns.rebuild */
static int sqlite_rebuild(void *h, const mig_table_desc *t, const char *create_sql,
                          char *const *may_drop, int nmay_drop, char **result, mig_error *err)
{
    sqlite3 *db = ((sqlite_engine *)h)->db;
    int rc = refuse_cascade(db, t, err);
    if (rc == MIG_OK)
        rc = sqlite_engine_guard(db, err);
    if (rc != MIG_OK)
        return rc;
    /* enforcement on (a caller's transaction, no table references t): the copy's own foreign
     * keys are checked once, by foreign_key_check, and named there */
    int fk = 0, defer = 0, ignored;
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FKEY, -1, &fk);
    sqlite3_stmt *st = NULL;
    if (fk && sqlite3_prepare_v2(db, "PRAGMA defer_foreign_keys", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        defer = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (fk && !defer)
        sqlite3_exec(db, "PRAGMA defer_foreign_keys = ON", NULL, NULL, NULL);
    (void)ignored;
    rebuild_state s;
    memset(&s, 0, sizeof s);
    s.db = db;
    s.t = t;
    rc = rebuild_steps(&s, create_sql, may_drop, nmay_drop, result, err);
    if (fk && !defer)
        sqlite3_exec(db, "PRAGMA defer_foreign_keys = OFF", NULL, NULL, NULL);
    rebuild_state_free(&s);
    return rc;
}

/* The table's CREATE TABLE statement as stored. */
static int table_sql(sqlite3 *db, const mig_table_desc *t, char **sql, mig_error *err)
{
    strings found = {0};
    int rc = collect(db,
                     sqlite3_mprintf("SELECT sql FROM \"%w\".sqlite_schema WHERE type = 'table' "
                                     "AND name = ?1",
                                     t->schema),
                     t->table, NULL, &found, err);
    *sql = NULL;
    if (rc == MIG_OK && found.count == 1) {
        *sql = found.items[0];
        found.items[0] = NULL;
        found.count = 0;
    } else if (rc == MIG_OK) {
        rc = mig_fail(err, MIG_ERR_NO_TABLE, "table \"%s\" does not exist", t->name);
    }
    strings_free(&found);
    return rc;
}

/*
 * columns.set_not_null: ALTER COLUMN on a library that has it (the version of the library the
 * process runs, not the one the module was built against), else the rebuild with NOT NULL added
 * to the column's definition.
 */
static int sqlite_set_not_null(void *h, const mig_table_desc *t, const char *column, mig_error *err)
{
    sqlite3 *db = ((sqlite_engine *)h)->db;
    if (sqlite3_libversion_number() >= ALTER_NOT_NULL_VERSION)
        return exec_owned(db,
                          sqlite3_mprintf("ALTER TABLE %s ALTER COLUMN \"%w\" SET NOT NULL",
                                          t->qualified, column),
                          err);
    char *sql = NULL, *changed = NULL, *result = NULL;
    int rc = table_sql(db, t, &sql, err);
    if (rc == MIG_OK)
        rc = mig_ddl_add_not_null(sql, column, &changed, err);
    if (rc == MIG_OK)
        rc = sqlite_rebuild(h, t, changed, NULL, 0, &result, err);
    mig_free(sql);
    mig_free(changed);
    mig_free(result);
    return rc;
}

/* The columns capability (common/mig_engine_columns.h) on SQLite. */
const mig_engine_columns sqlite_columns = {
    .column_not_null = sqlite_column_not_null,
    .set_not_null = sqlite_set_not_null,
    .rebuild = sqlite_rebuild,
};
