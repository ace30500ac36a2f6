#include "pg_engine.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "utils/syscache.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parse_param.h"
#include "parser/parser.h"
#include "pgstat.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "pg_unique.h"

#include "../common/mig_alloc.h"
#include "../common/mig_history.h"
#include "../common/mig_messages.h"
#include "../common/mig_reentry.h"
#include "../common/mig_script.h"
#include "../common/mig_sha256.h"

#include <time.h>

/* The context the core allocates in during one call (a backend runs one call at a time). */
static MemoryContext core_cxt = NULL;

static void *core_alloc(size_t size)
{
    return MemoryContextAlloc(core_cxt, size);
}

static void *core_resize(void *ptr, size_t size)
{
    return repalloc(ptr, size);
}

static void core_release(void *ptr)
{
    pfree(ptr);
}

static const mig_allocator pg_allocator = {core_alloc, core_resize, core_release};

/* Where in the script the statement running now lies: start -1 while none is. */
typedef struct stmt_span {
    int start;
    int len;
} stmt_span;

/* A copy of s for err, or NULL. */
static char *copy_field(const char *s)
{
    return s ? mig_strdup(s) : NULL;
}

/*
 * The context lines of an ERROR raised by the script's statement at, without the frame SPI adds
 * for that statement ("SQL statement ..."), which is the migration itself: the core names it
 * better (file, line, column). What remains are the frames of PL/pgSQL and SQL functions the
 * statement ran, innermost first. NULL when none remain.
 */
