/*
 * Catalog work for migrate_add_unique on SQLite. A unique index is all SQLite needs to enforce
 * (and to let a foreign key reference) uniqueness, so the table is never rebuilt and no
 * trigger or cascade fires.
 */
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3

#include "sqlite_engine.h"
#include "sqlite_unique.h"

#include "../common/mig_alloc.h"
#include "../common/mig_buf.h"
#include "../common/mig_unique.h"

#include <string.h>
#include <strings.h>
#include <unistd.h>

/* The schema holding table, searched as SQLite resolves names: temp, main, then attached. */
static int find_schema(sqlite3 *db, const char *table, char **schema, char **stored, mig_error *err)
{
    sqlite3_stmt *list = sqlite_engine_prepare_owned(
        db, sqlite3_mprintf("SELECT name FROM pragma_database_list ORDER BY seq = 1 DESC, seq"),
        err);
    if (!list)
        return err->code;
    *schema = *stored = NULL;
    /*
     * Every step and copy is checked: out of memory, a name read as NULL or a copy that failed
     * must fail the call, not leave one name without the other nor pass for a missing table.
     */
    int step = SQLITE_DONE;
    while (!*schema && (step = sqlite3_step(list)) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(list, 0);
        if (!s) {
            mig_fail_nomem(err);
            break;
        }
        sqlite3_stmt *q = sqlite_engine_prepare_owned(
            db,
            sqlite3_mprintf("SELECT name FROM \"%w\".sqlite_schema WHERE type = 'table' AND "
                            "name = ?1 COLLATE NOCASE",
                            s),
            err);
        if (!q)
            break;
        sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
        int found = sqlite3_step(q);
        if (found == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(q, 0);
            *schema = mig_strdup(s);
            *stored = name ? mig_strdup(name) : NULL;
            if (!*schema || !*stored) {
                mig_free(*schema);
                mig_free(*stored);
                *schema = *stored = NULL;
                mig_fail_nomem(err);
            }
        } else if (found != SQLITE_DONE) {
            sqlite_engine_error(db, err);
        }
        sqlite3_finalize(q);
        if (err->code)
            break;
    }
    if (!err->code && step != SQLITE_ROW && step != SQLITE_DONE)
        sqlite_engine_error(db, err);
    sqlite3_finalize(list);
    if (err->code)
        return err->code;
    if (!*schema)
        return mig_fail(err, MIG_ERR_NO_TABLE, "table \"%s\" does not exist", table);
    return MIG_OK;
}

/* Check that every column exists in the table. */
static int check_columns(sqlite3 *db, const char *schema, const char *table,
                         const char *const *columns, int ncolumns, mig_error *err)
{
    for (int i = 0; i < ncolumns; i++) {
        sqlite3_stmt *q = sqlite_engine_prepare_owned(
            db,
            sqlite3_mprintf(
                "SELECT 1 FROM pragma_table_xinfo(?1, ?2) WHERE name = ?3 COLLATE NOCASE"),
            err);
        if (!q)
            return err->code;
        sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, schema, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, columns[i], -1, SQLITE_STATIC);
        int step = sqlite3_step(q), found = step == SQLITE_ROW;
        sqlite3_finalize(q);
        /* out of memory in the pragma is an error, not a missing column */
        if (!found && step != SQLITE_DONE)
            return sqlite_engine_error(db, err);
        if (!found)
            return mig_fail(err, MIG_ERR_NOT_FOUND, "column \"%s\" does not exist in table \"%s\"",
                            columns[i], table);
    }
    return MIG_OK;
}

/*
 * Rows are identified by rowid, or by the primary key of a WITHOUT ROWID table. A column may
 * be named rowid, so the first of SQLite's three names for it that no column takes is used.
 */
