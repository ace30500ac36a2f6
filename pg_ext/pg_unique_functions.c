/* migrate_add_unique and migrate_duplicates as SQL functions. */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "pg_engine.h"

#include "../common/mig_unique.h"

PG_FUNCTION_INFO_V1(migrate_add_unique);
PG_FUNCTION_INFO_V1(migrate_duplicates);

/* Text argument i as a C string, or NULL. */
static char *optional_text(FunctionCallInfo fcinfo, int i)
{
    return PG_NARGS() > i && !PG_ARGISNULL(i) ? text_to_cstring(PG_GETARG_TEXT_PP(i)) : NULL;
}

/*
 * migrate_add_unique(table text, columns text, index_name text DEFAULT NULL,
 * on_duplicate text DEFAULT 'fail') RETURNS text: what it did.
 */
Datum migrate_add_unique(PG_FUNCTION_ARGS)
{
    char *table = optional_text(fcinfo, 0);
    char *columns = optional_text(fcinfo, 1);
    char *index = optional_text(fcinfo, 2);
    char *on_duplicate = optional_text(fcinfo, 3);
    MemoryContext caller = CurrentMemoryContext;
    pg_engine pe;
    mig_engine eng;
    mig_error err;
    char *result = NULL;
    SPI_connect();
    pg_engine_begin(&pe, &eng, fcinfo->flinfo->fn_oid);
    mig_error_init(&err);
    int rc = MIG_OK;
    PG_ENGINE_GUARD(&pe,
                    rc = mig_add_unique(&eng, table, columns, index, on_duplicate, &result, &err));
    if (rc != MIG_OK)
        pg_engine_raise(&err);
    MemoryContext spi = MemoryContextSwitchTo(caller); /* must outlive SPI_finish */
    text *out = cstring_to_text(result);
    MemoryContextSwitchTo(spi);
    SPI_finish();
    PG_RETURN_TEXT_P(out);
}

/* migrate_duplicates(table text, columns text) RETURNS TABLE (key text, count bigint, rows text) */
Datum migrate_duplicates(PG_FUNCTION_ARGS)
{
    char *table = optional_text(fcinfo, 0);
    char *columns = optional_text(fcinfo, 1);
    ReturnSetInfo *rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
    InitMaterializedSRF(fcinfo, 0);
    AttInMetadata *meta = TupleDescGetAttInMetadata(rsinfo->setDesc);
    pg_engine pe;
    mig_engine eng;
    mig_error err;
    mig_dup_report report;
    SPI_connect();
    pg_engine_begin(&pe, &eng, fcinfo->flinfo->fn_oid);
    mig_error_init(&err);
    int rc = MIG_OK;
    PG_ENGINE_GUARD(&pe, rc = mig_duplicates(&eng, table, columns, &report, &err));
    if (rc != MIG_OK)
        pg_engine_raise(&err);
    for (size_t i = 0; i < report.count; i++) {
        const mig_dup_group *g = &report.groups[i];
        char *values[3] = {pstrdup(g->key), psprintf("%lld", g->count), pstrdup(g->rows)};
        tuplestore_puttuple(rsinfo->setResult, BuildTupleFromCStrings(meta, values));
    }
    mig_dup_report_free(&report);
    SPI_finish();
    return (Datum)0;
}
