/*
 * Catalog work for migrate_add_unique on PostgreSQL: the table is found through search_path by
 * its exact name (never parsed as SQL), and the unique index is attached as a real constraint
 * (ALTER TABLE ... ADD CONSTRAINT ... UNIQUE USING INDEX), so \d shows it.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "commands/extension.h"
#include "catalog/namespace.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/rls.h"
#include "utils/syscache.h"

#include "pg_engine.h"
#include "pg_unique.h"

#include "../common/mig_alloc.h"
#include "../common/mig_buf.h"
#include "../common/mig_unique.h"

/*
 * RangeVarGetRelidExtended's callback, run before the lock is taken: changing a table, or
 * writing the steps that will, takes its owner (as ALTER TABLE does), reading it SELECT. Other
 * kinds are left to the caller's "does not exist".
 */
static void check_table_access(const RangeVar *rv, Oid relid, Oid oldrelid, void *arg)
{
    const mig_table_access *access = arg;
    (void)oldrelid;
    if (!OidIsValid(relid))
        return;
    char kind = get_rel_relkind(relid);
    if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
        return;
    if (*access != MIG_TABLE_READ) {
        if (!pg_class_ownercheck(relid, GetUserId()))
            aclcheck_error(ACLCHECK_NOT_OWNER, get_relkind_objtype(kind), rv->relname);
    } else {
        AclResult acl = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
        if (acl != ACLCHECK_OK)
            aclcheck_error(acl, get_relkind_objtype(kind), rv->relname);
    }
}

/*
 * The table's OID, looked up by exact name through search_path, or an error. It stays locked
 * until the end of the transaction: for a change, with the lock the whole change needs
 * (ShareRowExclusiveLock keeps out every concurrent DDL and write, not readers), so nothing can
 * change the table between the checks and the ALTER; for reading, AccessShareLock.
 */
static Oid find_table(const char *table, mig_table_access access, mig_error *err)
{
    Oid relid = RangeVarGetRelidExtended(makeRangeVar(NULL, pstrdup(table), -1),
                                         access == MIG_TABLE_CHANGE ? ShareRowExclusiveLock
                                                                    : AccessShareLock,
                                         RVR_MISSING_OK, check_table_access, &access);
    char kind = OidIsValid(relid) ? get_rel_relkind(relid) : '\0';
    if (!OidIsValid(relid) || (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)) {
        mig_fail(err, MIG_ERR_NO_TABLE, "table \"%s\" does not exist", table);
        return InvalidOid;
    }
    return relid;
}

/* The error for a catalog entry that is gone although its table is locked. */
static int catalog_gone(mig_error *err, const char *what, Oid oid)
{
    mig_fail(err, MIG_ENGINE, "migrate: the catalog entry of %s %u is gone", what, oid);
    strcpy(err->sqlstate, "XX000");
    return err->code;
}

/*
 * Row identity: the primary key's columns; for a table without one, ctid, which is unique only
 * within one relation: where the rows of partitions or child tables are read through it
 * (ctids repeat across them), tableoid and ctid together.
 */
static int find_identity(Oid relid, mig_table_desc *out, mig_error *err)
{
    Relation rel = table_open(relid, NoLock);  /* locked by find_table */
    List *indexes = RelationGetIndexList(rel); /* also fills rd_pkindex */
    Oid pk = rel->rd_pkindex;
    bool partitioned = rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE;
    list_free(indexes);
    table_close(rel, NoLock);
    out->identity = mig_calloc(INDEX_MAX_KEYS, sizeof *out->identity);
    if (!out->identity)
        return mig_fail_nomem(err);
    if (OidIsValid(pk)) {
        HeapTuple tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(pk));
        if (!HeapTupleIsValid(tup))
            return catalog_gone(err, "index", pk);
        Form_pg_index index = (Form_pg_index)GETSTRUCT(tup);
        for (int i = 0; i < index->indnkeyatts; i++)
            out->identity[out->nidentity++] =
                mig_strdup(quote_identifier(get_attname(relid, index->indkey.values[i], false)));
        ReleaseSysCache(tup);
    } else if (partitioned || has_subclass(relid)) {
        out->identity[out->nidentity++] = mig_strdup("tableoid::pg_catalog.regclass");
        out->identity[out->nidentity++] = mig_strdup("ctid");
    } else {
        out->identity[out->nidentity++] = mig_strdup("ctid");
    }
    for (int i = 0; i < out->nidentity; i++)
        if (!out->identity[i])
            return mig_fail_nomem(err);
    return MIG_OK;
}