static int find_identity(sqlite3 *db, const char *schema, const char *table, mig_table_desc *out,
                         mig_error *err)
{
    static const char *const aliases[] = {"rowid", "_rowid_", "oid"};
    const char *alias = NULL;
    for (size_t i = 0; !alias && i < sizeof aliases / sizeof *aliases; i++) {
        const char *cols[1] = {aliases[i]};
        mig_error missing;
        mig_error_init(&missing);
        int rc = check_columns(db, schema, table, cols, 1, &missing);
        mig_error_clear(&missing);
        if (rc == MIG_ERR_NOT_FOUND)
            alias = aliases[i]; /* no column has that name */
        else if (rc != MIG_OK)  /* an error of SQLite's: run it again to report it */
            return check_columns(db, schema, table, cols, 1, err) != MIG_OK
                       ? err->code
                       : mig_fail(err, MIG_ENGINE, "reading the columns of \"%s\" failed", table);
    }
    char *probe =
        alias ? sqlite3_mprintf("SELECT %s FROM \"%w\".\"%w\"", alias, schema, table) : NULL;
    if (alias && !probe)
        return mig_fail_nomem(err);
    if (sqlite_engine_guard(db, err) != MIG_OK) {
        sqlite3_free(probe);
        return err->code;
    }
    sqlite3_stmt *st = NULL;
    int has_rowid = probe && sqlite3_prepare_v2(db, probe, -1, &st, NULL) == SQLITE_OK;
    sqlite3_finalize(st);
    sqlite3_free(probe);
    /* a WITHOUT ROWID table fails to prepare with an error; out of memory is not that */
    if (!has_rowid && alias && sqlite3_errcode(db) == SQLITE_NOMEM)
        return sqlite_engine_error(db, err);
    out->identity = mig_calloc(64, sizeof *out->identity);
    if (!out->identity)
        return mig_fail_nomem(err);
    if (has_rowid) {
        out->identity[out->nidentity++] = mig_strdup(alias);
        return out->identity[0] ? MIG_OK : mig_fail_nomem(err);
    }
    sqlite3_stmt *q = sqlite_engine_prepare_owned(
        db, sqlite3_mprintf("SELECT name FROM pragma_table_info(?1, ?2) WHERE pk > 0 ORDER BY pk"),
        err);
    if (!q)
        return err->code;
    sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, schema, -1, SQLITE_STATIC);
    int rc = MIG_OK;
    while (rc == MIG_OK && sqlite3_step(q) == SQLITE_ROW && out->nidentity < 64) {
        char *quoted = mig_quote_ident((const char *)sqlite3_column_text(q, 0));
        if (!quoted)
            rc = mig_fail_nomem(err);
        else
            out->identity[out->nidentity++] = quoted;
    }
    if (sqlite3_finalize(q) != SQLITE_OK && rc == MIG_OK)
        rc = sqlite_engine_error(db, err);
    if (rc != MIG_OK)
        return rc;
    return out->nidentity ? MIG_OK
                          : mig_fail(err, MIG_ERR_STATE, "table \"%s\" has no row identity", table);
}

/* A table of the schema whose foreign key references table (itself included), if any. */
static int find_referencing(sqlite3 *db, const char *schema, const char *table, mig_table_desc *out,
                            mig_error *err)
{
    sqlite3_stmt *q = sqlite_engine_prepare_owned(
        db,
        sqlite3_mprintf("SELECT m.name FROM \"%w\".sqlite_schema AS m, "
                        "pragma_foreign_key_list(m.name, ?2) AS f WHERE m.type = 'table' AND "
                        "f.\"table\" = ?1 COLLATE NOCASE ORDER BY m.name LIMIT 1",
                        schema),
        err);
    if (!q)
        return err->code;
    sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, schema, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW &&
        !(out->referenced_by = mig_strdup((const char *)sqlite3_column_text(q, 0))))
        rc = SQLITE_NOMEM;
    sqlite3_finalize(q);
    if (rc == SQLITE_NOMEM)
        return mig_fail_nomem(err);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sqlite_engine_error(db, err);
    return MIG_OK;
}

