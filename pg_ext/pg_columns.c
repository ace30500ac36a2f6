/*
 * The columns capability on PostgreSQL: NOT NULL without the long scan under ACCESS EXCLUSIVE
 * that SET NOT NULL makes on its own. A CHECK (col IS NOT NULL) is added NOT VALID, validated,
 * then SET NOT NULL finds it and skips its scan, and the CHECK is dropped. ALTER TABLE changes
 * columns in place inside the transaction, so there is no rebuild here.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "pg_columns.h"
#include "pg_engine.h"

#include "../common/mig_alloc.h"
#include "../common/mig_buf.h"
#include "../common/mig_unique.h"

/* columns.column_not_null: attnotnull of the column (the table is locked by table_describe). */
static int pg_column_not_null(void *h, const mig_table_desc *t, const char *column, bool *not_null,
                              mig_error *err)
{
    (void)h;
    AttrNumber att = get_attnum(t->relid, column);
    HeapTuple tup = att == InvalidAttrNumber
                        ? NULL
                        : SearchSysCache2(ATTNUM, ObjectIdGetDatum(t->relid), Int16GetDatum(att));
    if (!HeapTupleIsValid(tup)) {
        mig_fail(err, MIG_ERR_NOT_FOUND, "column \"%s\" does not exist in table \"%s\"", column,
                 t->name);
        strcpy(err->sqlstate, "42703");
        return err->code;
    }
    *not_null = ((Form_pg_attribute)GETSTRUCT(tup))->attnotnull;
    ReleaseSysCache(tup);
    return MIG_OK;
}

/*
 * columns.set_not_null. A partitioned table takes no NOT VALID constraint: SET NOT NULL
 * checks each partition itself there.
 */
static int pg_set_not_null(void *h, const mig_table_desc *t, const char *column, mig_error *err)
{
    (void)h;
    const char *qc = quote_identifier(column);
    mig_buf b = {0};
    if (get_rel_relkind(t->relid) == RELKIND_PARTITIONED_TABLE) {
        mig_buf_printf(&b, "ALTER TABLE %s ALTER COLUMN %s SET NOT NULL", t->qualified, qc);
    } else {
        char *base = mig_printf("%s_%s", t->table, column);
        char *name = base ? mig_quarantine_table_name(base, "_not_null") : NULL;
        mig_free(base);
        if (!name)
            return mig_fail_nomem(err);
        const char *qn = quote_identifier(name);
        mig_buf_printf(&b,
                       "ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s IS NOT NULL) NOT VALID;\n"
                       "ALTER TABLE %s VALIDATE CONSTRAINT %s;\n"
                       "ALTER TABLE %s ALTER COLUMN %s SET NOT NULL;\n"
                       "ALTER TABLE %s DROP CONSTRAINT %s",
                       t->qualified, qn, qc, t->qualified, qn, t->qualified, qc, t->qualified, qn);
        mig_free(name);
    }
    char *sql = mig_buf_take(&b);
    if (!sql)
        return mig_fail_nomem(err);
    int rc = pg_engine_run_guarded(sql, err);
    mig_free(sql);
    return rc;
}

/* The columns capability (common/mig_engine_columns.h) on PostgreSQL: no rebuild. */
const mig_engine_columns pg_columns = {
    .column_not_null = pg_column_not_null,
    .set_not_null = pg_set_not_null,
    .set_not_null_scans = true,
    .rebuild = NULL,
};
