/* The SQL-callable functions: migrate_apply, migrate_plan, migrations_status. */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "pg_engine.h"

#include "../common/mig_alloc.h"
#include "../common/mig_messages.h"
#include "../common/mig_export.h"
#include "../common/mig_record.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(migrate_apply);
PG_FUNCTION_INFO_V1(migrate_to);
PG_FUNCTION_INFO_V1(migrate_rollback);
PG_FUNCTION_INFO_V1(migrate_plan);
PG_FUNCTION_INFO_V1(migrations_status);
PG_FUNCTION_INFO_V1(migrate_validate);
PG_FUNCTION_INFO_V1(migrate_repair);
PG_FUNCTION_INFO_V1(migrate_baseline);
PG_FUNCTION_INFO_V1(migrate_script);
PG_FUNCTION_INFO_V1(migrate_init);

void _PG_init(void);

/* migrate.out_of_order and migrate.missing: the settings SQLite sets with migrate_set(). */
static int out_of_order_setting = 0;
static int missing_setting = 0;

static const struct config_enum_entry out_of_order_options[] = {
    {"error", 0, false}, {"allow", 1, false}, {NULL, 0, false}};
static const struct config_enum_entry missing_options[] = {
    {"error", 0, false}, {"ignore", 1, false}, {NULL, 0, false}};

/* Define the settings when the library loads. */
void _PG_init(void)
{
    DefineCustomEnumVariable("migrate.out_of_order",
                             "What migrate does with pending migrations older than the newest "
                             "applied one: error (refuse) or allow (apply them in version order).",
                             NULL, &out_of_order_setting, 0, out_of_order_options, PGC_USERSET, 0,
                             NULL, NULL, NULL);
    DefineCustomEnumVariable("migrate.missing",
                             "What migrate does with applied migrations whose file is gone: "
                             "error (refuse) or ignore.",
                             NULL, &missing_setting, 0, missing_options, PGC_USERSET, 0, NULL, NULL,
                             NULL);
    MarkGUCPrefixReserved("migrate");
}

/* The policy the settings describe now. */
static mig_policy current_policy(void)
{
    mig_policy policy = {out_of_order_setting == 1, missing_setting == 1};
    return policy;
}

/* Text argument i as a C string, or NULL when SQL NULL or absent. */
static char *text_arg(FunctionCallInfo fcinfo, int i)
{
    if (PG_NARGS() <= i || PG_ARGISNULL(i))
        return NULL;
    return text_to_cstring(PG_GETARG_TEXT_PP(i));
}

/*
 * The migrations folder argument: a folder is read only by those who may read server files;
 * NULL means the migrate_scripts table, which table privileges guard.
 */
static char *folder_arg(FunctionCallInfo fcinfo, const char *function)
{
    char *dir = text_arg(fcinfo, 0);
    if (dir)
        pg_engine_check_file_access(function);
    return dir;
}

/* A NULL for absent text, otherwise a copy for BuildTupleFromCStrings. */
static char *cell(const char *s)
{
    return s ? pstrdup(s) : NULL;
}

/* Run an apply / to / rollback call inside the caller's transaction; an ERROR undoes it all. */
static int32 run_call(FunctionCallInfo fcinfo, const char *dir, mig_call *call)
{
    pg_engine pe;
    mig_engine eng;
    mig_error err;
    int count = 0;
    call->policy = current_policy();
    SPI_connect();
    pg_engine_begin(&pe, &eng, fcinfo->flinfo->fn_oid);
    mig_error_init(&err);
    int rc = MIG_OK;
    PG_ENGINE_GUARD(&pe, rc = mig_run(&eng, dir, call, &count, &err));
    if (rc != MIG_OK)
        pg_engine_raise(&err);
    SPI_finish();
    return count;
}

/* migrate_apply(dir text, target text DEFAULT NULL) RETURNS integer: apply pending migrations. */
Datum migrate_apply(PG_FUNCTION_ARGS)
{
    char *dir = folder_arg(fcinfo, "migrate_apply");
    mig_call call = {MIG_PLAN_APPLY, text_arg(fcinfo, 1), 0, {false, false}};
    PG_RETURN_INT32(run_call(fcinfo, dir, &call));
}

/* migrate_to(dir text, version text) RETURNS integer: apply or revert to exactly version. */
Datum migrate_to(PG_FUNCTION_ARGS)
{
    char *dir = folder_arg(fcinfo, "migrate_to");
    mig_call call = {MIG_PLAN_TO, text_arg(fcinfo, 1), 0, {false, false}};
    if (!call.target)
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("migrate_to needs a target version")));
    PG_RETURN_INT32(run_call(fcinfo, dir, &call));
}

/* migrate_rollback(dir text, steps integer DEFAULT 1) RETURNS integer: revert the newest. */
Datum migrate_rollback(PG_FUNCTION_ARGS)
{
    char *dir = folder_arg(fcinfo, "migrate_rollback");
    int32 steps = PG_NARGS() > 1 && !PG_ARGISNULL(1) ? PG_GETARG_INT32(1) : 1;
    mig_call call = {MIG_PLAN_ROLLBACK, NULL, steps, {false, false}};
    if (steps < 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("migrate_rollback: steps must be a whole number, 0 or more")));
    PG_RETURN_INT32(run_call(fcinfo, dir, &call));
}

/* migrate_validate(dir text) RETURNS text: 'ok', or one ERROR listing every problem. */
Datum migrate_validate(PG_FUNCTION_ARGS)
{
    char *dir = folder_arg(fcinfo, "migrate_validate");
    pg_engine pe;
    mig_engine eng;
    mig_error err;
    mig_policy policy = current_policy();
    SPI_connect();
    pg_engine_begin(&pe, &eng, fcinfo->flinfo->fn_oid);
    mig_error_init(&err);
    int rc = MIG_OK;
    PG_ENGINE_GUARD(&pe, rc = mig_validate(&eng, dir, &policy, &err));
    if (rc != MIG_OK)
        pg_engine_raise(&err);
    SPI_finish();
    PG_RETURN_TEXT_P(cstring_to_text("ok"));
}