/* The plain names of a table's columns, in order (virtual tables' hidden columns left out). */
static int list_columns(sqlite3 *db, const char *schema, const char *table, char ***names,
                        int *count, mig_error *err)
{
    *names = NULL;
    *count = 0;
    sqlite3_stmt *q = sqlite_engine_prepare_owned(
        db,
        sqlite3_mprintf(
            "SELECT name FROM pragma_table_xinfo(?1, ?2) WHERE hidden <> 1 ORDER BY cid"),
        err);
    if (!q)
        return err->code;
    sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, schema, -1, SQLITE_STATIC);
    int cap = 0, rc = MIG_OK;
    while (rc == MIG_OK && sqlite3_step(q) == SQLITE_ROW) {
        if (*count == cap) {
            cap = cap ? cap * 2 : 16;
            char **grown = mig_realloc(*names, (size_t)cap * sizeof *grown);
            if (!grown) {
                rc = mig_fail_nomem(err);
                break;
            }
            *names = grown;
        }
        if (!((*names)[*count] = mig_strdup((const char *)sqlite3_column_text(q, 0))))
            rc = mig_fail_nomem(err);
        else
            (*count)++;
    }
    if (sqlite3_finalize(q) != SQLITE_OK && rc == MIG_OK)
        rc = sqlite_engine_error(db, err);
    return rc;
}

/* The tool's own tables: migrate_history and migrate_scripts of the main schema. */
static bool is_own_table(const char *schema, const char *table)
{
    return strcmp(schema, "main") == 0 &&
           (strcasecmp(table, "migrate_history") == 0 || strcasecmp(table, "migrate_scripts") == 0);
}

/* unique.table_describe (SQLite has no table locks or privileges: access is not needed) */
static int sqlite_table_describe(void *h, const char *table, mig_table_access access,
                                 const char *const *columns, int ncolumns, mig_table_desc *out,
                                 mig_error *err)
{
    (void)access;
    sqlite3 *db = ((sqlite_engine *)h)->db;
    memset(out, 0, sizeof *out);
    char *schema = NULL, *stored = NULL;
    int rc = find_schema(db, table, &schema, &stored, err);
    if (rc == MIG_OK)
        rc = check_columns(db, schema, stored, columns, ncolumns, err);
    if (rc == MIG_OK) {
        char *qs = mig_quote_ident(schema), *qt = mig_quote_ident(stored);
        out->name = mig_strdup(table);
        out->schema = mig_strdup(schema);
        out->table = mig_strdup(stored);
        out->quarantine_name = mig_unique_quarantine_name(stored);
        char *qq = out->quarantine_name ? mig_quote_ident(out->quarantine_name) : NULL;
        out->qualified = qs && qt ? mig_printf("%s.%s", qs, qt) : NULL;
        out->quarantine = qs && qq ? mig_printf("%s.%s", qs, qq) : NULL;
        mig_free(qs);
        mig_free(qt);
        mig_free(qq);
        if (!out->name || !out->schema || !out->table || !out->qualified || !out->quarantine)
            rc = mig_fail_nomem(err);
        else
            out->own = is_own_table(schema, stored);
    }
    if (rc == MIG_OK)
        rc = list_columns(db, schema, stored, &out->columns, &out->ncolumns, err);
    if (rc == MIG_OK)
        rc = find_identity(db, schema, stored, out, err);
    if (rc == MIG_OK)
        rc = find_referencing(db, schema, stored, out, err);
    mig_free(schema);
    mig_free(stored);
    if (rc != MIG_OK)
        mig_table_desc_free(out);
    return rc;
}

/*
 * unique.quarantine_state: an existing table is refused when a trigger (of its schema, or a
 * temporary one) is on it, since the INSERT would run it.
 */
