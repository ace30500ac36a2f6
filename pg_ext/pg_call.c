/*
 * The call harness: how one SQL function call of the extension runs the core, and how ERRORs
 * cross between PostgreSQL and the core.
 *
 *   pg_engine_call(fcinfo, op, arg)   connect SPI, set up the engine, run op, raise its error
 *   pg_engine_write(fcinfo, op, arg)  the same for a function that writes: refused on a standby
 *   pg_engine_refuse_on_standby(f)    the one check every writer goes through
 *   pg_engine_run_catching_error(...) run a body, its ERROR copied into a mig_error
 *   pg_engine_raise(err)              a mig_error raised as an ERROR, every field kept
 *   pg_engine_unwind(pe)              roll back the call's subtransactions, re-throw
 *
 * Memory: the core allocates (mig_malloc) in one context per call, made by pg_engine_begin under
 * the function's context and carried by the engine's allocator. pg_engine_call puts it in force
 * (mig_engine_enter) and gives the one before back however the call ends, ERROR included, so a
 * migrate function that a migration calls leaves its caller's allocator in force. An ERROR
 * caught is copied into the core's context before the error state is flushed and the
 * subtransaction rolled back, since the rollback frees the contexts the ERROR was raised in.
 *
 * The core's errors come back as PostgreSQL ERRORs with the engine's SQLSTATE and fields, and a
 * script's ERROR keeps its fields on the way through the core: the file's line and column of a
 * syntax error, the frames of the functions the statement ran, a function's failing query.
 */
#include "pg_engine_internal.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "mb/pg_wchar.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "../common/mig_alloc.h"
#include "../common/mig_reentry.h"
#include "../common/mig_script.h"

/* mig_malloc: in the call's core context. */
static void *core_alloc(void *cxt, size_t size)
{
    return MemoryContextAlloc(cxt, size);
}

/* mig_realloc: in the context the block came from. */
static void *core_resize(void *cxt, void *ptr, size_t size)
{
    (void)cxt;
    return repalloc(ptr, size);
}

/* mig_free */
static void core_release(void *cxt, void *ptr)
{
    (void)cxt;
    pfree(ptr);
}

/* The core's allocator for one call: palloc in cxt. */
mig_allocator pg_engine_allocator(MemoryContext cxt)
{
    return (mig_allocator){core_alloc, core_resize, core_release, cxt};
}

/* A copy of s for err, or NULL. */
static char *copy_field(const char *s)
{
    return s ? mig_strdup(s) : NULL;
}

/*
 * The context lines of an ERROR raised by the script's statement at, without the frame SPI adds
 * for that statement ("SQL statement ..." quoting the statement, or the whole script when it
 * ran from the script's parse), which is the migration itself: the core names it better (file,
 * line, column). What remains are the frames of PL/pgSQL and SQL functions the statement ran,
 * innermost first. NULL when none remain.
 */
static char *inner_context(const char *context, const char *sql, stmt_span at)
{
    if (!context || !*context)
        return NULL;
    size_t keep = strlen(context);
    if (at.start >= 0 && sql) {
        char *one = at.whole ? pstrdup(sql) : pnstrdup(sql + at.start, at.len);
        char *frame = psprintf(_("SQL statement \"%s\""), one);
        size_t n = strlen(frame);
        if (n <= keep && strcmp(context + keep - n, frame) == 0 &&
            (n == keep || context[keep - n - 1] == '\n'))
            keep = n == keep ? 0 : keep - n - 1;
        pfree(frame);
        pfree(one);
    }
    if (keep == 0)
        return NULL;
    char *out = mig_malloc(keep + 1);
    memcpy(out, context, keep);
    out[keep] = '\0';
    return out;
}

/*
 * Where in the script an error's internal query lies, or -1: the statement itself (SPI reports
 * its errors so), the whole script (so SPI reports those of a statement run from the script's
 * parse), or, when no function frame stands between (framed is false), text written once
 * inside the statement, such as the body of a CREATE FUNCTION whose PL/pgSQL does not compile.
 * A query of a function the statement ran is not the file's text: it stays a QUERY.
 */
static long query_in_statement(const char *query, const char *sql, stmt_span at, bool framed)
{
    if (at.start < 0 || !sql)
        return -1;
    size_t n = strlen(query);
    if (at.whole && strcmp(query, sql) == 0)
        return 0;
    if (n == (size_t)at.len && strncmp(query, sql + at.start, at.len) == 0)
        return at.start;
    if (framed || n == 0)
        return -1;
    char *one = pnstrdup(sql + at.start, at.len);
    char *hit = strstr(one, query);
    long found = hit && !strstr(hit + 1, query) ? at.start + (hit - one) : -1;
    pfree(one);
    return found;
}

