/* migrate_schema and migrate_drift as SQL functions. */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "pg_engine.h"

#include "../common/mig_alloc.h"
#include "../common/mig_drift.h"

PG_FUNCTION_INFO_V1(migrate_schema);
PG_FUNCTION_INFO_V1(migrate_drift);

typedef struct drift_args {
    char *text; /* migrate_schema's result, kept in the function's context */
    ReturnSetInfo *rsinfo;
    AttInMetadata *meta;
} drift_args;

/* The description of the live schema. */
static int schema_op(const mig_engine *eng, void *arg, mig_error *err)
{
    drift_args *a = arg;
    char *text = NULL;
    int rc = mig_schema(eng, &text, err);
    a->text = pg_engine_keep(eng, text);
    mig_free(text);
    return rc;
}

/* migrate_schema() RETURNS text: the canonical description of the database's schema. */
Datum migrate_schema(PG_FUNCTION_ARGS)
{
    drift_args a = {0};
    pg_engine_call(fcinfo, schema_op, &a);
    PG_RETURN_TEXT_P(cstring_to_text(a.text));
}

/* A copy for BuildTupleFromCStrings, NULL staying NULL. */
static char *cell(const char *s)
{
    return s ? pstrdup(s) : NULL;
}

/* Every object that differs from what migrate recorded, into the set. */
static int drift_op(const mig_engine *eng, void *arg, mig_error *err)
{
    drift_args *a = arg;
    mig_drift d;
    int rc = mig_drift_list(eng, &d, err);
    if (rc != MIG_OK)
        return rc;
    for (size_t i = 0; i < d.count; i++) {
        const mig_drift_row *r = &d.rows[i];
        char *values[5] = {cell(r->kind), cell(r->name), cell(r->change), cell(r->recorded),
                           cell(r->live)};
        tuplestore_puttuple(a->rsinfo->setResult, BuildTupleFromCStrings(a->meta, values));
    }
    mig_drift_free(&d);
    return MIG_OK;
}

/*
 * migrate_drift() RETURNS TABLE (kind, name, change, recorded, live): the objects the live
 * schema has added, removed or changed since migrate's last call recorded it; empty in sync.
 */
Datum migrate_drift(PG_FUNCTION_ARGS)
{
    drift_args a = {0};
    a.rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
    InitMaterializedSRF(fcinfo, 0);
    a.meta = TupleDescGetAttInMetadata(a.rsinfo->setDesc);
    pg_engine_call(fcinfo, drift_op, &a);
    return (Datum)0;
}