/* The plain names of a relation's columns, in order (dropped ones left out). */
static int list_columns(Oid relid, char ***names, int *count, mig_error *err)
{
    Relation rel = table_open(relid, NoLock); /* locked by the caller */
    TupleDesc desc = RelationGetDescr(rel);
    *count = 0;
    *names = mig_calloc((size_t)desc->natts + 1, sizeof **names);
    int rc = *names ? MIG_OK : mig_fail_nomem(err);
    for (int i = 0; rc == MIG_OK && i < desc->natts; i++) {
        Form_pg_attribute att = TupleDescAttr(desc, i);
        if (att->attisdropped)
            continue;
        if (!((*names)[*count] = mig_strdup(NameStr(att->attname))))
            rc = mig_fail_nomem(err);
        else
            (*count)++;
    }
    table_close(rel, NoLock);
    return rc;
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

/* unique.table_describe: the table is locked and its privileges checked (find_table). */
static int pg_table_describe(void *h, const char *table, mig_table_access access,
                             const char *const *columns, int ncolumns, mig_table_desc *out,
                             mig_error *err)
{
    (void)h;
    memset(out, 0, sizeof *out);
    Oid relid = find_table(table, access, err);
    if (!OidIsValid(relid))
        return err->code;
    for (int i = 0; i < ncolumns; i++)
        if (get_attnum(relid, columns[i]) == InvalidAttrNumber) {
            mig_fail(err, MIG_ERR_NOT_FOUND, "column \"%s\" does not exist in table \"%s\"",
                     columns[i], table);
            strcpy(err->sqlstate, "42703");
            return err->code;
        }
    char *schema = get_namespace_name(get_rel_namespace(relid));
    char *name = get_rel_name(relid);
    if (!schema || !name)
        return catalog_gone(err, "table", relid);
    Oid extension = get_extension_oid("migrate", true);
    out->relid = relid;
    out->own =
        OidIsValid(extension) && getExtensionOfObject(RelationRelationId, relid) == extension;
    out->name = mig_strdup(table);
    out->schema = mig_strdup(schema);
    out->table = mig_strdup(name);
    out->qualified = mig_strdup(quote_qualified_identifier(schema, name));
    out->quarantine_name = mig_unique_quarantine_name(name);
    out->quarantine = out->quarantine_name
                          ? mig_strdup(quote_qualified_identifier(schema, out->quarantine_name))
                          : NULL;
    if (!out->name || !out->schema || !out->table || !out->qualified || !out->quarantine)
        return mig_fail_nomem(err);
    int rc = list_columns(relid, &out->columns, &out->ncolumns, err);
    if (rc == MIG_OK)
        rc = find_identity(relid, out, err);
    if (rc == MIG_OK)
        rc = find_referencing(relid, out, err);
    return rc;
}

/* How many rows of a catalog name relid in column (triggers, rules, policies). */
static int64 catalog_rows(const char *sql, Oid relid, mig_error *err)
{
    Oid argtypes[1] = {OIDOID};
    Datum values[1] = {ObjectIdGetDatum(relid)};
    int rc = SPI_execute_with_args(sql, 1, argtypes, values, NULL, true, 1);
    if (rc != SPI_OK_SELECT || SPI_processed != 1) {
        mig_fail(err, MIG_ENGINE, "migrate: could not read the catalog");
        return -1;
    }
    bool isnull;
    int64 n =
        DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    SPI_freetuptable(SPI_tuptable);
    return isnull ? 0 : n;
}

/*
 * unique.quarantine_state: an existing table is locked (ShareRowExclusiveLock keeps out
 * CREATE TRIGGER, CREATE RULE, CREATE POLICY, ALTER TABLE until the end of the transaction),
 * then checked: a plain table, owned by the owner of the table, with no trigger, rule or
 * policy, any of which would run or apply with the caller's rights.
 */
static int pg_quarantine_state(void *h, const mig_table_desc *t, bool *exists, const char **why,
                               char ***columns, int *ncolumns, mig_error *err)
{
    (void)h;
    *exists = false;
    *why = NULL;
    *columns = NULL;
    *ncolumns = 0;
    Oid qid = get_relname_relid(t->quarantine_name, get_rel_namespace(t->relid));
    if (!OidIsValid(qid))
        return MIG_OK; /* CREATE TABLE (never IF NOT EXISTS) fails if one appears meanwhile */
    LockRelationOid(qid, ShareRowExclusiveLock);
    HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(qid));
    if (!HeapTupleIsValid(tup)) { /* dropped while we waited for the lock */
        mig_fail(err, MIG_ERR_STATE,
                 "table %s was dropped while migrate waited for it; nothing was changed",
                 t->quarantine_name);
        strcpy(err->sqlstate, "40001");
        return err->code;
    }
    Form_pg_class rel = (Form_pg_class)GETSTRUCT(tup);
    char kind = rel->relkind;
    Oid owner = rel->relowner;
    ReleaseSysCache(tup);
    HeapTuple own = SearchSysCache1(RELOID, ObjectIdGetDatum(t->relid));
    if (!HeapTupleIsValid(own))
        return catalog_gone(err, "table", t->relid);
    Oid table_owner = ((Form_pg_class)GETSTRUCT(own))->relowner;
    ReleaseSysCache(own);
    *exists = true;
    int64 triggers = catalog_rows("SELECT pg_catalog.count(*) FROM pg_catalog.pg_trigger "
                                  "WHERE tgrelid OPERATOR(pg_catalog.=) $1",
                                  qid, err);
    int64 rules = triggers < 0
                      ? -1
                      : catalog_rows("SELECT pg_catalog.count(*) FROM pg_catalog.pg_rewrite "
                                     "WHERE ev_class OPERATOR(pg_catalog.=) $1",
                                     qid, err);
    int64 policies = rules < 0
                         ? -1
                         : catalog_rows("SELECT pg_catalog.count(*) FROM pg_catalog.pg_policy "
                                        "WHERE polrelid OPERATOR(pg_catalog.=) $1",
                                        qid, err);
    if (policies < 0)
        return err->code;
    if (kind != RELKIND_RELATION)
        *why = "it is not a plain table";
    else if (owner != table_owner)
        *why = "its owner is not the owner of the table, and it could have been prepared by "
               "another role";
    else if (triggers > 0)
        *why = "it has triggers, which would run with the caller's rights";
    else if (rules > 0)
        *why = "it has rules, which would run with the caller's rights";
    else if (policies > 0)
        *why = "it has row security policies";
    if (*why)
        return MIG_OK;
    return list_columns(qid, columns, ncolumns, err);
}

