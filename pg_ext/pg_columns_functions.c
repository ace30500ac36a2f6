/* migrate_set_not_null, migrate_add_column and migrate_nulls as SQL functions. */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "pg_engine.h"

#include "../common/mig_columns.h"

PG_FUNCTION_INFO_V1(migrate_set_not_null);
PG_FUNCTION_INFO_V1(migrate_nulls);
PG_FUNCTION_INFO_V1(migrate_add_column);

typedef struct columns_args {
    char *table, *column, *fill, *on_null;
    char *type, *default_sql; /* migrate_add_column's */
    char *result;             /* kept in the function's context */
    ReturnSetInfo *rsinfo;
    AttInMetadata *meta;
} columns_args;

/* The arguments, in order. */
static columns_args columns_args_of(FunctionCallInfo fcinfo)
{
    columns_args a = {pg_engine_text_arg(fcinfo, 0), pg_engine_text_arg(fcinfo, 1),
                      pg_engine_text_arg(fcinfo, 2), pg_engine_text_arg(fcinfo, 3)};
    return a;
}

static int set_not_null_op(const mig_engine *eng, void *arg, mig_error *err)
{
    columns_args *a = arg;
    char *result = NULL;
    int rc = mig_set_not_null(eng, a->table, a->column, a->fill, a->on_null, &result, err);
    a->result = pg_engine_keep(eng, result);
    return rc;
}

/*
 * migrate_set_not_null(table text, "column" text, fill text DEFAULT NULL,
 * on_null text DEFAULT 'fail') RETURNS text: what it did.
 */
Datum migrate_set_not_null(PG_FUNCTION_ARGS)
{
    columns_args a = columns_args_of(fcinfo);
    pg_engine_write(fcinfo, set_not_null_op, &a);
    PG_RETURN_TEXT_P(cstring_to_text(a.result));
}

static int add_column_op(const mig_engine *eng, void *arg, mig_error *err)
{
    columns_args *a = arg;
    char *result = NULL;
    int rc =
        mig_add_column(eng, a->table, a->column, a->type, a->fill, a->default_sql, &result, err);
    a->result = pg_engine_keep(eng, result);
    return rc;
}

/*
 * migrate_add_column(table text, "column" text, type text, fill text DEFAULT NULL,
 * "default" text DEFAULT NULL) RETURNS text: what it did.
 */
Datum migrate_add_column(PG_FUNCTION_ARGS)
{
    columns_args a = {pg_engine_text_arg(fcinfo, 0), pg_engine_text_arg(fcinfo, 1),
                      .type = pg_engine_text_arg(fcinfo, 2), .fill = pg_engine_text_arg(fcinfo, 3),
                      .default_sql = pg_engine_text_arg(fcinfo, 4)};
    pg_engine_write(fcinfo, add_column_op, &a);
    PG_RETURN_TEXT_P(cstring_to_text(a.result));
}

static int nulls_op(const mig_engine *eng, void *arg, mig_error *err)
{
    columns_args *a = arg;
    mig_null_report report;
    int rc = mig_nulls(eng, a->table, a->column, &report, err);
    if (rc != MIG_OK)
        return rc;
    char *total = psprintf("%zu", report.count);
    for (size_t i = 0; i < report.count; i++) {
        char *values[2] = {pstrdup(report.rows[i]), total};
        tuplestore_puttuple(a->rsinfo->setResult, BuildTupleFromCStrings(a->meta, values));
    }
    mig_null_report_free(&report);
    return MIG_OK;
}

/* migrate_nulls(table text, "column" text) RETURNS TABLE (row_identity text, total bigint) */
Datum migrate_nulls(PG_FUNCTION_ARGS)
{
    columns_args a = columns_args_of(fcinfo);
    a.rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
    InitMaterializedSRF(fcinfo, 0);
    a.meta = TupleDescGetAttInMetadata(a.rsinfo->setDesc);
    pg_engine_call(fcinfo, nulls_op, &a);
    return (Datum)0;
}