static int sqlite_quarantine_state(void *h, const mig_table_desc *t, bool *exists, const char **why,
                                   char ***columns, int *ncolumns, mig_error *err)
{
    sqlite3 *db = ((sqlite_engine *)h)->db;
    *exists = false;
    *why = NULL;
    *columns = NULL;
    *ncolumns = 0;
    sqlite3_stmt *q = sqlite_engine_prepare_owned(
        db,
        sqlite3_mprintf("SELECT name, (SELECT count(*) FROM \"%w\".sqlite_schema AS g WHERE "
                        "g.type = 'trigger' AND g.tbl_name = ?1 COLLATE NOCASE) + (SELECT "
                        "count(*) FROM temp.sqlite_schema AS g WHERE g.type = 'trigger' AND "
                        "g.tbl_name = ?1 COLLATE NOCASE) FROM \"%w\".sqlite_schema WHERE type "
                        "= 'table' AND name = ?1 COLLATE NOCASE",
                        t->schema, t->schema),
        err);
    if (!q)
        return err->code;
    sqlite3_bind_text(q, 1, t->quarantine_name, -1, SQLITE_STATIC);
    int step = sqlite3_step(q);
    char *stored = NULL;
    if (step == SQLITE_ROW) {
        *exists = true;
        stored = mig_strdup((const char *)sqlite3_column_text(q, 0));
        if (sqlite3_column_int64(q, 1) > 0)
            *why = "it has triggers, which would run with the caller's rights";
    }
    sqlite3_finalize(q);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return sqlite_engine_error(db, err);
    if (*exists && !stored)
        return mig_fail_nomem(err);
    int rc = *exists ? list_columns(db, t->schema, stored, columns, ncolumns, err) : MIG_OK;
    mig_free(stored);
    return rc;
}

/*
 * Whether unique index `index` enforces exactly what a plain unique index on columns would:
 * the same set of key columns (in any order, as a foreign key accepts), no expression, each
 * with the collation the column was declared with.
 */
static int index_equivalent(sqlite3 *db, const mig_table_desc *t, const char *index,
                            const char *const *columns, int ncolumns, bool *same, mig_error *err)
{
    *same = false;
    sqlite3_stmt *q = sqlite_engine_prepare_owned(
        db, sqlite3_mprintf("SELECT name, coll FROM pragma_index_xinfo(?1, ?2) WHERE key"), err);
    if (!q)
        return err->code;
    sqlite3_bind_text(q, 1, index, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, t->schema, -1, SQLITE_STATIC);
    int n = 0, rc = MIG_OK;
    bool all = true;
    while (all && sqlite3_step(q) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0);
        const char *coll = (const char *)sqlite3_column_text(q, 1);
        const char *declared = NULL;
        int listed = -1;
        for (int c = 0; name && c < ncolumns && listed < 0; c++)
            if (strcasecmp(name, columns[c]) == 0)
                listed = c;
        if (listed < 0 || sqlite3_table_column_metadata(db, t->schema, t->table, name, NULL,
                                                        &declared, NULL, NULL, NULL) != SQLITE_OK)
            all = false;
        else
            all = coll && declared && strcasecmp(coll, declared) == 0;
        n++;
    }
    if (sqlite3_finalize(q) != SQLITE_OK)
        rc = sqlite_engine_error(db, err);
    *same = all && n == ncolumns;
    return rc;
}

/* Another unique index of the table that already makes columns unique (*name NULL if none). */
static int find_equivalent(sqlite3 *db, const mig_table_desc *t, const char *const *columns,
                           int ncolumns, char **name, mig_error *err)
{
    *name = NULL;
    /* the declared collations come from sqlite3_table_column_metadata, which a library built
     * without it lacks: then an index is only ever recognised by its name */
    if (!sqlite3_compileoption_used("ENABLE_COLUMN_METADATA"))
        return MIG_OK;
    sqlite3_stmt *q = sqlite_engine_prepare_owned(
        db,
        sqlite3_mprintf("SELECT name FROM pragma_index_list(?1, ?2) WHERE \"unique\" AND NOT "
                        "partial ORDER BY seq"),
        err);
    if (!q)
        return err->code;
    sqlite3_bind_text(q, 1, t->table, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, t->schema, -1, SQLITE_STATIC);
    int rc = MIG_OK;
    while (rc == MIG_OK && !*name && sqlite3_step(q) == SQLITE_ROW) {
        const char *index = (const char *)sqlite3_column_text(q, 0);
        bool same = false;
        rc = index_equivalent(db, t, index, columns, ncolumns, &same, err);
        if (rc == MIG_OK && same && !(*name = mig_strdup(index)))
            rc = mig_fail_nomem(err);
    }
    if (sqlite3_finalize(q) != SQLITE_OK && rc == MIG_OK)
        rc = sqlite_engine_error(db, err);
    return rc;
}

/*
 * Whether index's keys are exactly columns, in that order (names ignoring case, as SQLite; an
 * expression key where exprs says so, whose text SQLite does not list).
 */
