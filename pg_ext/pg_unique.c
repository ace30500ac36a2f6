/*
 * Catalog work for migrate_add_unique on PostgreSQL: the table is found through search_path by
 * its exact name (never parsed as SQL), and the unique index is attached as a real constraint
 * (ALTER TABLE ... ADD CONSTRAINT ... UNIQUE USING INDEX), so \d shows it.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"

#include "pg_engine.h"
#include "pg_unique.h"

#include "../common/mig_alloc.h"
#include "../common/mig_buf.h"
#include "../common/mig_unique.h"

/* The table's OID, looked up by exact name through search_path, or an error. */
static Oid find_table(const char *table, mig_error *err)
{
    Oid relid = RangeVarGetRelid(makeRangeVar(NULL, pstrdup(table), -1), NoLock, true);
    char kind = OidIsValid(relid) ? get_rel_relkind(relid) : '\0';
    if (!OidIsValid(relid) || (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)) {
        mig_fail(err, MIG_ERR, "table \"%s\" does not exist", table);
        strcpy(err->sqlstate, "42P01");
        return InvalidOid;
    }
    return relid;
}

/* Row identity: the primary key's columns, or ctid for a table without one. */
static int find_identity(Oid relid, mig_table_desc *out, mig_error *err)
{
    Relation rel = table_open(relid, AccessShareLock);
    List *indexes = RelationGetIndexList(rel); /* also fills rd_pkindex */
    Oid pk = rel->rd_pkindex;
    list_free(indexes);
    table_close(rel, AccessShareLock);
    out->identity = mig_calloc(INDEX_MAX_KEYS, sizeof *out->identity);
    if (!out->identity)
        return mig_fail_nomem(err);
    if (OidIsValid(pk)) {
        HeapTuple tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(pk));
        Form_pg_index index = (Form_pg_index)GETSTRUCT(tup);
        for (int i = 0; i < index->indnkeyatts; i++)
            out->identity[out->nidentity++] =
                mig_strdup(quote_identifier(get_attname(relid, index->indkey.values[i], false)));
        ReleaseSysCache(tup);
    } else {
        out->identity[out->nidentity++] = mig_strdup("ctid");
    }
    return MIG_OK;
}

