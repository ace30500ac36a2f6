/* The SQL-callable functions of the migration lifecycle, and the settings. */
#include "postgres.h"

#include "commands/event_trigger.h"
#include "fmgr.h"
#include "funcapi.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "pg_engine_internal.h"
#include "pg_functions.h"

#include "../common/mig_alloc.h"
#include "../common/mig_drift.h"
#include "../common/mig_export.h"
#include "../common/mig_help.h"
#include "../common/mig_history.h"
#include "../common/mig_new.h"
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
PG_FUNCTION_INFO_V1(migrate_guard_drop);
PG_FUNCTION_INFO_V1(migrate_record);
PG_FUNCTION_INFO_V1(migrate_version);
PG_FUNCTION_INFO_V1(migrate_new);
PG_FUNCTION_INFO_V1(migrate_help);

void _PG_init(void);

/* migrate.out_of_order, migrate.missing: the settings SQLite sets with migrate_set(). */
static int out_of_order_setting = 0;
static int missing_setting = 0;
/* migrate.drift: what apply, migrate_to and rollback do when the schema drifted (mig_drift.h). */
static int drift_setting = MIG_DRIFT_WARN;
/* migrate.drop_history: whether DROP EXTENSION may drop a history of applied migrations. */
static int drop_history_setting = 0;

static const struct config_enum_entry out_of_order_options[] = {
    {"error", 0, false}, {"allow", 1, false}, {NULL, 0, false}};
static const struct config_enum_entry missing_options[] = {
    {"error", 0, false}, {"ignore", 1, false}, {NULL, 0, false}};
static const struct config_enum_entry drift_options[] = {{"error", MIG_DRIFT_ERROR, false},
                                                         {"warn", MIG_DRIFT_WARN, false},
                                                         {"ignore", MIG_DRIFT_IGNORE, false},
                                                         {NULL, 0, false}};
static const struct config_enum_entry drop_history_options[] = {
    {"error", 0, false}, {"allow", 1, false}, {NULL, 0, false}};

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
    DefineCustomEnumVariable("migrate.drift",
                             "What apply, migrate_to and migrate_rollback do when the schema was "
                             "changed outside migrate: error (refuse), warn (a NOTICE) or ignore.",
                             NULL, &drift_setting, MIG_DRIFT_WARN, drift_options, PGC_USERSET, 0,
                             NULL, NULL, NULL);
    DefineCustomEnumVariable("migrate.drop_history",
                             "Whether DROP EXTENSION migrate may drop a history that records "
                             "applied migrations: error (refuse) or allow.",
                             NULL, &drop_history_setting, 0, drop_history_options, PGC_USERSET, 0,
                             NULL, NULL, NULL);
    DefineCustomIntVariable("migrate.lock_timeout",
                            "How long each statement of a migration may wait for a lock before "
                            "the call is rolled back (0: wait as lock_timeout says).",
                            "Does not apply to the migration lock migrate takes itself.",
                            &pg_lock_policy.timeout_ms, 0, 0, INT_MAX, PGC_USERSET, GUC_UNIT_MS,
                            NULL, NULL, NULL);
    DefineCustomIntVariable("migrate.lock_retries",
                            "How many times a call whose statement timed out on a lock "
                            "(migrate.lock_timeout) runs again from its start.",
                            NULL, &pg_lock_policy.retries, 0, 0, 1000, PGC_USERSET, 0, NULL, NULL,
                            NULL);
    DefineCustomIntVariable("migrate.lock_retry_delay",
                            "How long a call waits before it runs again after a lock timeout "
                            "(with up to a quarter more or less at random).",
                            NULL, &pg_lock_policy.retry_delay_ms, 1000, 0, 3600000, PGC_USERSET,
                            GUC_UNIT_MS, NULL, NULL, NULL);
    pg_check_define_settings();
    MarkGUCPrefixReserved("migrate");
}

/* The policy the settings describe now. */
static mig_policy current_policy(void)
{
    mig_policy policy = {out_of_order_setting == 1, missing_setting == 1, drift_setting};
    return policy;
}

/* The policy the settings describe now, for pg_check.c. */
mig_policy pg_engine_policy(void)
{
    return current_policy();
}

/*
 * The call's source, from its migrations folder argument: a folder is read only by those who
 * may read server files; NULL means the migrate_scripts table, which table privileges guard.
 */
mig_source pg_source_arg(FunctionCallInfo fcinfo, const char *function)
{
    char *dir = pg_engine_text_arg(fcinfo, 0);
    if (dir)
        pg_engine_check_file_access(function);
    return mig_source_of_folder_arg(dir);
}