static int index_has_columns(sqlite3 *db, const char *schema, const char *index,
                             const char *const *columns, const bool *exprs, int ncolumns,
                             bool *same, mig_error *err)
{
    sqlite3_stmt *q = sqlite_engine_prepare_owned(
        db,
        sqlite3_mprintf(
            "SELECT name, cid FROM pragma_index_xinfo(?1, ?2) WHERE key ORDER BY seqno"),
        err);
    if (!q)
        return err->code;
    sqlite3_bind_text(q, 1, index, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, schema, -1, SQLITE_STATIC);
    int n = 0;
    bool in_order = true;
    while (in_order && sqlite3_step(q) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0);
        if (n < ncolumns && exprs && exprs[n])
            in_order = sqlite3_column_int(q, 1) == -2;
        else
            in_order = n < ncolumns && name && strcasecmp(name, columns[n]) == 0;
        n++;
    }
    int rc = sqlite3_finalize(q) == SQLITE_OK ? MIG_OK : sqlite_engine_error(db, err);
    *same = in_order && n == ncolumns;
    return rc;
}

/*
 * How index, which exists in t's schema (q is on its row: the table it is on, unique,
 * partial), differs from a plain unique index of t on columns: *how says it in words, NULL
 * when it is that index.
 */
static int index_difference(sqlite3 *db, const mig_table_desc *t, sqlite3_stmt *q,
                            const char *index, const char *const *columns, const bool *exprs,
                            int ncolumns, char **how, mig_error *err)
{
    *how = NULL;
    const char *on = (const char *)sqlite3_column_text(q, 0);
    const char *reason = NULL;
    if (strcasecmp(on, t->table) != 0) {
        /* out of memory must not read as "no difference" */
        *how = mig_printf("it is on table %s", on);
        return *how ? MIG_OK : mig_fail_nomem(err);
    }
    if (!sqlite3_column_int(q, 1)) {
        reason = "it is not unique";
    } else if (sqlite3_column_int(q, 2)) {
        reason = "it is partial";
    } else {
        bool same = false;
        int rc = index_has_columns(db, t->schema, index, columns, exprs, ncolumns, &same, err);
        if (rc != MIG_OK)
            return rc;
        if (!same)
            reason = "it covers other columns";
    }
    if (reason && !(*how = mig_strdup(reason)))
        return mig_fail_nomem(err);
    return MIG_OK;
}

/*
 * unique.index_state: compare the index named index with the plain unique index of t on
 * columns that migrate_add_unique would create. SAME when it is that index, DIFFERENT (with
 * *detail saying how) when it is another; with no index of that name, EQUIVALENT (with *detail
 * naming it) when another index of t already makes columns unique, else ABSENT. Keys with an
 * expression are compared by position only (an expression where the call has one), and no
 * other index is looked for.
 */
static int sqlite_compare_existing_index(void *h, const mig_table_desc *t, const char *index,
                                         const char *const *columns, const bool *exprs,
                                         int ncolumns, int *state, char **detail, mig_error *err)
{
    bool any_expr = false;
    for (int i = 0; i < ncolumns; i++)
        any_expr = any_expr || exprs[i];
    sqlite3 *db = ((sqlite_engine *)h)->db;
    *state = MIG_INDEX_ABSENT;
    *detail = NULL;
    sqlite3_stmt *q = sqlite_engine_prepare_owned(
        db,
        sqlite3_mprintf("SELECT i.tbl_name, l.\"unique\", l.partial FROM \"%w\".sqlite_schema AS i "
                        "LEFT JOIN pragma_index_list(i.tbl_name, ?2) AS l ON l.name = i.name "
                        "WHERE i.type = 'index' AND i.name = ?1 COLLATE NOCASE",
                        t->schema),
        err);
    if (!q)
        return err->code;
    sqlite3_bind_text(q, 1, index, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, t->schema, -1, SQLITE_STATIC);
    int rc, step = sqlite3_step(q);
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = sqlite_engine_error(db, err);
    } else if (step == SQLITE_ROW) {
        rc = index_difference(db, t, q, index, columns, exprs, ncolumns, detail, err);
        if (rc == MIG_OK)
            *state = *detail ? MIG_INDEX_DIFFERENT : MIG_INDEX_SAME;
    } else if (any_expr) {
        rc = MIG_OK;
    } else {
        rc = find_equivalent(db, t, columns, ncolumns, detail, err);
        if (rc == MIG_OK && *detail)
            *state = MIG_INDEX_EQUIVALENT;
    }
    sqlite3_finalize(q);
    return rc;
}