static char *inner_context(const char *context, const char *sql, stmt_span at)
{
    if (!context || !*context)
        return NULL;
    size_t keep = strlen(context);
    if (at.start >= 0 && sql) {
        char *one = pnstrdup(sql + at.start, at.len);
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
 * its errors so), or, when no function frame stands between (framed is false), text written
 * once inside it, such as the body of a CREATE FUNCTION whose PL/pgSQL does not compile. A
 * query of a function the statement ran is not the file's text: it stays a QUERY.
 */
static long query_in_statement(const char *query, const char *sql, stmt_span at, bool framed)
{
    if (at.start < 0 || !sql)
        return -1;
    size_t n = strlen(query);
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
 * character position in the script (a syntax error), SPI one in the statement (an unknown
 * relation), and an error in a function's query comes with that query and a position in it.
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

/* What every operation but a rollback answers once a script's ERROR is pending in a call. */
static int aborted_refusal(mig_error *err)
{
    return mig_fail(err, MIG_ERR, "migrate: the call's transaction failed and must be rolled back");
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
static int run_caught(void (*body)(void *arg, volatile stmt_span *at), void *arg, const char *sql,
                      bool own_subtransaction, mig_error *err)
{
    MemoryContext oldcxt = CurrentMemoryContext;
    ResourceOwner oldowner = CurrentResourceOwner;
    /*
     * The caller's core context, captured now: a migrate function the script calls re-points
     * core_cxt at its own context, which the rollback frees.
     */
    MemoryContext mine = core_cxt;
    ErrorContextCallback *outer_frames = error_context_stack;
    volatile stmt_span at = {-1, 0};
    volatile int rc = MIG_OK;
    if (own_subtransaction) {
        BeginInternalSubTransaction(NULL);
        MemoryContextSwitchTo(oldcxt);
    }
    PG_TRY();
    {
        error_context_stack = NULL;
        body(arg, &at);
        error_context_stack = outer_frames;
        if (own_subtransaction)
            ReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(oldcxt);
        CurrentResourceOwner = oldowner;
        core_cxt = mine;
    }
    PG_CATCH();
    {
        ErrorData *edata;
        core_cxt = mine;
        MemoryContextSwitchTo(mine);
        edata = CopyErrorData();
        FlushErrorState();
        if (own_subtransaction)
            RollbackAndReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(oldcxt);
        CurrentResourceOwner = oldowner;
        error_from_edata(edata, sql, (stmt_span){at.start, at.len}, err);
        FreeErrorData(edata);
        rc = MIG_ENGINE;
    }
    PG_END_TRY();
    return rc;
}

/* Run body(arg) in its own subtransaction; see run_caught. */
static int run_guarded(void (*body)(void *arg, volatile stmt_span *at), void *arg, const char *sql,
                       mig_error *err)
{
    return run_caught(body, arg, sql, true, err);
}

/* Why a statement cannot run inside migrate_apply's transaction, or NULL when it can. */
static const char *refusal_reason(Node *stmt)
{
    switch (nodeTag(stmt)) {
    case T_TransactionStmt:
        return MIG_MSG_TRANSACTION_CONTROL;
    case T_IndexStmt:
        if (((IndexStmt *)stmt)->concurrent)
            return "CREATE INDEX CONCURRENTLY cannot run inside a transaction block, and "
                   "migrate_apply runs every migration inside one";
        return NULL;
    case T_ReindexStmt: {
        ListCell *lc;
        foreach (lc, ((ReindexStmt *)stmt)->params)
            if (strcmp(lfirst_node(DefElem, lc)->defname, "concurrently") == 0)
                return "REINDEX CONCURRENTLY cannot run inside a transaction block, and "
                       "migrate_apply runs every migration inside one";
        return NULL;
    }
    case T_VacuumStmt:
        if (((VacuumStmt *)stmt)->is_vacuumcmd)
            return "VACUUM cannot run inside a transaction block, and migrate_apply runs every "
                   "migration inside one";
        return NULL;
    case T_CreatedbStmt:
    case T_DropdbStmt:
        return "CREATE DATABASE and DROP DATABASE cannot run inside a transaction block, and "
               "migrate_apply runs every migration inside one";
    case T_AlterSystemStmt:
        return "ALTER SYSTEM cannot run inside a transaction block, and migrate_apply runs every "
               "migration inside one";
    case T_CreateTableSpaceStmt:
    case T_DropTableSpaceStmt:
        return "CREATE TABLESPACE and DROP TABLESPACE cannot run inside a transaction block, and "
               "migrate_apply runs every migration inside one";
    case T_CopyStmt: {
        CopyStmt *copy = (CopyStmt *)stmt;
        if (!copy->filename && !copy->is_program)
            return copy->is_from
                       ? "COPY ... FROM STDIN needs a client to send the data; a migration "
                         "cannot use it (use INSERT, or COPY FROM a server file)"
                       : "COPY ... TO STDOUT needs a client to read the data; a migration "
                         "cannot use it";
        return NULL;
    }
    default:
        return NULL;
    }
}

typedef struct script_job {
    const char *sql;
    const char *refusal; /* check only: the first statement that cannot run, and why */
    int refused_at;
    bool execute;
} script_job;

/* Split the script with PostgreSQL's own parser, then check or run each statement. */
static void script_body(void *arg, volatile stmt_span *at)
{
    script_job *job = arg;
    List *stmts = raw_parser(job->sql, RAW_PARSE_DEFAULT);
    ListCell *lc;
    foreach (lc, stmts) {
        RawStmt *raw = lfirst_node(RawStmt, lc);
        int start = raw->stmt_location < 0 ? 0 : raw->stmt_location;
        int len = raw->stmt_len ? raw->stmt_len : (int)strlen(job->sql + start);
        at->start = start;
        at->len = len;
        if (!job->execute) {
            const char *why = refusal_reason(raw->stmt);
            if (why && !job->refusal) {
                job->refusal = why;
                job->refused_at = start;
            }
            continue;
        }
        char *one = pnstrdup(job->sql + start, len);
        int rc = SPI_execute(one, false, 0);
        if (rc < 0)
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("%s", SPI_result_code_string(rc))));
        SPI_freetuptable(SPI_tuptable);
        pfree(one);
    }
    at->start = -1;
}

/* Run a script in a subtransaction of its own, catching its ERROR into err. */
int pg_engine_run_guarded(const char *sql, mig_error *err)
{
    script_job job = {sql, NULL, -1, true};
    return run_guarded(script_body, &job, sql, err);
}

typedef struct split_job {
    const char *sql;
    mig_statement *list;
    size_t count;
} split_job;

/* Split with PostgreSQL's own parser. */
static void split_body(void *arg, volatile stmt_span *at)
{
    split_job *job = arg;
    List *stmts = raw_parser(job->sql, RAW_PARSE_DEFAULT);
    ListCell *lc;
    (void)at;
    job->list = mig_calloc(list_length(stmts) + 1, sizeof *job->list);
    foreach (lc, stmts) {
        RawStmt *raw = lfirst_node(RawStmt, lc);
        size_t start = raw->stmt_location < 0 ? 0 : (size_t)raw->stmt_location;
        size_t len = raw->stmt_len ? (size_t)raw->stmt_len : strlen(job->sql + start);
        job->list[job->count++] = (mig_statement){start, len};
    }
}

/* engine.split_statements */
static int engine_split_statements(void *h, const char *sql, size_t len, mig_statement **out,
                                   size_t *count, mig_error *err)
{
    split_job job = {sql, NULL, 0};
    (void)h, (void)len;
    int rc = run_guarded(split_body, &job, sql, err);
    if (rc != MIG_OK) {
        mig_free(job.list);
        return rc;
    }
    *out = job.list;
    *count = job.count;
    return MIG_OK;
}

/* engine.literal: quote_literal, which writes E'...' when the text holds a backslash. */
static char *engine_literal(void *h, const char *text)
{
    (void)h;
    return mig_strdup(quote_literal_cstr(text));
}

typedef struct leftover_job {
    const char *sql;
    char *invalid;    /* the first invalid index a CREATE INDEX CONCURRENTLY of the script left */
    bool in_progress; /* ... or is building right now in another session */
} leftover_job;

/* Whether a CREATE INDEX is building this index right now (pg_stat_progress_create_index). */
static bool index_build_running(Oid indexoid)
{
    Oid argtypes[1] = {OIDOID};
    Datum values[1] = {ObjectIdGetDatum(indexoid)};
    int rc = SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_stat_progress_create_index p "
                                   "WHERE p.index_relid OPERATOR(pg_catalog.=) $1",
                                   1, argtypes, values, NULL, true, 1);
    bool running = rc == SPI_OK_SELECT && SPI_processed > 0;
    SPI_freetuptable(SPI_tuptable);
    return running;
}