/* A NULL for absent text, otherwise a copy for BuildTupleFromCStrings. */
static char *cell(const char *s)
{
    return s ? pstrdup(s) : NULL;
}

/* What one call is asked, and what it answers. */
typedef struct call_args {
    mig_source src; /* decided once from the arguments */
    mig_call call;
    int count;           /* migrations run */
    const char *version; /* migrate_baseline */
    const char *name;
    char *text;  /* a text result, kept in the function's context */
    bool status; /* migrations_status rather than migrate_plan */
    ReturnSetInfo *rsinfo;
    AttInMetadata *meta;
} call_args;

/* apply, to, rollback */
static int run_op(const mig_engine *eng, void *arg, mig_error *err)
{
    call_args *a = arg;
    return mig_run(eng, &a->src, &a->call, &a->count, err);
}

/* Run an apply / to / rollback call inside the caller's transaction; returns how many ran. */
int pg_run_call(FunctionCallInfo fcinfo, mig_source src, mig_call call)
{
    call_args a = {.src = src, .call = call};
    a.call.policy = current_policy();
    pg_engine_write(fcinfo, run_op, &a);
    return a.count;
}

/* run_call as an SQL function's result; an ERROR undoes it all. */
static Datum run_call(FunctionCallInfo fcinfo, mig_source src, mig_call call)
{
    PG_RETURN_INT32(pg_run_call(fcinfo, src, call));
}

/*
 * migrate_apply(dir text, target text DEFAULT NULL, count integer DEFAULT NULL) RETURNS integer:
 * apply pending migrations (up to target, at most count of them).
 */
Datum migrate_apply(PG_FUNCTION_ARGS)
{
    mig_source src = pg_source_arg(fcinfo, "migrate_apply");
    long count = PG_NARGS() > 2 && !PG_ARGISNULL(2) ? PG_GETARG_INT32(2) : MIG_STEPS_ALL;
    mig_call call = {MIG_PLAN_APPLY, pg_engine_text_arg(fcinfo, 1), count, {false, false, 0}};
    return run_call(fcinfo, src, call);
}

/* migrate_to(dir text, version text) RETURNS integer: apply or revert to exactly version. */
Datum migrate_to(PG_FUNCTION_ARGS)
{
    mig_source src = pg_source_arg(fcinfo, "migrate_to");
    mig_call call = {MIG_PLAN_TO, pg_engine_text_arg(fcinfo, 1), 0, {false, false, 0}};
    return run_call(fcinfo, src, call);
}

/* migrate_rollback(dir text, steps integer DEFAULT 1) RETURNS integer: revert the newest. */
Datum migrate_rollback(PG_FUNCTION_ARGS)
{
    mig_source src = pg_source_arg(fcinfo, "migrate_rollback");
    int32 steps = PG_NARGS() > 1 && !PG_ARGISNULL(1) ? PG_GETARG_INT32(1) : 1;
    mig_call call = {MIG_PLAN_ROLLBACK, NULL, steps, {false, false, 0}};
    return run_call(fcinfo, src, call);
}

/* validate: 'ok' or the error listing every problem. */
static int validate_op(const mig_engine *eng, void *arg, mig_error *err)
{
    call_args *a = arg;
    a->text = pg_engine_keep(eng, "ok");
    return mig_validate(eng, &a->src, &a->call.policy, err);
}

/* migrate_validate(dir text) RETURNS text: 'ok', or one ERROR listing every problem. */
Datum migrate_validate(PG_FUNCTION_ARGS)
{
    call_args a = {.src = pg_source_arg(fcinfo, "migrate_validate")};
    a.call.policy = current_policy();
    pg_engine_call(fcinfo, validate_op, &a);
    PG_RETURN_TEXT_P(cstring_to_text(a.text));
}

/* repair: a summary of what changed. */
static int repair_op(const mig_engine *eng, void *arg, mig_error *err)
{
    call_args *a = arg;
    char *summary = NULL;
    int rc = mig_repair(eng, &a->src, &summary, err);
    a->text = pg_engine_keep(eng, summary);
    return rc;
}

/* migrate_repair(dir text) RETURNS text: fix the record, never run migration SQL. */
Datum migrate_repair(PG_FUNCTION_ARGS)
{
    call_args a = {.src = pg_source_arg(fcinfo, "migrate_repair")};
    pg_engine_write(fcinfo, repair_op, &a);
    PG_RETURN_TEXT_P(cstring_to_text(a.text));
}

