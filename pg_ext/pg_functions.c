/* The SQL-callable functions: migrate_apply, migrate_plan, migrations_status. */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "pg_engine.h"

#include "../common/mig_alloc.h"
#include "../common/mig_messages.h"
#include "../common/mig_run.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(migrate_apply);
PG_FUNCTION_INFO_V1(migrate_plan);
PG_FUNCTION_INFO_V1(migrations_status);

/* Text argument i as a C string, or NULL when SQL NULL or absent. */
static char *text_arg(FunctionCallInfo fcinfo, int i)
{
    if (PG_NARGS() <= i || PG_ARGISNULL(i))
        return NULL;
    return text_to_cstring(PG_GETARG_TEXT_PP(i));
}

/* The migrations folder argument: required, and readable only by those who may read files. */
static char *folder_arg(FunctionCallInfo fcinfo, const char *function)
{
    char *dir = text_arg(fcinfo, 0);
    if (!dir)
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg(MIG_MSG_NEEDS_FOLDER, function)));
    pg_engine_check_file_access(function);
    return dir;
}

/* A NULL for absent text, otherwise a copy for BuildTupleFromCStrings. */
static char *cell(const char *s)
{
    return s ? pstrdup(s) : NULL;
}

/*
 * migrate_apply(dir text, target text DEFAULT NULL) RETURNS integer: apply pending migrations
 * inside the caller's transaction; an ERROR undoes everything the call did.
 */
Datum migrate_apply(PG_FUNCTION_ARGS)
{
    char *dir = folder_arg(fcinfo, "migrate_apply");
    char *target = text_arg(fcinfo, 1);
    pg_engine pe;
    mig_engine eng;
    mig_error err;
    int applied = 0;
    SPI_connect();
    pg_engine_begin(&pe, &eng, fcinfo->flinfo->fn_oid);
    mig_error_init(&err);
    if (mig_apply(&eng, dir, target, &applied, &err) != MIG_OK)
        pg_engine_raise(&err);
    SPI_finish();
    PG_RETURN_INT32(applied);
}

/* Emit the plan's steps: step, direction, version, name, script. */
static void emit_plan(ReturnSetInfo *rsinfo, AttInMetadata *meta, const mig_snapshot *snap)
{
    for (size_t i = 0; i < snap->plan.count; i++) {
        const mig_step *s = &snap->plan.steps[i];
        char *values[5] = {psprintf("%zu", i + 1), cell(s->direction), cell(s->row->version),
                           cell(s->row->name), cell(s->row->script)};
        tuplestore_puttuple(rsinfo->setResult, BuildTupleFromCStrings(meta, values));
    }
}

/* Emit status rows in the column order both engines share. */
static void emit_status(ReturnSetInfo *rsinfo, AttInMetadata *meta, const mig_snapshot *snap)
{
    for (size_t i = 0; i < snap->status.count; i++) {
        const mig_status_row *r = &snap->status.rows[i];
        char *values[9] = {cell(r->version),
                           cell(r->name),
                           cell(mig_state_name(r->state)),
                           cell(r->script),
                           cell(r->checksum),
                           cell(r->applied_checksum),
                           cell(r->applied_at),
                           cell(r->applied_by),
                           r->has_execution_ms ? psprintf("%lld", r->execution_ms) : NULL};
        tuplestore_puttuple(rsinfo->setResult, BuildTupleFromCStrings(meta, values));
    }
}

/* Load a snapshot (status, or plan when plan is set) and return it as a set. */
static Datum snapshot_srf(FunctionCallInfo fcinfo, const char *dir, const char *target, bool plan)
{
    ReturnSetInfo *rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
    InitMaterializedSRF(fcinfo, 0);
    AttInMetadata *meta = TupleDescGetAttInMetadata(rsinfo->setDesc);
    pg_engine pe;
    mig_engine eng;
    mig_error err;
    mig_snapshot snap;
    SPI_connect();
    pg_engine_begin(&pe, &eng, fcinfo->flinfo->fn_oid);
    mig_error_init(&err);
    int rc = plan ? mig_plan_load(&eng, dir, target, &snap, &err)
                  : mig_snapshot_load(&eng, dir, &snap, &err);
    if (rc != MIG_OK)
        pg_engine_raise(&err);
    if (plan)
        emit_plan(rsinfo, meta, &snap);
    else
        emit_status(rsinfo, meta, &snap);
    mig_snapshot_free(&snap);
    SPI_finish();
    return (Datum)0;
}

/* migrate_plan(dir text, target text DEFAULT NULL): the steps migrate_apply would run. */
Datum migrate_plan(PG_FUNCTION_ARGS)
{
    char *dir = folder_arg(fcinfo, "migrate_plan");
    return snapshot_srf(fcinfo, dir, text_arg(fcinfo, 1), true);
}

/* migrations_status(dir text) compares folder and history; migrations_status() reads history. */
Datum migrations_status(PG_FUNCTION_ARGS)
{
    char *dir = PG_NARGS() > 0 ? folder_arg(fcinfo, "migrations_status") : NULL;
    return snapshot_srf(fcinfo, dir, NULL, false);
}