/* Find indexes the script builds concurrently that exist but are not valid. */
static void leftover_body(void *arg, volatile stmt_span *at)
{
    leftover_job *job = arg;
    List *stmts = raw_parser(job->sql, RAW_PARSE_DEFAULT);
    ListCell *lc;
    (void)at;
    foreach (lc, stmts) {
        Node *stmt = lfirst_node(RawStmt, lc)->stmt;
        if (!IsA(stmt, IndexStmt) || !((IndexStmt *)stmt)->concurrent ||
            !((IndexStmt *)stmt)->idxname)
            continue;
        IndexStmt *index = (IndexStmt *)stmt;
        RangeVar *rv = makeRangeVar(index->relation->schemaname, index->idxname, -1);
        Oid indexoid = RangeVarGetRelid(rv, NoLock, true);
        if (!OidIsValid(indexoid))
            continue;
        HeapTuple tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
        if (!HeapTupleIsValid(tup))
            continue;
        bool valid = ((Form_pg_index)GETSTRUCT(tup))->indisvalid;
        ReleaseSysCache(tup);
        if (!valid && !job->invalid) {
            job->invalid = mig_strdup(quote_qualified_identifier(
                get_namespace_name(get_rel_namespace(indexoid)), index->idxname));
            job->in_progress = index_build_running(indexoid);
        }
    }
}

/* engine.check_leftovers: a failed CREATE INDEX CONCURRENTLY leaves an INVALID index behind. */
static int engine_check_leftovers(void *h, const char *sql, mig_error *err)
{
    leftover_job job = {sql, NULL, false};
    (void)h;
    int rc = run_guarded(leftover_body, &job, sql, err);
    if (rc == MIG_OK && job.invalid && job.in_progress) {
        mig_fail(err, MIG_ERR,
                 "index %s is being built right now by a CREATE INDEX CONCURRENTLY of this "
                 "migration in another session",
                 job.invalid);
        mig_error_set_hint(err, "wait for it to finish, then look at migrations_status again");
        strcpy(err->sqlstate, "55006"); /* object_in_use */
        mig_free(job.invalid);
        rc = err->code;
    } else if (rc == MIG_OK && job.invalid) {
        mig_fail(err, MIG_ERR,
                 "index %s is INVALID: a CREATE INDEX CONCURRENTLY of this migration failed "
                 "before and left it behind",
                 job.invalid);
        mig_error_set_hint(err, "DROP INDEX CONCURRENTLY %s; then run the migration again",
                           job.invalid);
        strcpy(err->sqlstate, "55000");
        mig_free(job.invalid);
        rc = err->code;
    }
    return rc;
}

/*
 * engine.exec_script. Inside a call the migrations run in the call's subtransaction, not in one
 * each: ending a subtransaction walks everything the transaction has created so far (pending
 * file deletions, the relation cache, the locks), so one per migration made a first deploy of
 * thousands of migrations quadratic. Nothing is lost by sharing it: a failure ends the whole
 * call, so the ERROR is caught here, copied into err for the core to name the migration, and
 * the call's subtransaction is rolled back (engine_rollback) before anything else runs. Outside
 * a call the script gets a subtransaction of its own.
 */
static int engine_exec_script(void *h, const char *sql, size_t len, mig_error *err)
{
    pg_engine *pe = h;
    script_job job = {sql, NULL, -1, true};
    (void)len;
    if (pe->aborted)
        return aborted_refusal(err);
    bool in_call = pe->depth > 0;
    int rc = run_caught(script_body, &job, sql, !in_call, err);
    if (rc != MIG_OK && in_call)
        pe->aborted = true;
    return rc;
}

/* engine.check_script: refuse, before anything runs, what cannot run in a transaction. */
static int engine_check_script(void *h, const char *sql, size_t len, bool outside, mig_error *err)
{
    script_job job = {sql, NULL, -1, false};
    (void)len;
    if (outside) /* check_outside_steps has refused it: PostgreSQL functions cannot run one */
        return MIG_OK;
    if (((pg_engine *)h)->aborted)
        return aborted_refusal(err);
    int rc = run_guarded(script_body, &job, sql, err);
    if (rc == MIG_ENGINE && strcmp(err->sqlstate, "42601") == 0 && err->offset > 0) {
        /*
         * A syntax error may be the data of a COPY ... FROM STDIN written as pg_dump writes it:
         * if what precedes the failing statement holds a statement we refuse, report that.
         */
        char *prefix = pnstrdup(sql, err->offset);
        script_job before = {prefix, NULL, -1, false};
        mig_error ignored;
        mig_error_init(&ignored);
        if (run_guarded(script_body, &before, prefix, &ignored) == MIG_OK && before.refusal) {
            job = before;
            rc = MIG_OK;
        }
        mig_error_clear(&ignored);
    }
    if (rc == MIG_OK && job.refusal) {
        rc = mig_fail(err, MIG_ERR, "%s", job.refusal);
        strlcpy(err->sqlstate, "25001", sizeof err->sqlstate); /* active_sql_transaction */
        err->offset = job.refused_at;
    }
    return rc;
}

/* Parser hook: parameters take the types their context gives them, as in PREPARE without types. */
typedef struct inferred_params {
    Oid *types;
    int count;
} inferred_params;

static void infer_params_setup(ParseState *pstate, void *arg)
{
    inferred_params *p = arg;
    setup_parse_variable_parameters(pstate, &p->types, &p->count);
}

/*
 * Run fn(arg) with search_path set to pg_catalog, pg_temp, as PostgreSQL runs a function with a
 * SET clause: the extension's own SQL then resolves every operator and function in pg_catalog,
 * so nothing a less privileged role creates in a schema on the caller's search_path runs with
 * the caller's rights. The setting is put back on every exit, an ERROR included.
 */