/*
 * Copy a caught ERROR into err, every field a client can read: SQLSTATE, message, detail, hint,
 * context, the names of the schema, table, column, constraint and type, and where it happened.
 * sql is the script and at the statement that was running: PostgreSQL's parser gives a
 * character position in the script (a syntax error), SPI one in the statement or, for a
 * statement run from the script's parse, in the script (an unknown relation), and an error in a
 * function's query comes with that query and a position in it.
 */
static void error_from_edata(const ErrorData *edata, const char *sql, stmt_span at, mig_error *err)
{
    mig_fail(err, MIG_ENGINE, "%s", edata->message ? edata->message : "unknown error");
    strlcpy(err->sqlstate, unpack_sql_state(edata->sqlerrcode), sizeof err->sqlstate);
    if (edata->detail)
        mig_error_set_detail(err, mig_strdup(edata->detail));
    if (edata->hint)
        mig_error_set_hint(err, "%s", edata->hint);
    err->engine_context = inner_context(edata->context, sql, at);
    err->schema_name = copy_field(edata->schema_name);
    err->table_name = copy_field(edata->table_name);
    err->column_name = copy_field(edata->column_name);
    err->constraint_name = copy_field(edata->constraint_name);
    err->datatype_name = copy_field(edata->datatype_name);
    err->offset = at.start;
    if (edata->cursorpos > 0 && sql) {
        int len = (int)strlen(sql);
        err->position = pg_mbcharcliplen(sql, len, edata->cursorpos - 1);
        if (at.start < 0)
            err->offset = (long)mig_script_statement_start(sql, (size_t)len, (size_t)err->position);
    }
    long inner = edata->internalquery ? query_in_statement(edata->internalquery, sql, at,
                                                           err->engine_context != NULL)
                                      : -1;
    if (inner >= 0) {
        /* text of the script's own statement: the position becomes one in the file */
        if (edata->internalpos > 0)
            err->position =
                inner + pg_mbcharcliplen(edata->internalquery, (int)strlen(edata->internalquery),
                                         edata->internalpos - 1);
    } else if (edata->internalquery) {
        err->internal_query = mig_strdup(edata->internalquery);
        err->internal_position = edata->internalpos;
    }
}

/* What the caller had in force when a body started, put back however the body ends. */
typedef struct caller_state {
    MemoryContext cxt;   /* its current context */
    ResourceOwner owner; /* its resource owner (a subtransaction replaces it) */
    MemoryContext core;  /* the core's context, where a caught ERROR is copied */
} caller_state;

/* Put the caller's context and resource owner back. */
static void restore_caller(const caller_state *caller)
{
    MemoryContextSwitchTo(caller->cxt);
    CurrentResourceOwner = caller->owner;
}

/*
 * Run body(arg) catching its ERROR into err. With own_subtransaction, as PL/pgSQL runs an
 * exception block: body runs in a subtransaction of its own, rolled back on ERROR, so the
 * caller can go on. Without, the ERROR leaves the enclosing subtransaction failed, and the
 * caller must roll that back before anything else touches the database. *at (when body sets
 * it) says which statement of the script was running. Body runs without the caller's error
 * context callbacks, so the ERROR caught holds only the frames inside the script; the caller's
 * frames join once, when the error is raised again.
 */
int pg_engine_run_catching_error(pg_caught_body body, void *arg, const char *sql,
                                 bool own_subtransaction, mig_error *err)
{
    caller_state caller = {CurrentMemoryContext, CurrentResourceOwner, mig_alloc_context()};
    ErrorContextCallback *caller_frames = error_context_stack;
    /* written by body before an ERROR jumps back here: volatile keeps what it wrote */
    volatile stmt_span at = {-1, 0, false};
    ErrorData *volatile caught = NULL;

    if (own_subtransaction) {
        BeginInternalSubTransaction(NULL);
        MemoryContextSwitchTo(caller.cxt);
    }
    PG_TRY();
    {
        error_context_stack = NULL;
        body(arg, &at);
        error_context_stack = caller_frames;
        if (own_subtransaction)
            ReleaseCurrentSubTransaction();
    }
    PG_CATCH();
    {
        /* copied first, into a context the rollback keeps; then the error is handled */
        MemoryContextSwitchTo(caller.core);
        caught = CopyErrorData();
        FlushErrorState();
        if (own_subtransaction)
            RollbackAndReleaseCurrentSubTransaction();
    }
    PG_END_TRY();
    restore_caller(&caller);

    if (!caught)
        return MIG_OK;
    error_from_edata(caught, sql, (stmt_span){at.start, at.len, at.whole}, err);
    FreeErrorData(caught);
    return MIG_ENGINE;
}