/*
 * unique.unique_create: CREATE UNIQUE INDEX (an expression key in parentheses); a violation is
 * reported as a unique violation.
 */
static int sqlite_unique_create(void *h, const mig_table_desc *t, const char *index,
                                const char *const *columns, const bool *exprs, int ncolumns,
                                mig_error *err)
{
    sqlite3 *db = ((sqlite_engine *)h)->db;
    mig_buf b = {0};
    char *qs = mig_quote_ident(t->schema), *qi = mig_quote_ident(index);
    char *qt = mig_quote_ident(t->table);
    /* SQLite names the index's schema; the table must be in it and is named plainly */
    mig_buf_printf(&b, "CREATE UNIQUE INDEX %s.%s ON %s (", qs ? qs : "", qi ? qi : "",
                   qt ? qt : "");
    for (int i = 0; i < ncolumns; i++) {
        char *qc = exprs[i] ? mig_printf("(%s)", columns[i]) : mig_quote_ident(columns[i]);
        mig_buf_printf(&b, "%s%s", i ? ", " : "", qc ? qc : "");
        mig_free(qc);
    }
    mig_buf_puts(&b, ")");
    char *sql = qs && qi && qt ? mig_buf_take(&b) : (mig_buf_free(&b), NULL);
    mig_free(qs);
    mig_free(qi);
    mig_free(qt);
    if (!sql)
        return mig_fail_nomem(err);
    if (sqlite_engine_guard(db, err) != MIG_OK) {
        mig_free(sql);
        return err->code;
    }
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    mig_free(sql);
    if (rc == SQLITE_OK)
        return MIG_OK;
    sqlite_engine_error(db, err);
    if (sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_UNIQUE)
        strcpy(err->sqlstate, MIG_SQLSTATE_UNIQUE_VIOLATION);
    return err->code;
}

/* The primary key columns of schema.table, quoted, in key order (what a bare REFERENCES means). */
static int primary_key(sqlite3 *db, const char *schema, const char *table, char ***cols, int *n,
                       mig_error *err)
{
    *cols = NULL;
    *n = 0;
    sqlite3_stmt *q = sqlite_engine_prepare_owned(
        db, sqlite3_mprintf("SELECT name FROM pragma_table_info(?1, ?2) WHERE pk > 0 ORDER BY pk"),
        err);
    if (!q)
        return err->code;
    sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, schema, -1, SQLITE_STATIC);
    int rc = MIG_OK;
    while (rc == MIG_OK && sqlite3_step(q) == SQLITE_ROW) {
        char **grown = mig_realloc(*cols, (size_t)(*n + 1) * sizeof *grown);
        if (!grown) {
            rc = mig_fail_nomem(err);
            break;
        }
        *cols = grown;
        if (!((*cols)[*n] = mig_quote_ident((const char *)sqlite3_column_text(q, 0))))
            rc = mig_fail_nomem(err);
        else
            (*n)++;
    }
    if (sqlite3_finalize(q) != SQLITE_OK && rc == MIG_OK)
        rc = sqlite_engine_error(db, err);
    return rc;
}

