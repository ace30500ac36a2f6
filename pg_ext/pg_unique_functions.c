/* migrate_add_unique, migrate_add_unique_script and migrate_duplicates as SQL functions. */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "pg_engine.h"

#include "../common/mig_unique.h"

PG_FUNCTION_INFO_V1(migrate_add_unique);
PG_FUNCTION_INFO_V1(migrate_duplicates);
PG_FUNCTION_INFO_V1(migrate_add_unique_script);

typedef struct unique_args {
    char *table, *columns, *index, *on_duplicate;
    char *result; /* kept in the function's context */
    ReturnSetInfo *rsinfo;
    AttInMetadata *meta;
} unique_args;

/* The arguments every unique function starts with. */
static unique_args unique_args_of(FunctionCallInfo fcinfo)
{
    unique_args a = {pg_engine_text_arg(fcinfo, 0), pg_engine_text_arg(fcinfo, 1),
                     pg_engine_text_arg(fcinfo, 2), pg_engine_text_arg(fcinfo, 3)};
    return a;
}

static int add_unique_op(const mig_engine *eng, void *arg, mig_error *err)
{
    unique_args *a = arg;
    char *result = NULL;
    int rc = mig_add_unique(eng, a->table, a->columns, a->index, a->on_duplicate, &result, err);
    a->result = pg_engine_keep(eng, result);
    return rc;
}

/*
 * migrate_add_unique(table text, columns text, index_name text DEFAULT NULL,
 * on_duplicate text DEFAULT 'fail') RETURNS text: what it did.
 */
Datum migrate_add_unique(PG_FUNCTION_ARGS)
{
    unique_args a = unique_args_of(fcinfo);
    pg_engine_write(fcinfo, add_unique_op, &a);
    PG_RETURN_TEXT_P(cstring_to_text(a.result));
}

static int duplicates_op(const mig_engine *eng, void *arg, mig_error *err)
{
    unique_args *a = arg;
    mig_dup_report report;
    int rc = mig_duplicates(eng, a->table, a->columns, &report, err);
    if (rc != MIG_OK)
        return rc;
    for (size_t i = 0; i < report.count; i++) {
        const mig_dup_group *g = &report.groups[i];
        char *values[3] = {pstrdup(g->key), psprintf("%lld", g->count), pstrdup(g->rows)};
        tuplestore_puttuple(a->rsinfo->setResult, BuildTupleFromCStrings(a->meta, values));
    }
    mig_dup_report_free(&report);
    return MIG_OK;
}

/* migrate_duplicates(table text, columns text) RETURNS TABLE (key text, count bigint, rows text) */
Datum migrate_duplicates(PG_FUNCTION_ARGS)
{
    unique_args a = unique_args_of(fcinfo);
    a.rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
    InitMaterializedSRF(fcinfo, 0);
    a.meta = TupleDescGetAttInMetadata(a.rsinfo->setDesc);
    pg_engine_call(fcinfo, duplicates_op, &a);
    return (Datum)0;
}

static int unique_script_op(const mig_engine *eng, void *arg, mig_error *err)
{
    unique_args *a = arg;
    char **steps = NULL;
    int nsteps = 0;
    int rc = mig_add_unique_steps(eng, a->table, a->columns, a->index, &steps, &nsteps, err);
    for (int i = 0; rc == MIG_OK && i < nsteps; i++) {
        char *values[2] = {psprintf("%d", i + 1), pstrdup(steps[i])};
        tuplestore_puttuple(a->rsinfo->setResult, BuildTupleFromCStrings(a->meta, values));
    }
    mig_unique_columns_free(steps, nsteps);
    return rc;
}

/*
 * migrate_add_unique_script(table text, columns text, index_name text DEFAULT NULL)
 * RETURNS TABLE (seq integer, statement text): the steps that add the unique constraint with
 * CREATE UNIQUE INDEX CONCURRENTLY, for psql's \gexec; the function itself builds nothing,
 * since CONCURRENTLY cannot run inside a function's transaction.
 */
Datum migrate_add_unique_script(PG_FUNCTION_ARGS)
{
    unique_args a = unique_args_of(fcinfo);
    a.rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
    InitMaterializedSRF(fcinfo, 0);
    a.meta = TupleDescGetAttInMetadata(a.rsinfo->setDesc);
    pg_engine_call(fcinfo, unique_script_op, &a);
    return (Datum)0;
}