static void with_pinned_search_path(void (*fn)(void *arg), void *arg)
{
    int nestlevel = NewGUCNestLevel();
    (void)set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
                            GUC_ACTION_SAVE, true, 0, false);
    PG_TRY();
    {
        fn(arg);
    }
    PG_FINALLY();
    {
        AtEOXact_GUC(false, nestlevel);
    }
    PG_END_TRY();
}

typedef struct query_job {
    pg_engine *pe;
    const char *sql;
    int nparams;
    const char *const *params;
    mig_row_fn fn;
    void *ctx;
    int result;
} query_job;

/* Prepare, bind and run one internal query, handing each row to the core. */
static void query_body(void *arg)
{
    query_job *job = arg;
    int nparams = job->nparams;
    /*
     * Sized up front in our own context: the parser then writes the types into this array in
     * place, instead of allocating one in SPI's executor context, which SPI resets on return.
     */
    inferred_params inferred = {
        nparams ? MemoryContextAllocZero(core_cxt, sizeof(Oid) * nparams) : NULL, nparams};
    SPIPlanPtr plan = SPI_prepare_params(job->sql, infer_params_setup, &inferred, 0);
    if (!plan)
        elog(ERROR, "migrate: could not prepare an internal query: %s",
             SPI_result_code_string(SPI_result));
    ParamListInfo list = inferred.count ? makeParamList(inferred.count) : NULL;
    for (int i = 0; i < inferred.count; i++) {
        ParamExternData *prm = &list->params[i];
        const char *text = i < nparams ? job->params[i] : NULL;
        Oid input, ioparam;
        prm->ptype = OidIsValid(inferred.types[i]) ? inferred.types[i] : TEXTOID; /* unused */
        prm->pflags = PARAM_FLAG_CONST;
        prm->isnull = text == NULL;
        getTypeInputInfo(prm->ptype, &input, &ioparam);
        prm->value = OidInputFunctionCall(input, (char *)text, ioparam, -1);
    }
    int rc = SPI_execute_plan_with_paramlist(plan, list, false, 0);
    if (rc < 0)
        elog(ERROR, "migrate: internal query failed: %s", SPI_result_code_string(rc));
    int result = MIG_OK;
    if (job->fn && SPI_tuptable) {
        TupleDesc desc = SPI_tuptable->tupdesc;
        const char **values = palloc0(sizeof(char *) * (desc->natts + 1));
        for (uint64 r = 0; r < SPI_processed && result == MIG_OK; r++) {
            for (int c = 0; c < desc->natts; c++)
                values[c] = SPI_getvalue(SPI_tuptable->vals[r], desc, c + 1);
            result = job->fn(job->ctx, desc->natts, values);
        }
        pfree(values);
    }
    SPI_freetuptable(SPI_tuptable);
    SPI_freeplan(plan);
    core_cxt = job->pe->cxt; /* triggers on the tables queried could have called migrate */
    if (inferred.types)
        pfree(inferred.types);
    job->result = result;
}

/*
 * engine.query: text parameters converted by the input functions of their inferred types,
 * under a pinned search_path (the core's own SQL, never a migration's).
 */
static int engine_query(void *h, const char *sql, int nparams, const char *const *params,
                        mig_row_fn fn, void *ctx, mig_error *err)
{
    pg_engine *pe = h;
    if (pe->aborted)
        return aborted_refusal(err);
    query_job job = {pe, sql, nparams, params, fn, ctx, MIG_OK};
    with_pinned_search_path(query_body, &job);
    if (job.result == MIG_NOMEM)
        return mig_fail_nomem(err);
    return job.result;
}

/* engine.history_prepare: the extension's script created the table. */
static int engine_history_prepare(void *h, bool create, bool *exists, mig_error *err)
{
    (void)h, (void)create, (void)err;
    *exists = true;
    return MIG_OK;
}

/*
 * engine.query with the rights of the owner of migrate_history (the extension's owner): history
 * is written only through the extension, so no role needs INSERT on it, and no role that may
 * deploy can forge a row whose down script a later, more privileged call would run. As
 * PostgreSQL runs a maintenance command as a table's owner: SET ROLE and the like are refused
 * while it runs (SECURITY_RESTRICTED_OPERATION), and the caller's identity comes back on every
 * exit.
 */