/* A table whose foreign key references relid (itself included), or none. */
static int find_referencing(Oid relid, mig_table_desc *out, mig_error *err)
{
    Oid argtypes[1] = {OIDOID};
    Datum values[1] = {ObjectIdGetDatum(relid)};
    int rc = SPI_execute_with_args(
        "SELECT c.conrelid::pg_catalog.regclass::pg_catalog.text FROM pg_catalog.pg_constraint c "
        "WHERE c.contype OPERATOR(pg_catalog.=) 'f' AND c.confrelid OPERATOR(pg_catalog.=) $1 "
        "ORDER BY 1 LIMIT 1",
        1, argtypes, values, NULL, true, 1);
    if (rc != SPI_OK_SELECT)
        return mig_fail(err, MIG_ENGINE, "migrate: could not read pg_constraint");
    if (SPI_processed > 0)
        out->referenced_by =
            mig_strdup(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
    SPI_freetuptable(SPI_tuptable);
    return MIG_OK;
}

/* engine.table_describe */
int pg_table_describe(void *h, const char *table, const char *const *columns, int ncolumns,
                      mig_table_desc *out, mig_error *err)
{
    (void)h;
    memset(out, 0, sizeof *out);
    Oid relid = find_table(table, err);
    if (!OidIsValid(relid))
        return err->code;
    for (int i = 0; i < ncolumns; i++)
        if (get_attnum(relid, columns[i]) == InvalidAttrNumber) {
            mig_fail(err, MIG_ERR, "column \"%s\" does not exist in table \"%s\"", columns[i],
                     table);
            strcpy(err->sqlstate, "42703");
            return err->code;
        }
    char *schema = get_namespace_name(get_rel_namespace(relid));
    char *name = get_rel_name(relid);
    out->name = mig_strdup(table);
    out->schema = mig_strdup(schema);
    out->table = mig_strdup(name);
    out->qualified = mig_strdup(quote_qualified_identifier(schema, name));
    out->quarantine_name = mig_unique_quarantine_name(name);
    out->quarantine = mig_strdup(quote_qualified_identifier(schema, out->quarantine_name));
    int rc = find_identity(relid, out, err);
    if (rc == MIG_OK)
        rc = find_referencing(relid, out, err);
    return rc;
}

/* The index of that name in the table's schema, or InvalidOid. */
static Oid find_index(const mig_table_desc *t, const char *index)
{
    return get_relname_relid(index, get_namespace_oid(t->schema, false));
}

/* Why an existing index differs from a plain unique index on columns, or NULL when it does not. */
static const char *index_difference(Oid indexoid, const mig_table_desc *t,
                                    const char *const *columns, int ncolumns)
{
    if (get_rel_relkind(indexoid) != RELKIND_INDEX &&
        get_rel_relkind(indexoid) != RELKIND_PARTITIONED_INDEX)
        return "it is not an index";
    HeapTuple tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
    Form_pg_index index = (Form_pg_index)GETSTRUCT(tup);
    Oid relid = index->indrelid;
    const char *why = NULL;
    if (strcmp(get_rel_name(relid), t->table) != 0 ||
        strcmp(get_namespace_name(get_rel_namespace(relid)), t->schema) != 0)
        why = "it is on another table";
    else if (!index->indisunique)
        why = "it is not unique";
    else if (!heap_attisnull(tup, Anum_pg_index_indpred, NULL) ||
             !heap_attisnull(tup, Anum_pg_index_indexprs, NULL))
        why = "it is partial or on expressions";
    else if (index->indnkeyatts != ncolumns || index->indnatts != ncolumns)
        why = "it covers other columns";
    for (int i = 0; !why && i < ncolumns; i++)
        if (index->indkey.values[i] != get_attnum(relid, columns[i]))
            why = "it covers other columns";
    ReleaseSysCache(tup);
    return why;
}

/* The access method of an index (btree, hash...). */
static Oid index_access_method(Oid indexoid)
{
    HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(indexoid));
    if (!HeapTupleIsValid(tup))
        return InvalidOid;
    Oid am = ((Form_pg_class)GETSTRUCT(tup))->relam;
    ReleaseSysCache(tup);
    return am;
}

/*
 * Whether index (of relid) enforces exactly the uniqueness a plain unique index on columns
 * would: btree, valid, immediate, NULLs distinct, no predicate or expression, the same set of
 * key columns (in any order, as a foreign key accepts), each with the column's own collation
 * and its type's default operator class.
 */
static bool index_equivalent(Oid relid, Oid indexoid, const char *const *columns, int ncolumns)
{
    HeapTuple tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
    if (!HeapTupleIsValid(tup))
        return false;
    Form_pg_index index = (Form_pg_index)GETSTRUCT(tup);
    bool isnull;
    Datum classes = SysCacheGetAttr(INDEXRELID, tup, Anum_pg_index_indclass, &isnull);
    Datum collations = SysCacheGetAttr(INDEXRELID, tup, Anum_pg_index_indcollation, &isnull);
    oidvector *indclass = (oidvector *)DatumGetPointer(classes);
    oidvector *indcoll = (oidvector *)DatumGetPointer(collations);
    bool same = index->indisunique && index->indisvalid && index->indimmediate &&
                !index->indnullsnotdistinct && index->indnkeyatts == ncolumns &&
                index->indnatts == ncolumns && index_access_method(indexoid) == BTREE_AM_OID &&
                heap_attisnull(tup, Anum_pg_index_indpred, NULL) &&
                heap_attisnull(tup, Anum_pg_index_indexprs, NULL);
    for (int i = 0; same && i < ncolumns; i++) {
        AttrNumber att = index->indkey.values[i];
        bool listed = false;
        for (int c = 0; c < ncolumns && !listed; c++)
            listed = att == get_attnum(relid, columns[c]);
        Oid type, collation;
        int32 typmod;
        get_atttypetypmodcoll(relid, att, &type, &typmod, &collation);
        same = listed && indcoll->values[i] == collation &&
               indclass->values[i] == GetDefaultOpClass(type, BTREE_AM_OID);
    }
    ReleaseSysCache(tup);
    return same;
}