/* baseline */
static int baseline_op(const mig_engine *eng, void *arg, mig_error *err)
{
    call_args *a = arg;
    return mig_baseline(eng, a->version, a->name, err);
}

/* migrate_baseline(version text, name text DEFAULT NULL) RETURNS text: mark the starting point. */
Datum migrate_baseline(PG_FUNCTION_ARGS)
{
    call_args a = {.version = pg_engine_text_arg(fcinfo, 0), .name = pg_engine_text_arg(fcinfo, 1)};
    pg_engine_write(fcinfo, baseline_op, &a);
    PG_RETURN_TEXT_P(cstring_to_text(a.version));
}

/* A text Datum of s, or a NULL. */
static Datum text_cell(const char *s, bool *isnull)
{
    *isnull = s == NULL;
    return s ? PointerGetDatum(cstring_to_text(s)) : (Datum)0;
}

/*
 * The status rows into the set, each value made straight from the core's row: text as it is,
 * execution_ms as the number, applied_at through timestamptz's input function (looked up once,
 * in a->meta); one row's memory freed before the next, and the row formed once, in the
 * tuplestore.
 */
static void put_status_rows(call_args *a, const mig_status *status)
{
    MemoryContext rowcxt =
        AllocSetContextCreate(CurrentMemoryContext, "migrate status row", ALLOCSET_DEFAULT_SIZES);
    MemoryContext old = MemoryContextSwitchTo(rowcxt);
    for (size_t i = 0; i < status->count; i++) {
        const mig_status_row *r = &status->rows[i];
        Datum values[9];
        bool nulls[9];
        values[0] = text_cell(r->version, &nulls[0]);
        values[1] = text_cell(r->name, &nulls[1]);
        values[2] = text_cell(mig_state_name(r->state), &nulls[2]);
        values[3] = text_cell(r->script, &nulls[3]);
        values[4] = text_cell(r->checksum, &nulls[4]);
        values[5] = text_cell(r->applied_checksum, &nulls[5]);
        nulls[6] = r->applied_at == NULL;
        values[6] = nulls[6] ? (Datum)0
                             : InputFunctionCall(&a->meta->attinfuncs[6], (char *)r->applied_at,
                                                 a->meta->attioparams[6], a->meta->atttypmods[6]);
        values[7] = text_cell(r->applied_by, &nulls[7]);
        nulls[8] = !r->has_execution_ms;
        values[8] = Int64GetDatum(r->has_execution_ms ? r->execution_ms : 0);
        tuplestore_putvalues(a->rsinfo->setResult, a->rsinfo->setDesc, values, nulls);
        MemoryContextReset(rowcxt);
    }
    MemoryContextSwitchTo(old);
    MemoryContextDelete(rowcxt);
}

/* Plan or status into the set: the rows the SQLite adapter's table-valued functions return. */
static int snapshot_op(const mig_engine *eng, void *arg, mig_error *err)
{
    call_args *a = arg;
    mig_snapshot snap;
    bool plan = !a->status;
    int rc = plan ? mig_plan_load_call(eng, &a->src, &a->call, &snap, err)
                  : mig_snapshot_load(eng, &a->src, &snap, err);
    if (rc != MIG_OK)
        return rc;
    for (size_t i = 0; plan && i < snap.plan.count; i++) {
        const mig_step *s = &snap.plan.steps[i];
        char *values[5] = {psprintf("%zu", i + 1), cell(s->direction), cell(s->row->version),
                           cell(s->row->name), cell(s->script)};
        tuplestore_puttuple(a->rsinfo->setResult, BuildTupleFromCStrings(a->meta, values));
    }
    if (!plan)
        put_status_rows(a, &snap.status);
    mig_snapshot_free(&snap);
    return MIG_OK;
}

/* Set up a materialized set-returning call. */
static void srf_begin(FunctionCallInfo fcinfo, call_args *a)
{
    a->rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
    InitMaterializedSRF(fcinfo, 0);
    a->meta = TupleDescGetAttInMetadata(a->rsinfo->setDesc);
}

/* migrate_plan(dir text, target text DEFAULT NULL): the steps apply or migrate_to would run. */
Datum migrate_plan(PG_FUNCTION_ARGS)
{
    call_args a = {.src = pg_source_arg(fcinfo, "migrate_plan")};
    const char *target = pg_engine_text_arg(fcinfo, 1);
    a.call =
        (mig_call){target ? MIG_PLAN_TO : MIG_PLAN_APPLY, target, MIG_STEPS_ALL, current_policy()};
    srf_begin(fcinfo, &a);
    pg_engine_call(fcinfo, snapshot_op, &a);
    return (Datum)0;
}