/* The index of that name in the table's schema, or InvalidOid. */
static Oid find_index(const mig_table_desc *t, const char *index)
{
    return get_relname_relid(index, get_rel_namespace(t->relid));
}

/* Why an existing index differs from a plain unique index on columns, or NULL when it does not. */
static const char *index_difference(Oid indexoid, const mig_table_desc *t,
                                    const char *const *columns, int ncolumns)
{
    if (get_rel_relkind(indexoid) != RELKIND_INDEX &&
        get_rel_relkind(indexoid) != RELKIND_PARTITIONED_INDEX)
        return "it is not an index";
    HeapTuple tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
    if (!HeapTupleIsValid(tup)) /* an index of another table, dropped meanwhile */
        return "it is not an index";
    Form_pg_index index = (Form_pg_index)GETSTRUCT(tup);
    Oid relid = index->indrelid;
    const char *why = NULL;
    if (relid != (Oid)t->relid)
        why = "it is on another table";
    else if (!index->indisunique)
        why = "it is not unique";
    else if (!index->indisvalid)
        why = "it is not valid (a failed concurrent build leaves such an index)";
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
    Relation rel = table_open(relid, NoLock); /* locked by find_table */
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
 * Why an existing index differs from a unique index on keys that include an expression (a
 * plain column's attribute where the call names one, an expression where it has one; the
 * expression's text is not compared), or NULL when it does not.
 */
static const char *expression_index_difference(Oid indexoid, const mig_table_desc *t,
                                               const char *const *columns, const bool *exprs,
                                               int ncolumns)
{
    HeapTuple tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
    if (!HeapTupleIsValid(tup))
        return "it is not an index";
    Form_pg_index index = (Form_pg_index)GETSTRUCT(tup);
    const char *why = NULL;
    if (index->indrelid != (Oid)t->relid)
        why = "it is on another table";
    else if (!index->indisunique)
        why = "it is not unique";
    else if (!index->indisvalid)
        why = "it is not valid (a failed concurrent build leaves such an index)";
    else if (!heap_attisnull(tup, Anum_pg_index_indpred, NULL))
        why = "it is partial";
    else if (index->indnkeyatts != ncolumns || index->indnatts != ncolumns)
        why = "it covers other keys";
    for (int i = 0; !why && i < ncolumns; i++)
        if (index->indkey.values[i] != (exprs[i] ? 0 : get_attnum(t->relid, columns[i])))
            why = "it covers other keys";
    ReleaseSysCache(tup);
    return why;
}

/*
 * unique.index_state: SAME only when the index is there and attached as a constraint;
 * EQUIVALENT when another index of the table already makes the columns unique. With an
 * expression key there is no constraint: SAME when the index of that name is such an index.
 */
static int pg_index_state(void *h, const mig_table_desc *t, const char *index,
                          const char *const *columns, const bool *exprs, int ncolumns, int *state,
                          char **detail, mig_error *err)
{
    (void)h, (void)err;
    *state = MIG_INDEX_ABSENT;
    *detail = NULL;
    Oid indexoid = find_index(t, index);
    bool any_expr = false;
    for (int i = 0; i < ncolumns; i++)
        any_expr = any_expr || exprs[i];
    if (any_expr) {
        const char *why =
            OidIsValid(indexoid)
                ? (get_rel_relkind(indexoid) != RELKIND_INDEX &&
                           get_rel_relkind(indexoid) != RELKIND_PARTITIONED_INDEX
                       ? "it is not an index"
                       : expression_index_difference(indexoid, t, columns, exprs, ncolumns))
                : NULL;
        if (why) {
            *state = MIG_INDEX_DIFFERENT;
            *detail = mig_strdup(why);
        } else if (OidIsValid(indexoid)) {
            *state = MIG_INDEX_SAME;
        }
        return MIG_OK;
    }
    if (!OidIsValid(indexoid)) {
        char *other = find_equivalent(t->relid, columns, ncolumns);
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

/*
 * unique.unique_create: build the index (unless it is there) and attach it as a constraint.
 * A constraint cannot hold an expression: with an expression key, the unique index alone.
 */
static int pg_unique_create(void *h, const mig_table_desc *t, const char *index,
                            const char *const *columns, const bool *exprs, int ncolumns,
                            mig_error *err)
{
    (void)h;
    const char *qi = quote_identifier(index);
    mig_buf b = {0};
    bool any_expr = false;
    for (int i = 0; i < ncolumns; i++)
        any_expr = any_expr || exprs[i];
    if (any_expr) {
        mig_buf_printf(&b, "CREATE UNIQUE INDEX %s ON %s (", qi, t->qualified);
        for (int i = 0; i < ncolumns; i++)
            mig_buf_printf(&b, exprs[i] ? "%s(%s)" : "%s%s", i ? ", " : "",
                           exprs[i] ? columns[i] : quote_identifier(columns[i]));
        mig_buf_puts(&b, ")");
        char *sql = mig_buf_take(&b);
        int rc = sql ? pg_engine_run_guarded(sql, err) : mig_fail_nomem(err);
        mig_free(sql);
        return rc;
    }
    if (get_rel_relkind(t->relid) == RELKIND_PARTITIONED_TABLE) {
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

/* Append a copy of sql to steps (NULL taken as out of memory). */
static int add_step(char ***steps, int *nsteps, const char *sql, mig_error *err)
{
    char *copy = sql ? mig_strdup(sql) : NULL;
    char **grown = copy ? mig_realloc(*steps, (size_t)(*nsteps + 1) * sizeof **steps) : NULL;
    if (!grown) {
        mig_free(copy);
        return mig_fail_nomem(err);
    }
    *steps = grown;
    (*steps)[(*nsteps)++] = copy;
    return MIG_OK;
}

/*
 * unique.concurrent_steps: the check, CREATE UNIQUE INDEX CONCURRENTLY (unless a valid index of
 * that name is there: index_state refused any other), then USING INDEX where every key is a
 * column. A partitioned table is refused: PostgreSQL cannot build its index concurrently.
 */
static int pg_concurrent_steps(void *h, const mig_table_desc *t, const char *check,
                               const char *index, const char *const *columns, const bool *exprs,
                               int ncolumns, char ***steps, int *nsteps, mig_error *err)
{
    (void)h;
    if (get_rel_relkind(t->relid) == RELKIND_PARTITIONED_TABLE) {
        mig_fail(err, MIG_ERR_STATE,
                 "migrate_add_unique_script cannot build the index of partitioned table %s: "
                 "PostgreSQL builds no index of a partitioned table concurrently",
                 t->name);
        mig_error_set_hint(err, "call migrate_add_unique, or run the steps on each partition");
        strcpy(err->sqlstate, "0A000");
        return err->code;
    }
    const char *qi = quote_identifier(index);
    bool any_expr = false;
    for (int i = 0; i < ncolumns; i++)
        any_expr = any_expr || exprs[i];
    int rc = add_step(steps, nsteps, check, err);
    if (rc == MIG_OK && !OidIsValid(find_index(t, index))) {
        mig_buf b = {0};
        mig_buf_printf(&b, "CREATE UNIQUE INDEX CONCURRENTLY %s ON %s (", qi, t->qualified);
        for (int i = 0; i < ncolumns; i++)
            mig_buf_printf(&b, exprs[i] ? "%s(%s)" : "%s%s", i ? ", " : "",
                           exprs[i] ? columns[i] : quote_identifier(columns[i]));
        mig_buf_puts(&b, ");");
        char *sql = mig_buf_take(&b);
        rc = add_step(steps, nsteps, sql, err);
        mig_free(sql);
    }
    if (rc == MIG_OK && !any_expr) { /* a constraint cannot hold an expression */
        char *sql = mig_printf("ALTER TABLE %s ADD CONSTRAINT %s UNIQUE USING INDEX %s;",
                               t->qualified, qi, qi);
        rc = add_step(steps, nsteps, sql, err);
        mig_free(sql);
    }
    return rc;
}

/* unique.script_call: migrate_add_unique_script again, qualified with the extension's schema. */
static char *pg_script_call(void *h, const char *table, const char *columns, const char *index)
{
    return mig_printf(
        "SELECT pg_catalog.count(*) AS steps FROM %s.migrate_add_unique_script(%s, %s, %s);",
        ((pg_engine *)h)->schema, quote_literal_cstr(table), quote_literal_cstr(columns),
        quote_literal_cstr(index));
}

/*
 * Whether the caller may re-point every row of child that references t: it must read and
 * update the table, and see all of its rows (row security would hide some, whose references
 * would then cascade or fail). Checked before the lock, so that no role can lock a table it
 * may not use.
 */
static int check_child(Oid child, const char *name, const mig_table_desc *t, mig_error *err)
{
    const char *why = NULL;
    if (pg_class_aclcheck(child, GetUserId(), ACL_SELECT) != ACLCHECK_OK ||
        pg_class_aclcheck(child, GetUserId(), ACL_UPDATE) != ACLCHECK_OK)
        why = "the caller may not read and update it";
    else if (check_enable_rls(child, InvalidOid, true) == RLS_ENABLED)
        why = "row security hides some of its rows from the caller";
    if (!why)
        return MIG_OK;
    mig_fail(err, MIG_PRIVILEGE,
             "on_duplicate 'merge' must re-point the rows of table %s that reference %s, and %s; "
             "nothing was changed",
             name, t->name, why);
    strcpy(err->sqlstate, "42501");
    return err->code;
}

/*
 * unique.references: the foreign keys whose referenced table is t (pg_constraint; for a
 * partitioned child, its own key, not the copies on its partitions), each child table checked
 * (check_child) and locked in SHARE ROW EXCLUSIVE mode until the end of the transaction, so
 * that no row can come to reference a row about to move.
 */
static int pg_references(void *h, const mig_table_desc *t, mig_fk_ref **refs, int *nrefs,
                         mig_error *err)
{
    (void)h;
    *refs = NULL;
    *nrefs = 0;
    Oid argtypes[1] = {OIDOID};
    Datum values[1] = {ObjectIdGetDatum(t->relid)};
    int rc = SPI_execute_with_args(
        "SELECT c.oid, c.conrelid, n.nspname::pg_catalog.text, r.relname::pg_catalog.text, "
        "ca.attname::pg_catalog.text, pa.attname::pg_catalog.text "
        "FROM pg_catalog.pg_constraint c "
        "JOIN pg_catalog.pg_class r ON r.oid OPERATOR(pg_catalog.=) c.conrelid "
        "JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) r.relnamespace "
        "CROSS JOIN LATERAL pg_catalog.generate_subscripts(c.conkey, 1) AS k(i) "
        "JOIN pg_catalog.pg_attribute ca ON ca.attrelid OPERATOR(pg_catalog.=) c.conrelid "
        " AND ca.attnum OPERATOR(pg_catalog.=) c.conkey[k.i] "
        "JOIN pg_catalog.pg_attribute pa ON pa.attrelid OPERATOR(pg_catalog.=) c.confrelid "
        " AND pa.attnum OPERATOR(pg_catalog.=) c.confkey[k.i] "
        "WHERE c.contype OPERATOR(pg_catalog.=) 'f' AND c.confrelid OPERATOR(pg_catalog.=) $1 "
        " AND c.conparentid OPERATOR(pg_catalog.=) 0 "
        "ORDER BY r.relname, n.nspname, c.oid, k.i",
        1, argtypes, values, NULL, true, 0);
    if (rc != SPI_OK_SELECT)
        return mig_fail(err, MIG_ENGINE, "migrate: could not read pg_constraint");
    SPITupleTable *tab = SPI_tuptable;
    uint64 rows = SPI_processed;
    int result = MIG_OK;
    Oid last_con = InvalidOid;
    mig_fk_ref *r = NULL;
    for (uint64 i = 0; result == MIG_OK && i < rows; i++) {
        bool isnull;
        Oid con = DatumGetObjectId(SPI_getbinval(tab->vals[i], tab->tupdesc, 1, &isnull));
        Oid child = DatumGetObjectId(SPI_getbinval(tab->vals[i], tab->tupdesc, 2, &isnull));
        char *schema = SPI_getvalue(tab->vals[i], tab->tupdesc, 3);
        char *name = SPI_getvalue(tab->vals[i], tab->tupdesc, 4);
        if (con != last_con) {
            result = check_child(child, name, t, err);
            if (result != MIG_OK)
                break;
            if (child != (Oid)t->relid)
                LockRelationOid(child, ShareRowExclusiveLock);
            mig_fk_ref *grown = mig_realloc(*refs, (size_t)(*nrefs + 1) * sizeof *grown);
            if (!grown) {
                result = mig_fail_nomem(err);
                break;
            }
            *refs = grown;
            r = &grown[(*nrefs)++];
            memset(r, 0, sizeof *r);
            r->child = mig_strdup(name);
            r->qualified = mig_strdup(quote_qualified_identifier(schema, name));
            r->child_columns = mig_calloc(INDEX_MAX_KEYS, sizeof *r->child_columns);
            r->parent_columns = mig_calloc(INDEX_MAX_KEYS, sizeof *r->parent_columns);
            if (!r->child || !r->qualified || !r->child_columns || !r->parent_columns) {
                result = mig_fail_nomem(err);
                break;
            }
            last_con = con;
        }
        if (r->ncolumns >= INDEX_MAX_KEYS)
            continue;
        r->child_columns[r->ncolumns] =
            mig_strdup(quote_identifier(SPI_getvalue(tab->vals[i], tab->tupdesc, 5)));
        r->parent_columns[r->ncolumns] =
            mig_strdup(quote_identifier(SPI_getvalue(tab->vals[i], tab->tupdesc, 6)));
        if (!r->child_columns[r->ncolumns] || !r->parent_columns[r->ncolumns])
            result = mig_fail_nomem(err);
        r->ncolumns++;
    }
    SPI_freetuptable(tab);
    if (result != MIG_OK) {
        mig_fk_refs_free(*refs, *nrefs);
        *refs = NULL;
        *nrefs = 0;
    }
    return result;
}

/* The unique capability (common/mig_engine_unique.h) on PostgreSQL. */
const mig_engine_unique pg_unique = {
    .table_describe = pg_table_describe,
    .quarantine_state = pg_quarantine_state,
    .index_state = pg_index_state,
    .unique_create = pg_unique_create,
    .references = pg_references,
    .quarantine_create = NULL, /* CREATE TABLE AS keeps each column's type and collation */
    .concurrent_steps = pg_concurrent_steps,
    .script_call = pg_script_call,
    .timestamp_type = "timestamptz",
};