/* The name of an index of relid that already makes columns unique, or NULL. */
static char *find_equivalent(Oid relid, const char *const *columns, int ncolumns)
{
    Relation rel = table_open(relid, AccessShareLock);
    List *indexes = RelationGetIndexList(rel);
    table_close(rel, NoLock);
    ListCell *lc;
    foreach (lc, indexes) {
        Oid indexoid = lfirst_oid(lc);
        if (index_equivalent(relid, indexoid, columns, ncolumns))
            return get_rel_name(indexoid);
    }
    return NULL;
}

/*
 * engine.index_state: SAME only when the index is there and attached as a constraint;
 * EQUIVALENT when another index of the table already makes the columns unique.
 */
int pg_index_state(void *h, const mig_table_desc *t, const char *index, const char *const *columns,
                   int ncolumns, int *state, char **detail, mig_error *err)
{
    (void)h, (void)err;
    *state = MIG_INDEX_ABSENT;
    *detail = NULL;
    Oid indexoid = find_index(t, index);
    if (!OidIsValid(indexoid)) {
        Oid relid = get_relname_relid(t->table, get_namespace_oid(t->schema, false));
        char *other = find_equivalent(relid, columns, ncolumns);
        if (other) {
            *state = MIG_INDEX_EQUIVALENT;
            *detail = mig_strdup(other);
        }
        return MIG_OK;
    }
    const char *why = index_difference(indexoid, t, columns, ncolumns);
    if (why) {
        *state = MIG_INDEX_DIFFERENT;
        *detail = mig_strdup(why);
    } else if (OidIsValid(get_index_constraint(indexoid))) {
        *state = MIG_INDEX_SAME;
    } /* a matching index without its constraint: unique_create attaches it */
    return MIG_OK;
}

/* engine.unique_create: build the index (unless it is there) and attach it as a constraint. */
int pg_unique_create(void *h, const mig_table_desc *t, const char *index,
                     const char *const *columns, int ncolumns, mig_error *err)
{
    (void)h;
    const char *qi = quote_identifier(index);
    mig_buf b = {0};
    Oid relid = get_relname_relid(t->table, get_namespace_oid(t->schema, false));
    if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE) {
        /* USING INDEX is not supported there; the constraint builds the index on each partition */
        mig_buf_printf(&b, "ALTER TABLE %s ADD CONSTRAINT %s UNIQUE (", t->qualified, qi);
        for (int i = 0; i < ncolumns; i++)
            mig_buf_printf(&b, "%s%s", i ? ", " : "", quote_identifier(columns[i]));
        mig_buf_puts(&b, ")");
        char *sql = mig_buf_take(&b);
        int rc = sql ? pg_engine_run_guarded(sql, err) : mig_fail_nomem(err);
        mig_free(sql);
        return rc;
    }
    if (!OidIsValid(find_index(t, index))) {
        mig_buf_printf(&b, "CREATE UNIQUE INDEX %s ON %s (", qi, t->qualified);
        for (int i = 0; i < ncolumns; i++)
            mig_buf_printf(&b, "%s%s", i ? ", " : "", quote_identifier(columns[i]));
        mig_buf_puts(&b, ");\n");
    }
    mig_buf_printf(&b, "ALTER TABLE %s ADD CONSTRAINT %s UNIQUE USING INDEX %s", t->qualified, qi,
                   qi);
    char *sql = mig_buf_take(&b);
    if (!sql)
        return mig_fail_nomem(err);
    int rc = pg_engine_run_guarded(sql, err);
    mig_free(sql);
    return rc;
}