/* Run body(arg) in its own subtransaction; see pg_engine_run_catching_error. */
int pg_engine_run_in_subtransaction(pg_caught_body body, void *arg, const char *sql, mig_error *err)
{
    return pg_engine_run_catching_error(body, arg, sql, true, err);
}

/* What every operation but a rollback answers once a script's ERROR is pending in a call. */
int pg_engine_aborted_refusal(mig_error *err)
{
    return mig_fail(err, MIG_ERR_STATE,
                    "migrate: the call's transaction failed and must be rolled back");
}

/* Run op once; an ERROR that escapes the core unwinds the call's subtransactions. */
static int guarded_op(pg_engine *pe, const mig_engine *eng, pg_engine_op op, void *arg,
                      mig_error *err)
{
    int rc = MIG_OK;
    PG_ENGINE_GUARD(pe, rc = op(eng, arg, err));
    return rc;
}

/*
 * Run op on the engine and raise its error; the engine's allocator is in force. A call whose
 * statement timed out on a lock (migrate.lock_timeout) runs again from its start while
 * migrate.lock_retries allows: by then the core has rolled all of it back.
 */
static void run_op(pg_engine *pe, const mig_engine *eng, pg_engine_op op, void *arg)
{
    for (int tries = 1;; tries++) {
        mig_error err;
        mig_error_init(&err);
        if (guarded_op(pe, eng, op, arg, &err) == MIG_OK)
            return;
        if (!pg_lock_retry(pe, tries, &err))
            pg_engine_raise(&err);
        mig_error_clear(&err);
    }
}

/* The calls of the extension running in this backend, outermost first (mig_reentry.h). */
static mig_reentry running;

/*
 * One call of an SQL function around a core operation: the engine's allocator is in force for
 * op, and the one before is back however op ends, an ERROR included.
 */
static void call_op(FunctionCallInfo fcinfo, pg_engine_op op, void *arg)
{
    MemoryContext function_cxt = CurrentMemoryContext;
    pg_engine pe;
    mig_engine eng;
    SPI_connect();
    pg_engine_begin(&pe, &eng, fcinfo->flinfo->fn_oid);
    pe.function_cxt = function_cxt;
    pe.drift.nested = running.depth > 1; /* made by a migration's SQL */
    const mig_allocator *outer = mig_engine_enter(&eng);
    PG_TRY();
    {
        run_op(&pe, &eng, op, arg);
    }
    PG_FINALLY();
    {
        pg_engine_end(&pe);
        mig_engine_leave(outer);
    }
    PG_END_TRY();
    SPI_finish();
}

/*
 * One call of an SQL function around a core operation, unless it re-enters the call running in
 * this backend (a migration calling migrate_apply would recurse until the stack runs out).
 */
void pg_engine_call(FunctionCallInfo fcinfo, pg_engine_op op, void *arg)
{
    char *name = get_func_name(fcinfo->flinfo->fn_oid);
    mig_error err;
    mig_error_init(&err);
    if (mig_reentry_enter(&running, name ? name : "this function", &err) != MIG_OK)
        pg_engine_raise(&err);
    PG_TRY();
    {
        call_op(fcinfo, op, arg);
    }
    PG_FINALLY();
    {
        mig_reentry_leave(&running);
    }
    PG_END_TRY();
}

/*
 * Refuse a function that writes on a server in recovery (a hot standby), before it reads a
 * folder or takes a lock: the standby replays what the primary writes, and PostgreSQL's own
 * refusal ("cannot execute INSERT in a read-only transaction") would come half-way through the
 * call and say nothing of where to go instead.
 */
void pg_engine_refuse_on_standby(FunctionCallInfo fcinfo)
{
    if (!RecoveryInProgress())
        return;
    char *name = get_func_name(fcinfo->flinfo->fn_oid);
    ereport(ERROR, (errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
                    errmsg("%s: this server is a standby in recovery; apply on the primary",
                           name ? name : "migrate"),
                    errhint("Run it on the primary: the standby receives the change by "
                            "replication. Read-only calls (migrations_status, migrate_plan, "
                            "migrate_validate) work here.")));
}

/* pg_engine_call for a function that writes: refused on a standby before anything runs. */
void pg_engine_write(FunctionCallInfo fcinfo, pg_engine_op op, void *arg)
{
    pg_engine_refuse_on_standby(fcinfo);
    pg_engine_call(fcinfo, op, arg);
}

/* Copy a result where it outlives SPI_finish. */
char *pg_engine_keep(const mig_engine *eng, const char *s)
{
    const pg_engine *pe = eng->handle;
    return s ? MemoryContextStrdup(pe->function_cxt, s) : NULL;
}