/* migrate_repair(dir text) RETURNS text: fix the record, never run migration SQL. */
Datum migrate_repair(PG_FUNCTION_ARGS)
{
    char *dir = folder_arg(fcinfo, "migrate_repair");
    pg_engine pe;
    mig_engine eng;
    mig_error err;
    char *summary = NULL;
    text *result;
    MemoryContext caller = CurrentMemoryContext;
    SPI_connect();
    pg_engine_begin(&pe, &eng, fcinfo->flinfo->fn_oid);
    mig_error_init(&err);
    int rc = MIG_OK;
    PG_ENGINE_GUARD(&pe, rc = mig_repair(&eng, dir, &summary, &err));
    if (rc != MIG_OK)
        pg_engine_raise(&err);
    /* the result must outlive SPI_finish, which frees everything allocated since SPI_connect */
    MemoryContext spi = MemoryContextSwitchTo(caller);
    result = cstring_to_text(summary);
    MemoryContextSwitchTo(spi);
    SPI_finish();
    PG_RETURN_TEXT_P(result);
}

/* migrate_baseline(version text, name text DEFAULT NULL) RETURNS text: mark the starting point. */
Datum migrate_baseline(PG_FUNCTION_ARGS)
{
    char *version = text_arg(fcinfo, 0);
    char *name = text_arg(fcinfo, 1);
    pg_engine pe;
    mig_engine eng;
    mig_error err;
    if (!version)
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("migrate_baseline needs a version")));
    SPI_connect();
    pg_engine_begin(&pe, &eng, fcinfo->flinfo->fn_oid);
    mig_error_init(&err);
    int rc = MIG_OK;
    PG_ENGINE_GUARD(&pe, rc = mig_baseline(&eng, version, name, &err));
    if (rc != MIG_OK)
        pg_engine_raise(&err);
    SPI_finish();
    PG_RETURN_TEXT_P(cstring_to_text(version));
}

/* Emit the plan's steps: step, direction, version, name, script. */
static void emit_plan(ReturnSetInfo *rsinfo, AttInMetadata *meta, const mig_snapshot *snap)
{
    for (size_t i = 0; i < snap->plan.count; i++) {
        const mig_step *s = &snap->plan.steps[i];
        char *values[5] = {psprintf("%zu", i + 1), cell(s->direction), cell(s->row->version),
                           cell(s->row->name), cell(s->script)};
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

/*
 * Load a snapshot (status, or plan when plan is set) and return it as a set. with_source:
 * compare dir (NULL: migrate_scripts) with history; otherwise history alone.
 */
static Datum snapshot_srf(FunctionCallInfo fcinfo, const char *dir, bool with_source,
                          const char *target, bool plan)
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
    mig_call call = {target ? MIG_PLAN_TO : MIG_PLAN_APPLY, target, 0, current_policy()};
    int rc = MIG_OK;
    PG_ENGINE_GUARD(&pe, rc = plan          ? mig_plan_load_call(&eng, dir, &call, &snap, &err)
                              : with_source ? mig_snapshot_load_source(&eng, dir, &snap, &err)
                                            : mig_snapshot_load(&eng, NULL, &snap, &err));
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
    return snapshot_srf(fcinfo, dir, true, text_arg(fcinfo, 1), true);
}

/*
 * migrations_status(dir text) compares a folder (NULL: migrate_scripts) with history;
 * migrations_status() reads history alone.
 */
Datum migrations_status(PG_FUNCTION_ARGS)
{
    char *dir = PG_NARGS() > 0 ? folder_arg(fcinfo, "migrations_status") : NULL;
    return snapshot_srf(fcinfo, dir, PG_NARGS() > 0, NULL, false);
}

/*
 * migrate_script(dir text, target text DEFAULT NULL) RETURNS TABLE (seq, statement): the
 * pending work as statements for psql's \gexec, which runs them at top level.
 */
Datum migrate_script(PG_FUNCTION_ARGS)
{
    char *dir = folder_arg(fcinfo, "migrate_script");
    char *target = text_arg(fcinfo, 1);
    ReturnSetInfo *rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
    InitMaterializedSRF(fcinfo, 0);
    AttInMetadata *meta = TupleDescGetAttInMetadata(rsinfo->setDesc);
    pg_engine pe;
    mig_engine eng;
    mig_error err;
    mig_sql_lines lines;
    mig_policy policy = current_policy();
    SPI_connect();
    pg_engine_begin(&pe, &eng, fcinfo->flinfo->fn_oid);
    mig_error_init(&err);
    int rc = MIG_OK;
    PG_ENGINE_GUARD(&pe, rc = mig_export(&eng, dir, target, &policy, &lines, &err));
    if (rc != MIG_OK)
        pg_engine_raise(&err);
    for (size_t i = 0; i < lines.count; i++) {
        char *values[2] = {psprintf("%zu", i + 1), pstrdup(lines.lines[i])};
        tuplestore_puttuple(rsinfo->setResult, BuildTupleFromCStrings(meta, values));
    }
    mig_sql_lines_free(&lines);
    SPI_finish();
    return (Datum)0;
}

/* migrate_init() RETURNS text: CREATE EXTENSION made the tables; kept for SQLite's surface. */
Datum migrate_init(PG_FUNCTION_ARGS)
{
    PG_RETURN_TEXT_P(cstring_to_text("ok"));
}