/*
 * migrations_status(dir text) compares a folder (NULL: migrate_scripts) with history;
 * migrations_status() reads history alone.
 */
Datum migrations_status(PG_FUNCTION_ARGS)
{
    call_args a = {.src = PG_NARGS() > 0 ? pg_source_arg(fcinfo, "migrations_status")
                                         : mig_source_none(),
                   .status = true};
    srf_begin(fcinfo, &a);
    pg_engine_call(fcinfo, snapshot_op, &a);
    return (Datum)0;
}

/* The pending work as statements, into the set. */
static int script_op(const mig_engine *eng, void *arg, mig_error *err)
{
    call_args *a = arg;
    mig_sql_lines lines;
    int rc = mig_export(eng, &a->src, a->call.target, &a->call.policy, &lines, err);
    for (size_t i = 0; rc == MIG_OK && i < lines.count; i++) {
        char *values[2] = {psprintf("%zu", i + 1), pstrdup(lines.lines[i])};
        tuplestore_puttuple(a->rsinfo->setResult, BuildTupleFromCStrings(a->meta, values));
    }
    if (rc == MIG_OK)
        mig_sql_lines_free(&lines);
    return rc;
}

/*
 * migrate_script(dir text, target text DEFAULT NULL) RETURNS TABLE (seq, statement): the
 * pending work as statements for psql's \gexec, which runs them at top level.
 */
Datum migrate_script(PG_FUNCTION_ARGS)
{
    call_args a = {.src = pg_source_arg(fcinfo, "migrate_script")};
    a.call = (mig_call){MIG_PLAN_APPLY, pg_engine_text_arg(fcinfo, 1), 0, current_policy()};
    srf_begin(fcinfo, &a);
    pg_engine_call(fcinfo, script_op, &a);
    return (Datum)0;
}

/* migrate_init() RETURNS text: CREATE EXTENSION made the tables; kept for SQLite's surface. */
Datum migrate_init(PG_FUNCTION_ARGS)
{
    pg_engine_refuse_on_standby(fcinfo);
    PG_RETURN_TEXT_P(cstring_to_text("ok"));
}

/*
 * How many migrations history holds as applied or baselined: a baseline counts too (unlike for
 * a rollback), since without it the next apply would run everything over the existing schema.
 */
static int count_applied_op(const mig_engine *eng, void *arg, mig_error *err)
{
    mig_snapshot snap;
    mig_source none = mig_source_none(); /* history alone */
    int rc = mig_snapshot_load(eng, &none, &snap, err);
    if (rc != MIG_OK)
        return rc;
    for (size_t i = 0; i < snap.status.count; i++)
        if (snap.status.rows[i].record && snap.status.rows[i].state != MIG_STATE_PENDING)
            (*(int *)arg)++;
    mig_snapshot_free(&snap);
    return MIG_OK;
}

/*
 * Whether a DROP statement would drop the extension: by name, or with its schema (the schema of
 * the trigger's own function) by CASCADE.
 */
static bool drop_reaches_extension(const DropStmt *drop, Oid fn_oid)
{
    char *schema = get_namespace_name(get_func_namespace(fn_oid));
    ListCell *lc;
    foreach (lc, drop->objects) {
        Node *object = lfirst(lc);
        if (!IsA(object, String))
            continue;
        if (drop->removeType == OBJECT_EXTENSION && strcmp(strVal(object), "migrate") == 0)
            return true;
        if (drop->removeType == OBJECT_SCHEMA && drop->behavior == DROP_CASCADE && schema &&
            strcmp(strVal(object), schema) == 0)
            return true;
    }
    return false;
}

/*
 * Event trigger on DROP EXTENSION and DROP SCHEMA: dropping the extension drops migrate_history
 * with it, and a later CREATE EXTENSION would show every applied migration as pending again.
 * Refused while history records applied migrations, unless migrate.drop_history = allow.
 */
Datum migrate_guard_drop(PG_FUNCTION_ARGS)
{
    if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("migrate_guard_drop is called only as an event trigger")));
    EventTriggerData *trigger = (EventTriggerData *)fcinfo->context;
    if (drop_history_setting == 1 || !IsA(trigger->parsetree, DropStmt) ||
        !drop_reaches_extension((DropStmt *)trigger->parsetree, fcinfo->flinfo->fn_oid))
        PG_RETURN_VOID();
    int applied = 0;
    pg_engine_call(fcinfo, count_applied_op, &applied);
    if (applied > 0)
        ereport(ERROR,
                (errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
                 errmsg("cannot drop extension migrate: migrate_history records %d applied "
                        "migration%s, and would be dropped with it",
                        applied, applied == 1 ? "" : "s"),
                 errdetail("After a DROP and CREATE EXTENSION every applied migration would show "
                           "as pending, and the next migrate_apply would run them again."),
                 errhint("Keep a copy of the history first (pg_dump --table=migrate_history), then "
                         "SET migrate.drop_history = 'allow' and drop the extension again.")));
    PG_RETURN_VOID();
}