/* Append one foreign key (its columns still to come) to the list. */
static mig_fk_ref *add_ref(mig_fk_ref **refs, int *nrefs, const char *schema, const char *child)
{
    mig_fk_ref *grown = mig_realloc(*refs, (size_t)(*nrefs + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    *refs = grown;
    mig_fk_ref *r = &grown[(*nrefs)++];
    memset(r, 0, sizeof *r);
    char *qs = mig_quote_ident(schema), *qc = mig_quote_ident(child);
    r->child = mig_strdup(child);
    r->qualified = qs && qc ? mig_printf("%s.%s", qs, qc) : NULL;
    mig_free(qs);
    mig_free(qc);
    r->child_columns = mig_calloc(64, sizeof *r->child_columns);
    r->parent_columns = mig_calloc(64, sizeof *r->parent_columns);
    return r->child && r->qualified && r->child_columns && r->parent_columns ? r : NULL;
}

/*
 * unique.references: the foreign keys of the schema's tables (PRAGMA foreign_key_list) whose
 * parent is t; a key that names no parent column points at t's primary key. SQLite has no
 * locks per table: the call's transaction keeps other connections out.
 */
static int sqlite_references(void *h, const mig_table_desc *t, mig_fk_ref **refs, int *nrefs,
                             mig_error *err)
{
    sqlite3 *db = ((sqlite_engine *)h)->db;
    *refs = NULL;
    *nrefs = 0;
    sqlite3_stmt *q = sqlite_engine_prepare_owned(
        db,
        sqlite3_mprintf("SELECT m.name, f.id, f.\"from\", f.\"to\" FROM \"%w\".sqlite_schema AS m, "
                        "pragma_foreign_key_list(m.name, ?2) AS f WHERE m.type = 'table' AND "
                        "f.\"table\" = ?1 COLLATE NOCASE ORDER BY m.name, f.id, f.seq",
                        t->schema),
        err);
    if (!q)
        return err->code;
    sqlite3_bind_text(q, 1, t->table, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, t->schema, -1, SQLITE_STATIC);
    char **pk = NULL;
    int npk = -1, rc = MIG_OK, last_id = -1, step;
    const char *last_child = NULL;
    mig_fk_ref *r = NULL;
    while (rc == MIG_OK && (step = sqlite3_step(q)) == SQLITE_ROW) {
        const char *child = (const char *)sqlite3_column_text(q, 0);
        int id = sqlite3_column_int(q, 1);
        const char *from = (const char *)sqlite3_column_text(q, 2);
        bool named = sqlite3_column_type(q, 3) != SQLITE_NULL;
        if (!r || id != last_id || strcmp(child, last_child) != 0) {
            if (!(r = add_ref(refs, nrefs, t->schema, child))) {
                rc = mig_fail_nomem(err);
                break;
            }
            last_id = id;
            last_child = r->child;
        }
        if (!named && npk < 0)
            rc = primary_key(db, t->schema, t->table, &pk, &npk, err);
        if (rc != MIG_OK)
            break;
        if (r->ncolumns >= 64 || (!named && r->ncolumns >= npk)) {
            rc = mig_fail(err, MIG_ERR_STATE,
                          "the foreign key of %s that references %s names no column, and %s "
                          "has no primary key of that many columns; nothing was changed",
                          child, t->name, t->name);
            break;
        }
        r->child_columns[r->ncolumns] = mig_quote_ident(from ? from : "");
        r->parent_columns[r->ncolumns] =
            named ? mig_quote_ident((const char *)sqlite3_column_text(q, 3))
                  : mig_strdup(pk[r->ncolumns]);
        if (!r->child_columns[r->ncolumns] || !r->parent_columns[r->ncolumns])
            rc = mig_fail_nomem(err);
        r->ncolumns++;
    }
    if (rc == MIG_OK && step != SQLITE_DONE)
        rc = sqlite_engine_error(db, err);
    sqlite3_finalize(q);
    mig_unique_columns_free(pk, npk < 0 ? 0 : npk);
    if (rc != MIG_OK) {
        mig_fk_refs_free(*refs, *nrefs);
        *refs = NULL;
        *nrefs = 0;
    }
    return rc;
}

/* A declared type as it may be written back: kept when plain words and numbers, else quoted. */
static char *type_text(const char *type)
{
    for (const char *p = type; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              strchr(" _(),+-.", *p)))
            return mig_quote_ident(type);
    return mig_strdup(type);
}

/*
 * unique.quarantine_create: CREATE TABLE AS would give each column only its affinity and no
 * collation; the quarantine is written column by column instead, with each column's declared
 * type (pragma_table_xinfo) and collation (sqlite3_table_column_metadata), and no constraint.
 */
static int sqlite_quarantine_create(void *h, const mig_table_desc *t, mig_error *err)
{
    sqlite3 *db = ((sqlite_engine *)h)->db;
    sqlite3_stmt *q = sqlite_engine_prepare_owned(
        db,
        sqlite3_mprintf(
            "SELECT name, type FROM pragma_table_xinfo(?1, ?2) WHERE hidden <> 1 ORDER BY cid"),
        err);
    if (!q)
        return err->code;
    sqlite3_bind_text(q, 1, t->table, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, t->schema, -1, SQLITE_STATIC);
    bool metadata = sqlite3_compileoption_used("ENABLE_COLUMN_METADATA");
    mig_buf b = {0};
    mig_buf_printf(&b, "CREATE TABLE %s (", t->quarantine);
    int rc = MIG_OK;
    while (rc == MIG_OK && sqlite3_step(q) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0);
        const char *type = (const char *)sqlite3_column_text(q, 1);
        /* a value SQLite could not convert for want of memory must not read as no type */
        if (!name || (!type && sqlite3_column_type(q, 1) != SQLITE_NULL)) {
            rc = mig_fail_nomem(err);
            break;
        }
        const char *coll = NULL;
        if (metadata && sqlite3_table_column_metadata(db, t->schema, t->table, name, NULL, &coll,
                                                      NULL, NULL, NULL) != SQLITE_OK) {
            coll = NULL;
            if (sqlite3_errcode(db) == SQLITE_NOMEM) { /* not a column without collation */
                rc = sqlite_engine_error(db, err);
                break;
            }
        }
        char *qn = mig_quote_ident(name), *ty = type && *type ? type_text(type) : mig_strdup("");
        if (!qn || !ty)
            rc = mig_fail_nomem(err);
        mig_buf_printf(&b, "%s%s%s", qn ? qn : "", ty && *ty ? " " : "", ty ? ty : "");
        if (coll && strcasecmp(coll, "BINARY") != 0) {
            char *qcoll = mig_quote_ident(coll);
            mig_buf_printf(&b, " COLLATE %s", qcoll ? qcoll : "");
            mig_free(qcoll);
        }
        mig_buf_puts(&b, ", ");
        mig_free(qn);
        mig_free(ty);
    }
    if (sqlite3_finalize(q) != SQLITE_OK && rc == MIG_OK)
        rc = sqlite_engine_error(db, err);
    mig_buf_printf(&b, "migrate_moved_at %s)", sqlite_unique.timestamp_type);
    char *sql = mig_buf_take(&b);
    if (rc == MIG_OK && !sql)
        rc = mig_fail_nomem(err);
    if (rc == MIG_OK)
        rc = sqlite_engine_exec(db, sql, err);
    mig_free(sql);
    return rc;
}