/* Text argument i, or NULL. */
char *pg_engine_text_arg(FunctionCallInfo fcinfo, int i)
{
    if (PG_NARGS() <= i || PG_ARGISNULL(i))
        return NULL;
    return text_to_cstring(PG_GETARG_TEXT_PP(i));
}

/* Roll back the call's open subtransactions and re-throw the pending error. */
void pg_engine_unwind(pg_engine *pe)
{
    if (pe->depth == 0)
        PG_RE_THROW();
    MemoryContextSwitchTo(pe->caller_cxt);
    ErrorData *edata = CopyErrorData();
    FlushErrorState();
    while (pe->depth > 0) {
        RollbackAndReleaseCurrentSubTransaction();
        CurrentResourceOwner = pe->owners[--pe->depth];
    }
    MemoryContextSwitchTo(pe->caller_cxt);
    ReThrowError(edata);
}

/*
 * The SQLSTATE of each class of the core's errors (common/mig_error.h; README, "Error codes").
 * An error that names its own SQLSTATE (the engine's, or a finer one the adapter set) keeps it.
 */
static const struct {
    int code;
    int sqlstate;
} sqlstate_of_class[] = {
    {MIG_ERR_ARGUMENT, ERRCODE_INVALID_PARAMETER_VALUE},       /* 22023 */
    {MIG_ERR_NULL, ERRCODE_NULL_VALUE_NOT_ALLOWED},            /* 22004 */
    {MIG_ERR_NOT_FOUND, ERRCODE_UNDEFINED_OBJECT},             /* 42704 */
    {MIG_ERR_NO_TABLE, ERRCODE_UNDEFINED_TABLE},               /* 42P01 */
    {MIG_ERR_NO_FILE, ERRCODE_UNDEFINED_FILE},                 /* 58P01 */
    {MIG_ERR_CONFLICT, ERRCODE_DUPLICATE_OBJECT},              /* 42710 */
    {MIG_ERR_STATE, ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE}, /* 55000 */
    {MIG_PRIVILEGE, ERRCODE_INSUFFICIENT_PRIVILEGE},           /* 42501 */
    {MIG_NOMEM, ERRCODE_OUT_OF_MEMORY},                        /* 53200 */
    {MIG_ERR_LIMIT, ERRCODE_PROGRAM_LIMIT_EXCEEDED},           /* 54000 */
};

/* SQLSTATE of err: its own, or its class's; an engine error without one is internal. */
static int error_code_of(const mig_error *err)
{
    if (err->sqlstate[0])
        return MAKE_SQLSTATE(err->sqlstate[0], err->sqlstate[1], err->sqlstate[2], err->sqlstate[3],
                             err->sqlstate[4]);
    for (size_t i = 0; i < lengthof(sqlstate_of_class); i++)
        if (sqlstate_of_class[i].code == err->code)
            return sqlstate_of_class[i].sqlstate;
    return ERRCODE_INTERNAL_ERROR;
}

/*
 * Raise the core's error with every field the engine gave: SQLSTATE, message, detail, hint,
 * the object names drivers read (PG_DIAG_*_NAME), a function's failing query and position, and
 * as context the engine's frames (innermost first), then the migration, file, line and column,
 * then the failing line of the file with a caret under the column.
 */
void pg_engine_raise(const mig_error *err)
{
    ereport(ERROR,
            (errcode(error_code_of(err)),
             errmsg_internal("%s", err->message ? err->message : "out of memory"),
             err->detail ? errdetail_internal("%s", err->detail) : 0,
             err->hint ? errhint("%s", err->hint) : 0,
             err->engine_context ? errcontext("%s", err->engine_context) : 0,
             err->context ? errcontext("%s", err->context) : 0,
             err->excerpt ? errcontext("%s", err->excerpt) : 0,
             err->schema_name ? err_generic_string(PG_DIAG_SCHEMA_NAME, err->schema_name) : 0,
             err->table_name ? err_generic_string(PG_DIAG_TABLE_NAME, err->table_name) : 0,
             err->column_name ? err_generic_string(PG_DIAG_COLUMN_NAME, err->column_name) : 0,
             err->constraint_name
                 ? err_generic_string(PG_DIAG_CONSTRAINT_NAME, err->constraint_name)
                 : 0,
             err->datatype_name ? err_generic_string(PG_DIAG_DATATYPE_NAME, err->datatype_name) : 0,
             err->internal_query ? internalerrquery(err->internal_query) : 0,
             err->internal_position > 0 ? internalerrposition(err->internal_position) : 0));
    pg_unreachable();
}