/* What migrate_record is asked to record, and the token that vouches for it. */
typedef struct record_args {
    const char *values[7]; /* version, name, checksum, down_checksum, up_sql, down_sql, script */
    const char *token;
} record_args;

/* Check the token, then append the 'up' row as the history's owner. */
static int record_op(const mig_engine *eng, void *arg, mig_error *err)
{
    record_args *a = arg;
    int rc = pg_engine_check_token(eng, a->values, a->token, err);
    if (rc != MIG_OK)
        return rc;
    mig_history_entry entry = {
        .version = a->values[0],
        .name = a->values[1],
        .direction = "up",
        .checksum = a->values[2],
        .down_checksum = a->values[3],
        .up_sql = a->values[4],
        .down_sql = a->values[5],
        .script = a->values[6],
        .execution_ms = 0,
        .success = true,
        .completed = -1,
    };
    return mig_history_append(eng, &entry, err);
}

/*
 * migrate_record(version, name, checksum, down_checksum, up_sql, down_sql, script, token)
 * RETURNS void: how migrate_script's output records a migration it ran. The row is written
 * with the history owner's rights, and only when token is the one migrate_script wrote for
 * exactly these values, so no role can forge a row with it.
 */
Datum migrate_record(PG_FUNCTION_ARGS)
{
    record_args a;
    for (int i = 0; i < 7; i++)
        a.values[i] = pg_engine_text_arg(fcinfo, i);
    a.token = pg_engine_text_arg(fcinfo, 7);
    if (!a.values[0] || !a.values[1])
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("migrate_record needs a version and a name")));
    pg_engine_write(fcinfo, record_op, &a);
    PG_RETURN_VOID();
}

/* migrate_version(): the release of the loaded module, as on SQLite. */
Datum migrate_version(PG_FUNCTION_ARGS)
{
    PG_RETURN_TEXT_P(cstring_to_text(MIGRATE_RELEASE));
}

/* What migrate_new is asked, and the paths it created. */
typedef struct new_args {
    const char *dir, *name, *layout;
    long long unix_ms;
    char *paths;
} new_args;

/* migrate_new's core call. */
static int new_op(const mig_engine *eng, void *arg, mig_error *err)
{
    new_args *a = arg;
    char *paths = NULL;
    int rc = mig_new_files(a->dir, a->name, a->layout, a->unix_ms, &paths, err);
    a->paths = pg_engine_keep(eng, paths);
    mig_free(paths);
    return rc;
}

/*
 * migrate_new(dir text, name text, layout text) RETURNS text: create a new migration's files
 * in the server folder (reading and writing server files); the paths, one per line.
 */
Datum migrate_new(PG_FUNCTION_ARGS)
{
    new_args a = {.dir = pg_engine_text_arg(fcinfo, 0),
                  .name = pg_engine_text_arg(fcinfo, 1),
                  .layout = pg_engine_text_arg(fcinfo, 2)};
    if (a.dir) {
        pg_engine_check_file_access("migrate_new");
        pg_engine_check_file_write("migrate_new");
    }
    TimestampTz now = GetCurrentTimestamp();
    a.unix_ms = (now + (int64)(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY) / 1000;
    pg_engine_call(fcinfo, new_op, &a);
    PG_RETURN_TEXT_P(cstring_to_text(a.paths));
}

/* migrate_help() RETURNS TABLE (name, arguments, returns, description, engines): the core's list.
 */
Datum migrate_help(PG_FUNCTION_ARGS)
{
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo *rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
    int count;
    const mig_help_entry *entries = mig_help_entries(&count);
    for (int i = 0; i < count; i++) {
        Datum values[5] = {
            CStringGetTextDatum(entries[i].name), CStringGetTextDatum(entries[i].arguments),
            CStringGetTextDatum(entries[i].returns), CStringGetTextDatum(entries[i].description),
            CStringGetTextDatum(mig_help_engines_name(entries[i].engines))};
        bool nulls[5] = {false, false, false, false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return (Datum)0;
}