static int run_as_owner(pg_engine *pe, const char *sql, int nparams, const char *const *params,
                        mig_row_fn fn, void *ctx, mig_error *err)
{
    Oid save_user;
    int save_sec;
    volatile int rc = MIG_OK;
    if (!OidIsValid(pe->history_owner))
        return mig_fail(err, MIG_ERR, "migrate: table %s is missing", pe->history_table);
    GetUserIdAndSecContext(&save_user, &save_sec);
    SetUserIdAndSecContext(pe->history_owner,
                           save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
    PG_TRY();
    {
        rc = engine_query(pe, sql, nparams, params, fn, ctx, err);
    }
    PG_FINALLY();
    {
        SetUserIdAndSecContext(save_user, save_sec);
    }
    PG_END_TRY();
    return rc;
}

/* engine.record: the history INSERT, as the history's owner. */
static int engine_record(void *h, const char *sql, int nparams, const char *const *params,
                         mig_error *err)
{
    return run_as_owner(h, sql, nparams, params, NULL, NULL, err);
}

/* Keep the one row of migrate_key. */
static int on_key_row(void *ctx, int ncols, const char *const *values)
{
    char **key = ctx;
    if (ncols != 1 || !values[0])
        return MIG_ERR;
    *key = mig_strdup(values[0]);
    return *key ? MIG_OK : MIG_NOMEM;
}

/*
 * The database's secret for migrate_script's record tokens, read as the history's owner (no
 * other role may read migrate_key), once per call.
 */
static const char *script_key(pg_engine *pe)
{
    if (pe->key)
        return pe->key;
    char *sql = psprintf("SELECT key FROM %s", pe->key_table);
    mig_error err;
    mig_error_init(&err);
    int rc = run_as_owner(pe, sql, 0, NULL, on_key_row, &pe->key, &err);
    mig_error_clear(&err);
    if (rc != MIG_OK || !pe->key)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("migrate: %s holds no key; DROP and CREATE EXTENSION migrate "
                               "again",
                               pe->key_table)));
    return pe->key;
}

/* Feed one value to the MAC: N for NULL, else S<length>: and the bytes, so nothing is ambiguous. */
static void mac_value(mig_sha256 *ctx, const char *value)
{
    char head[32];
    if (!value) {
        mig_sha256_update(ctx, "N", 1);
        return;
    }
    size_t len = strlen(value);
    snprintf(head, sizeof head, "S%zu:", len);
    mig_sha256_update(ctx, head, strlen(head));
    mig_sha256_update(ctx, value, len);
}

/* Keep a count. */
static int on_count_row(void *ctx, int ncols, const char *const *values)
{
    if (ncols != 1 || !values[0])
        return MIG_ERR;
    strlcpy(ctx, values[0], 24);
    return MIG_OK;
}

/*
 * How many history rows the version has: part of what a token vouches for, so a token is good
 * only while nothing else happens to that migration (it cannot be replayed after a revert).
 */
static void version_rows(pg_engine *pe, const char *version, char out[24])
{
    const char *params[1] = {version};
    char *sql =
        psprintf("SELECT pg_catalog.count(*) FROM %s h WHERE h.version = $1", pe->history_table);
    mig_error err;
    mig_error_init(&err);
    strlcpy(out, "?", 24);
    if (engine_query(pe, sql, 1, params, on_count_row, out, &err) != MIG_OK) {
        mig_error_clear(&err);
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                        errmsg("migrate: could not read %s", pe->history_table)));
    }
    pfree(sql);
}

/*
 * HMAC-SHA256 (RFC 2104) under the database's key of the values of one record and of how many
 * history rows its version has now, in hex.
 */
static void record_token(pg_engine *pe, const char *const values[7], char out[65])
{
    char rows[24];
    version_rows(pe, values[0], rows);
    const char *key = script_key(pe);
    unsigned char block[64] = {0}, inner[32], outer[32];
    size_t klen = strlen(key);
    unsigned char pad[64];
    mig_sha256 ctx;
    if (klen > sizeof block) { /* a longer key is hashed first, as RFC 2104 says */
        mig_sha256_init(&ctx);
        mig_sha256_update(&ctx, key, klen);
        mig_sha256_final(&ctx, block);
    } else
        memcpy(block, key, klen);
    for (int i = 0; i < 64; i++)
        pad[i] = block[i] ^ 0x36;
    mig_sha256_init(&ctx);
    mig_sha256_update(&ctx, pad, sizeof pad);
    mig_sha256_update(&ctx, "migrate_record", 14);
    for (int i = 0; i < 7; i++)
        mac_value(&ctx, values[i]);
    mac_value(&ctx, rows);
    mig_sha256_final(&ctx, inner);
    for (int i = 0; i < 64; i++)
        pad[i] = block[i] ^ 0x5c;
    mig_sha256_init(&ctx);
    mig_sha256_update(&ctx, pad, sizeof pad);
    mig_sha256_update(&ctx, inner, sizeof inner);
    mig_sha256_final(&ctx, outer);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", outer[i]);
}

/*
 * engine.script_record: migrate_script records a migration through migrate_record, whose token
 * proves that migrate_script wrote these values: a role that may run the script cannot record
 * anything else with it.
 */
static char *engine_script_record(void *h, const char *const values[7], const char *guard)
{
    pg_engine *pe = h;
    char token[65];
    StringInfoData b;
    record_token(pe, values, token);
    initStringInfo(&b);
    appendStringInfo(&b, "SELECT %s(", pe->record_function);
    for (int i = 0; i < 7; i++)
        appendStringInfo(&b, "%s, ", values[i] ? quote_literal_cstr(values[i]) : "NULL");
    appendStringInfo(&b, "'%s')", token);
    if (guard) /* never recorded out of turn, whatever ran before */
        appendStringInfo(&b, " FROM (SELECT %s) AS migrate_guard", guard);
    appendStringInfoChar(&b, ';');
    char *statement = mig_strdup(b.data);
    pfree(b.data);
    return statement;
}