/*
 * An index build and the duplicate report each sort the whole table, and SQLite sorts on one
 * thread unless the connection allows helper threads (PRAGMA threads, 0 by default). Allow up
 * to one per core (at most 4) for the length of the call; returns the limit to restore.
 */
int sqlite_unique_threads_begin(void *h)
{
    sqlite3 *db = ((sqlite_engine *)h)->db;
    int previous = sqlite3_limit(db, SQLITE_LIMIT_WORKER_THREADS, -1);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int wanted = cores > 4 ? 4 : (int)cores;
    if (wanted > previous)
        sqlite3_limit(db, SQLITE_LIMIT_WORKER_THREADS, wanted);
    return previous;
}

/* Put back the helper-thread limit sqlite_unique_threads_begin found. */
void sqlite_unique_threads_end(void *h, int previous)
{
    sqlite3_limit(((sqlite_engine *)h)->db, SQLITE_LIMIT_WORKER_THREADS, previous);
}

/* The unique capability (common/mig_engine_unique.h) on SQLite. */
const mig_engine_unique sqlite_unique = {
    .table_describe = sqlite_table_describe,
    .quarantine_state = sqlite_quarantine_state,
    .index_state = sqlite_compare_existing_index,
    .unique_create = sqlite_unique_create,
    .references = sqlite_references,
    .quarantine_create = sqlite_quarantine_create,
    .timestamp_type = "TEXT",
};