/* Refuse a record whose token migrate_script did not write for exactly these values. */
int pg_engine_check_token(const mig_engine *eng, const char *const values[7], const char *token,
                          mig_error *err)
{
    char expected[65];
    record_token(eng->handle, values, expected);
    int diff = token ? (int)strlen(token) ^ 64 : 1;
    for (int i = 0; token && i < 64 && token[i]; i++)
        diff |= token[i] ^ expected[i];
    if (diff == 0)
        return MIG_OK;
    mig_fail(err, MIG_PRIVILEGE,
             "migrate_record: the token does not match these values: only the statements "
             "migrate_script wrote can record a migration, and only while its history is as "
             "it was then");
    mig_error_set_hint(err, "apply migrations with migrate_apply, or run the output of a new "
                            "migrate_script call as it is");
    strcpy(err->sqlstate, "42501"); /* insufficient_privilege */
    return err->code;
}

/* engine.savepoint: a subtransaction, keeping the caller's memory context. */
static int engine_savepoint(void *h, const char *name, mig_error *err)
{
    pg_engine *pe = h;
    MemoryContext oldcxt = CurrentMemoryContext;
    if (pe->aborted)
        return aborted_refusal(err);
    if (pe->depth >= (int)lengthof(pe->owners))
        return mig_fail(err, MIG_ERR, "migrate: savepoints nested too deeply");
    pe->owners[pe->depth++] = CurrentResourceOwner;
    BeginInternalSubTransaction(name);
    MemoryContextSwitchTo(oldcxt);
    return MIG_OK;
}

/* engine.rollback */
static void engine_rollback(void *h, const char *name)
{
    pg_engine *pe = h;
    MemoryContext oldcxt = CurrentMemoryContext;
    (void)name;
    RollbackAndReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(oldcxt);
    CurrentResourceOwner = pe->owners[--pe->depth];
    pe->aborted = false;
}

/* engine.release */
static int engine_release(void *h, const char *name, mig_error *err)
{
    pg_engine *pe = h;
    MemoryContext oldcxt = CurrentMemoryContext;
    (void)name;
    if (pe->aborted) { /* nothing of a failed subtransaction can be kept */
        engine_rollback(h, name);
        return aborted_refusal(err);
    }
    ReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(oldcxt);
    CurrentResourceOwner = pe->owners[--pe->depth];
    return MIG_OK;
}

/* Who holds a lock migrate waits for: "pid 123 (role alice), ...", and whether any may use it. */
typedef struct lock_holders {
    StringInfoData names;
    bool any_may_migrate;
} lock_holders;

/* One holder: pid, role, whether the role may run a function that takes the migration lock. */
static int on_holder_row(void *ctx, int ncols, const char *const *values)
{
    lock_holders *holders = ctx;
    if (ncols != 3)
        return MIG_ERR;
    appendStringInfo(&holders->names, "%spid %s (role %s)", holders->names.len ? ", " : "",
                     values[0] ? values[0] : "?", values[1] ? values[1] : "unknown");
    /* a holder whose role cannot be seen (it started after this transaction's statistics
     * snapshot, or is ending) is taken as one that may migrate: waiting is always safe */
    if (!values[2] || strcmp(values[2], "t") == 0)
        holders->any_may_migrate = true;
    return MIG_OK;
}

/*
 * Find the other sessions holding the migration's advisory key (advisory) or a lock on
 * migrate_history that conflicts with the one an apply takes. A role may use migrate when it
 * may run any of the functions that take the lock.
 */
static void find_holders(pg_engine *pe, bool advisory, lock_holders *out)
{
    const char *may = psprintf(
        "pg_catalog.has_function_privilege(a.usesysid, '%1$s.migrate_apply(text, text, integer)', "
        "'EXECUTE') OR pg_catalog.has_function_privilege(a.usesysid, "
        "'%1$s.migrate_script(text, text)', 'EXECUTE') OR "
        "pg_catalog.has_function_privilege(a.usesysid, '%1$s.migrate_to(text, text)', "
        "'EXECUTE') OR pg_catalog.has_function_privilege(a.usesysid, "
        "'%1$s.migrate_rollback(text, integer)', 'EXECUTE') OR "
        "pg_catalog.has_function_privilege(a.usesysid, '%1$s.migrate_repair(text)', "
        "'EXECUTE') OR pg_catalog.has_function_privilege(a.usesysid, "
        "'%1$s.migrate_baseline(text, text)', 'EXECUTE')",
        pe->schema);
    const char *which =
        advisory ? psprintf("l.locktype = 'advisory' AND l.database = %u AND l.classid = %u AND "
                            "l.objid = %u AND l.objsubid = 1",
                            MyDatabaseId, (uint32)(MIG_PG_LOCK_KEY >> 32),
                            (uint32)(MIG_PG_LOCK_KEY & 0xFFFFFFFF))
                 : psprintf("l.locktype = 'relation' AND l.database = %u AND l.relation = %u AND "
                            "l.mode IN ('RowExclusiveLock', 'ShareUpdateExclusiveLock', "
                            "'ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', "
                            "'AccessExclusiveLock')",
                            MyDatabaseId, pe->history_relid);
    char *sql = psprintf("SELECT l.pid, a.usename, %s FROM pg_catalog.pg_locks l "
                         "LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
                         "WHERE l.granted AND l.pid <> pg_catalog.pg_backend_pid() AND %s "
                         "ORDER BY l.pid",
                         may, which);
    mig_error err;
    mig_error_init(&err);
    initStringInfo(&out->names);
    out->any_may_migrate = false;
    /* pg_stat_activity is read once per transaction: read it afresh, or a session that
     * connected since would show no role */
    pgstat_clear_snapshot();
    if (engine_query(pe, sql, 0, NULL, on_holder_row, out, &err) != MIG_OK)
        out->any_may_migrate = true; /* could not tell: wait, as before */
    mig_error_clear(&err);
}

typedef struct lock_wait {
    bool advisory;
    Oid relid;
} lock_wait;

/*
 * Wait for the lock; when the wait fails (lock_timeout, a cancel), the ERROR says who holds it,
 * so the DBA knows which session to look at.
 */
static void wait_for_lock(pg_engine *pe, const lock_wait *w, const char *holders)
{
    PG_TRY();
    {
        if (w->advisory)
            DirectFunctionCall1(pg_advisory_xact_lock_int8, Int64GetDatum(MIG_PG_LOCK_KEY));
        else
            LockRelationOid(w->relid, ShareRowExclusiveLock);
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(pe->cxt);
        ErrorData *edata = CopyErrorData();
        FlushErrorState();
        if (!edata->detail && holders && *holders)
            edata->detail =
                psprintf("migrate was waiting for the migration lock, held by %s.", holders);
        ReThrowError(edata);
    }
    PG_END_TRY();
}

/*
 * engine.lock. Every apply, revert, repair and baseline of the database takes SHARE ROW
 * EXCLUSIVE on migrate_history for the rest of the transaction: it conflicts with itself, not
 * with readers, and only roles with rights on that table (which PUBLIC has none of) can take a
 * conflicting lock, so no role that merely connects can hold deploys up. migrate_script's
 * output runs across transactions, which a table lock cannot span, so it holds the advisory
 * key for its session, and an apply takes that key too, waiting for it when a role that may
 * use migrate holds it. Anyone can take an advisory key: when only roles that may not use
 * migrate hold it, the apply goes on without it (the table lock still serialises applies).
 */
static int engine_lock(void *h, mig_error *err)
{
    pg_engine *pe = h;
    /*
     * History must be read after the lock is held. Under REPEATABLE READ or SERIALIZABLE the
     * transaction keeps the snapshot it took before waiting, so it would not see what another
     * session applied meanwhile, and would apply it again.
     */
    if (IsolationUsesXactSnapshot()) {
        mig_fail(err, MIG_ERR,
                 "migrate cannot apply, revert or repair migrations in a %s transaction: its "
                 "snapshot predates the migration lock, so it could not see what another "
                 "session applied meanwhile",
                 IsolationIsSerializable() ? "SERIALIZABLE" : "REPEATABLE READ");
        mig_error_set_hint(err, "run it in a READ COMMITTED transaction (the default)");
        strcpy(err->sqlstate, "25000"); /* invalid_transaction_state */
        return err->code;
    }
    if (!OidIsValid(pe->history_relid))
        return mig_fail(err, MIG_ERR, "migrate: table %s is missing", pe->history_table);
    while (!DatumGetBool(
        DirectFunctionCall1(pg_try_advisory_xact_lock_int8, Int64GetDatum(MIG_PG_LOCK_KEY)))) {
        lock_holders holders;
        lock_wait w = {true, InvalidOid};
        find_holders(pe, true, &holders);
        if (holders.names.len == 0) { /* let go of meanwhile: try again */
            CHECK_FOR_INTERRUPTS();
            continue;
        }
        if (holders.any_may_migrate)
            wait_for_lock(pe, &w, holders.names.data);
        else
            ereport(WARNING,
                    (errmsg("migrate: advisory lock " INT64_FORMAT " is held by %s, which may "
                            "not use migrate; going on under the lock on %s",
                            MIG_PG_LOCK_KEY, holders.names.data, pe->history_table)));
        break;
    }
    if (!ConditionalLockRelationOid(pe->history_relid, ShareRowExclusiveLock)) {
        lock_holders holders;
        lock_wait w = {false, pe->history_relid};
        find_holders(pe, false, &holders);
        wait_for_lock(pe, &w, holders.names.data);
    }
    return MIG_OK;
}

/* engine.now_utc: the wall clock (not the transaction start), ISO-8601 UTC. */
static char *engine_now_utc(void *h)
{
    (void)h;
    TimestampTz now = GetCurrentTimestamp();
    int64 unix_us = now + (int64)(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
    return mig_history_timestamp(unix_us / 1000);
}

/* engine.current_user */
static char *engine_current_user(void *h)
{
    (void)h;
    return mig_strdup(GetUserNameFromId(GetUserId(), false));
}

/* engine.progress: a NOTICE per migration, so psql shows progress. */
static void engine_progress(void *h, const char *message)
{
    (void)h;
    ereport(NOTICE, (errmsg("%s", message)));
}

/* Set up the engine for one call. */
void pg_engine_begin(pg_engine *pe, mig_engine *eng, Oid fn_oid)
{
    pe->caller_cxt = CurrentMemoryContext;
    pe->cxt = AllocSetContextCreate(CurrentMemoryContext, "migrate", ALLOCSET_DEFAULT_SIZES);
    core_cxt = pe->cxt;
    mig_set_allocator(&pg_allocator);
    pe->depth = 0;
    pe->aborted = false;
    Oid schema = get_func_namespace(fn_oid);
    const char *nsp = get_namespace_name(schema);
    pe->history_table =
        MemoryContextStrdup(pe->cxt, quote_qualified_identifier(nsp, "migrate_history"));
    pe->scripts_table =
        MemoryContextStrdup(pe->cxt, quote_qualified_identifier(nsp, "migrate_scripts"));
    pe->key_table = MemoryContextStrdup(pe->cxt, quote_qualified_identifier(nsp, "migrate_key"));
    pe->key = NULL;
    pe->record_function =
        MemoryContextStrdup(pe->cxt, quote_qualified_identifier(nsp, "migrate_record"));
    /* history is written as its owner: the role that created the extension */
    pe->history_owner = InvalidOid;
    pe->schema = MemoryContextStrdup(pe->cxt, quote_identifier(nsp));
    Oid history = get_relname_relid("migrate_history", schema);
    pe->history_relid = history;
    if (OidIsValid(history)) {
        HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(history));
        if (HeapTupleIsValid(tup)) {
            pe->history_owner = ((Form_pg_class)GETSTRUCT(tup))->relowner;
            ReleaseSysCache(tup);
        }
    }
    /* migrate_script's run spans transactions, so it holds the session-level lock */
    pe->lock_statement = MemoryContextStrdup(
        pe->cxt,
        psprintf("SELECT pg_catalog.pg_advisory_lock(" INT64_FORMAT ");", MIG_PG_LOCK_KEY));
    pe->unlock_statement = MemoryContextStrdup(
        pe->cxt,
        psprintf("SELECT pg_catalog.pg_advisory_unlock(" INT64_FORMAT ");", MIG_PG_LOCK_KEY));
    pe->guard_fmt = MemoryContextStrdup(
        pe->cxt, psprintf("%s.migrate_script_guard(%%s, %%s)", quote_identifier(nsp)));
    *eng = (mig_engine){
        .handle = pe,
        .history_table = pe->history_table,
        .history_prepare = engine_history_prepare,
        .exec_script = engine_exec_script,
        .check_script = engine_check_script,
        .query = engine_query,
        .savepoint = engine_savepoint,
        .release = engine_release,
        .rollback = engine_rollback,
        .lock = engine_lock,
        .steps_begin = NULL,
        .steps_end = NULL,
        .now_utc = engine_now_utc,
        .current_user = engine_current_user,
        .table_describe = pg_table_describe,
        .index_state = pg_index_state,
        .quarantine_state = pg_quarantine_state,
        .unique_create = pg_unique_create,
        .timestamp_type = "timestamptz",
        .scripts_table = pe->scripts_table,
        .scripts_prepare = NULL,
        .caller_in_transaction = NULL,
        .exec_autocommit = NULL,
        .split_statements = engine_split_statements,
        .check_leftovers = engine_check_leftovers,
        .literal = engine_literal,
        .script =
            {
                .prologue = {pe->lock_statement, NULL},
                .epilogue = {pe->unlock_statement, NULL},
                .begin = "BEGIN;",
                .commit = "COMMIT;",
                .outside_begin = pe->unlock_statement,
                .outside_end = pe->lock_statement,
                .guard_fmt = pe->guard_fmt,
                .now_sql = "pg_catalog.clock_timestamp()",
                .user_sql = "CURRENT_USER",
            },
        .progress = engine_progress,
        .record = engine_record,
        .script_record = engine_script_record,
    };
}

/* One call of an SQL function around a core operation. */
static void call_op(FunctionCallInfo fcinfo, pg_engine_op op, void *arg)
{
    MemoryContext function_cxt = CurrentMemoryContext;
    pg_engine pe;
    mig_engine eng;
    mig_error err;
    int rc = MIG_OK;
    SPI_connect();
    pg_engine_begin(&pe, &eng, fcinfo->flinfo->fn_oid);
    pe.function_cxt = function_cxt;
    mig_error_init(&err);
    PG_ENGINE_GUARD(&pe, rc = op(&eng, arg, &err));
    if (rc != MIG_OK)
        pg_engine_raise(&err);
    SPI_finish();
}

/*
 * One call of an SQL function around a core operation, unless it re-enters the call running in
 * this backend (a migration calling migrate_apply would recurse until the stack runs out).
 */
void pg_engine_call(FunctionCallInfo fcinfo, pg_engine_op op, void *arg)
{
    static mig_reentry running;
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

/* SQLSTATE for the core's own refusals, which carry none. */
static int error_code_of(const mig_error *err)
{
    if (err->sqlstate[0])
        return MAKE_SQLSTATE(err->sqlstate[0], err->sqlstate[1], err->sqlstate[2], err->sqlstate[3],
                             err->sqlstate[4]);
    if (err->code == MIG_NOMEM)
        return ERRCODE_OUT_OF_MEMORY;
    if (err->code == MIG_PRIVILEGE)
        return ERRCODE_INSUFFICIENT_PRIVILEGE;
    return ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
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

/* Reading a server folder is reading server files: the rule pg_read_file follows. */
void pg_engine_check_file_access(const char *function)
{
    if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
        ereport(ERROR,
                (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                 errmsg("permission denied for function %s", function),
                 errdetail("Role \"%s\" may not read server files: only superusers and members "
                           "of pg_read_server_files may.",
                           GetUserNameFromId(GetUserId(), false)),
                 errhint("GRANT pg_read_server_files TO the role that deploys migrations.")));
}
