/*
 * The core's engine interface (common/mig_engine.h) over SPI, inside the caller's transaction.
 *
 *   pg_engine_begin(pe, eng, fn_oid)   fill eng with the hooks below for one call; the
 *                                      extension's tables are found in fn_oid's schema
 *   exec_script / split_statements     a script split by PostgreSQL's own parser and run
 *                                      statement by statement through SPI
 *   query                              the core's own SQL, prepared with inferred parameter
 *                                      types, rows handed back as text
 *   savepoint / release / rollback     internal subtransactions, counted in pe->depth so an
 *                                      ERROR can unwind them (pg_engine_unwind)
 *   lock                               SHARE ROW EXCLUSIVE on migrate_history plus the advisory
 *                                      key migrate_script's output holds; a failed wait names
 *                                      the sessions that hold it
 *   now_utc / current_user / progress  the wall clock, the role, a NOTICE per migration
 *
 * A migration's ERROR inside a call leaves the call's subtransaction failed (pe->aborted): every
 * hook but rollback refuses until the core rolls it back. The policy hooks (check_script,
 * check_leftovers) are in pg_script_policy.c, the hooks that run with other rights (record,
 * script_record) in pg_privilege.c, and the catching of ERRORs in pg_call.c.
 */
#include "pg_engine_internal.h"
#include "pg_schema.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/spi_priv.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "parser/parse_param.h"
#include "parser/parser.h"
#include "pgstat.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "pg_columns.h"
#include "pg_unique.h"

#include "../common/mig_alloc.h"
#include "../common/mig_engine_hooks.h"
#include "../common/mig_history.h"
#include "../common/mig_progress.h"
#include "../common/mig_script.h"

/* One script parse kept for the rest of the call, found by the text's address. */
typedef struct parsed_script {
    const char *sql; /* hash key */
    size_t len;
    List *stmts;         /* RawStmts, in pe->cxt */
    parse_settings made; /* the settings the parse was made under */
} parsed_script;

/* The settings that raw parsing depends on, as they are now. */
static parse_settings parse_settings_now(void)
{
    return (parse_settings){standard_conforming_strings, backslash_quote};
}

/* Whether a parse made under made would come out the same now. */
static bool parse_still_holds(parse_settings made)
{
    return made.standard_conforming_strings == standard_conforming_strings &&
           made.backslash_quote == backslash_quote;
}

/* Keep the statements check_script split sql into. */
void pg_engine_keep_parse(pg_engine *pe, const char *sql, size_t len, List *stmts)
{
    if (!pe->parsed) {
        HASHCTL ctl = {
            .keysize = sizeof(const char *), .entrysize = sizeof(parsed_script), .hcxt = pe->cxt};
        pe->parsed =
            hash_create("migrate parsed scripts", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
    }
    parsed_script *entry = hash_search(pe->parsed, &sql, HASH_ENTER, NULL);
    entry->len = len;
    entry->stmts = stmts;
    entry->made = parse_settings_now();
}

/* Take what check_script kept for sql. */
bool pg_engine_take_parse(pg_engine *pe, const char *sql, size_t len, List **stmts,
                          parse_settings *made)
{
    parsed_script *entry = pe->parsed ? hash_search(pe->parsed, &sql, HASH_FIND, NULL) : NULL;
    if (!entry || entry->len != len)
        return false;
    *stmts = entry->stmts;
    *made = entry->made;
    hash_search(pe->parsed, &sql, HASH_REMOVE, NULL);
    return true;
}

/* A script to run or split: its text, and its statements when check_script kept them. */
typedef struct exec_job {
    const char *sql;
    size_t len;
    List *stmts;
    bool parsed;         /* stmts holds the script's parse */
    parse_settings made; /* what it was parsed under */
    pg_engine *pe; /* a call's migration: shown in pg_stat_activity; NULL for the extension's SQL */
    int completed; /* statements that completed */
    uint64 processed; /* rows they inserted, updated or deleted */
} exec_job;

/*
 * Show in pg_stat_activity.query which migration and statement run now, so a DBA in another
 * session sees where a long call stands: "migrate: applying 3/10: 20240102 teams
 * (20240102_teams.sql), statement 2 at line 5: ALTER TABLE ...".
 */
static void show_statement(const exec_job *job, stmt_span span, int number)
{
    if (!job->pe || !job->pe->progress)
        return;
    size_t at = mig_script_skip_blank(job->sql, job->len, (size_t)span.start);
    if (at >= (size_t)(span.start + span.len))
        at = (size_t)span.start;
    char *excerpt = mig_progress_excerpt(job->sql + at, (size_t)(span.start + span.len) - at, 200);
    char *text = psprintf("migrate: %s, statement %d at line %d: %s", job->pe->progress, number,
                          mig_script_line_at(job->sql, job->len, at), excerpt ? excerpt : "");
    pgstat_report_activity(STATE_RUNNING, text);
    pfree(text);
    mig_free(excerpt);
}

/* Name a statement that ran long (MIG_SLOW_STATEMENT_MS) with a NOTICE as it ends. */
static void report_slow(const exec_job *job, stmt_span span, TimestampTz started)
{
    long ms = TimestampDifferenceMilliseconds(started, GetCurrentTimestamp());
    if (!job->pe || ms < MIG_SLOW_STATEMENT_MS)
        return;
    char *msg =
        mig_progress_slow(job->sql, job->len, (size_t)span.start, (size_t)span.len, (long long)ms);
    if (msg)
        ereport(NOTICE, (errmsg("%s", msg)));
    mig_free(msg);
}

/* The script's statements: the parse check_script kept, or PostgreSQL's parser now. */
static List *job_statements(exec_job *job)
{
    if (job->parsed)
        return job->stmts;
    job->made = parse_settings_now();
    return raw_parser(job->sql, RAW_PARSE_DEFAULT);
}

/*
 * Run one statement of the script from its parse, as SPI_execute runs each statement of a
 * string it parsed itself: a one-shot plan of the raw statement, analysed, planned and run in
 * SPI's executor context. The whole script is the statement's query text, as it is for each
 * statement of a query string a client sends: the parse's locations are offsets into it, so
 * an error's position is one in the script, and SPI's CONTEXT frame quotes the script
 * (pg_call.c takes that frame off an ERROR, as it does a statement's).
 */
static int execute_parsed(const char *sql, RawStmt *raw)
{
    _SPI_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.magic = _SPI_PLAN_MAGIC;
    plan.oneshot = true;
    plan.parse_mode = RAW_PARSE_DEFAULT;
    plan.cursor_options = CURSOR_OPT_PARALLEL_OK;
    CachedPlanSource *source = CreateOneShotCachedPlan(raw, sql, CreateCommandTag(raw->stmt));
    plan.plancache_list = list_make1(source);
    int rc = SPI_execute_plan(&plan, NULL, NULL, false, 0);
    list_free(plan.plancache_list);
    pfree(source);
    return rc;
}

/*
 * Run each statement of the script, from the parse check_script made (or one made now), so no
 * statement is parsed again. A statement that comes after a change of the settings the parse
 * depends on (standard_conforming_strings, backslash_quote) runs from its text, parsed by SPI
 * under the settings in force.
 */
static void exec_body(void *arg, volatile stmt_span *at)
{
    exec_job *job = arg;
    List *stmts = job_statements(job);
    ListCell *lc;
    foreach (lc, stmts) {
        RawStmt *raw = lfirst_node(RawStmt, lc);
        stmt_span span = pg_statement_span(job->len, raw);
        at->start = span.start;
        at->len = span.len;
        show_statement(job, span, foreach_current_index(lc) + 1);
        TimestampTz started = GetCurrentTimestamp();
        int rc;
        if (parse_still_holds(job->made)) {
            at->whole = true;
            rc = execute_parsed(job->sql, raw);
        } else {
            at->whole = false;
            char *one = pnstrdup(job->sql + span.start, span.len);
            rc = SPI_execute(one, false, 0);
            pfree(one);
        }
        if (rc < 0)
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("%s", SPI_result_code_string(rc))));
        if (rc == SPI_OK_INSERT || rc == SPI_OK_UPDATE || rc == SPI_OK_DELETE ||
            rc == SPI_OK_INSERT_RETURNING || rc == SPI_OK_UPDATE_RETURNING ||
            rc == SPI_OK_DELETE_RETURNING || rc == SPI_OK_MERGE)
            job->processed += SPI_processed;
        job->completed++;
        SPI_freetuptable(SPI_tuptable);
        report_slow(job, span, started);
    }
    at->start = -1;
}

/* Run a script in a subtransaction of its own, catching its ERROR into err. */
int pg_engine_run_guarded(const char *sql, mig_error *err)
{
    exec_job job = {sql,        strlen(sql), NIL, false,
                    {false, 0}, NULL,        0,   0}; /* the extension's SQL, not a script */
    return pg_engine_run_in_subtransaction(exec_body, &job, sql, err);
}

typedef struct split_job {
    exec_job script;
    mig_statement *list;
    size_t count;
} split_job;

/* Split with PostgreSQL's own parser (or take the split check_script made). */
static void split_body(void *arg, volatile stmt_span *at)
{
    split_job *job = arg;
    List *stmts = job_statements(&job->script);
    ListCell *lc;
    (void)at;
    job->list = mig_calloc(list_length(stmts) + 1, sizeof *job->list);
    foreach (lc, stmts) {
        stmt_span span = pg_statement_span(job->script.len, lfirst_node(RawStmt, lc));
        job->list[job->count++] = (mig_statement){(size_t)span.start, (size_t)span.len};
    }
}

/* export.split_statements */
static int engine_split_statements(void *h, const char *sql, size_t len, mig_statement **out,
                                   size_t *count, mig_error *err)
{
    split_job job = {{sql, len, NIL, false, {false, 0}, NULL, 0, 0}, NULL, 0};
    job.script.parsed = pg_engine_take_parse(h, sql, len, &job.script.stmts, &job.script.made);
    int rc = pg_engine_run_in_subtransaction(split_body, &job, sql, err);
    if (rc != MIG_OK) {
        mig_free(job.list);
        return rc;
    }
    *out = job.list;
    *count = job.count;
    return MIG_OK;
}

/* export.literal: quote_literal, which writes E'...' when the text holds a backslash. */
static char *engine_literal(void *h, const char *text)
{
    (void)h;
    return mig_strdup(quote_literal_cstr(text));
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
    exec_job job = {sql, len, NIL, false, {false, 0}, pe, 0, 0};
    if (pe->aborted)
        return pg_engine_aborted_refusal(err);
    job.parsed = pg_engine_take_parse(pe, sql, len, &job.stmts, &job.made);
    bool in_call = pe->depth > 0;
    int nestlevel = pg_lock_watch_begin(); /* not over the migration lock: that is taken before */
    int rc = pg_engine_run_catching_error(exec_body, &job, sql, !in_call, err);
    pg_lock_watch_end(pe, nestlevel, rc, err);
    if (pe->progress && debug_query_string) /* the caller's statement is shown again */
        pgstat_report_activity(STATE_RUNNING, debug_query_string);
    if (rc != MIG_OK && in_call)
        pe->aborted = true;
    pe->completed = job.completed;
    pe->processed = job.processed;
    return rc;
}

/* engine.exec_script, for the rehearsal (pg_check.c): pe->completed, pe->processed tell. */
int pg_engine_exec_script(void *h, const char *sql, size_t len, mig_error *err)
{
    return engine_exec_script(h, sql, len, err);
}

/* Parser hook: parameters take the types their context gives them, as in PREPARE without types. */
typedef struct inferred_params {
    Oid *types;
    int count;
} inferred_params;

/* SPI's parser setup: collect the parameters' types into p as the parser infers them. */
static void infer_params_setup(ParseState *pstate, void *arg)
{
    inferred_params *p = arg;
    setup_parse_variable_parameters(pstate, &p->types, &p->count);
}

typedef struct query_job {
    pg_engine *pe;
    const char *sql;
    int nparams;
    const char *const *params;
    mig_row_fn fn;
    void *ctx;
    bool keep; /* prepare once per call (pe->kept) and run that plan while sql stays the same */
    int result;
} query_job;

/*
 * Prepare sql with its parameters' types inferred; the plan lives in SPI's context of this call,
 * types (nparams of them, in pe->cxt) says what the parser made of each parameter.
 */
static SPIPlanPtr prepare_inferred(pg_engine *pe, const char *sql, int nparams, Oid **types,
                                   int *count)
{
    /*
     * Sized up front in our own context: the parser then writes the types into this array in
     * place, instead of allocating one in SPI's executor context, which SPI resets on return.
     */
    inferred_params inferred = {
        nparams ? MemoryContextAllocZero(pe->cxt, sizeof(Oid) * nparams) : NULL, nparams};
    SPIPlanPtr plan = SPI_prepare_params(sql, infer_params_setup, &inferred, 0);
    if (!plan)
        elog(ERROR, "migrate: could not prepare an internal query: %s",
             SPI_result_code_string(SPI_result));
    *types = inferred.types;
    *count = inferred.count;
    return plan;
}

/* Forget the plan kept for the call (pg_engine_end, or before another is kept). */
static void forget_kept(pg_engine *pe)
{
    kept_query *k = &pe->kept;
    if (k->plan)
        SPI_freeplan(k->plan);
    if (k->sql)
        pfree(k->sql);
    if (k->input)
        pfree(k->input);
    if (k->ioparams)
        pfree(k->ioparams);
    if (k->types)
        pfree(k->types);
    memset(k, 0, sizeof *k);
}

/*
 * The plan kept for sql, prepared now when none is kept for that text. SPI_keepplan puts it in
 * the plan cache, so the DDL of the call's migrations invalidates it (and it is planned again)
 * whenever it touches what the plan depends on; the input functions of its parameters are
 * looked up once.
 */
static kept_query *kept_plan(pg_engine *pe, const char *sql, int nparams)
{
    kept_query *k = &pe->kept;
    if (k->plan && strcmp(k->sql, sql) == 0 && k->nparams == nparams)
        return k;
    forget_kept(pe);
    Oid *types;
    int count;
    SPIPlanPtr plan = prepare_inferred(pe, sql, nparams, &types, &count);
    if (SPI_keepplan(plan) != 0)
        elog(ERROR, "migrate: could not keep an internal query's plan");
    k->input = MemoryContextAllocZero(pe->cxt, sizeof(FmgrInfo) * (count ? count : 1));
    k->ioparams = MemoryContextAllocZero(pe->cxt, sizeof(Oid) * (count ? count : 1));
    for (int i = 0; i < count; i++) {
        Oid input;
        if (!OidIsValid(types[i]))
            types[i] = TEXTOID; /* a parameter the statement does not use */
        getTypeInputInfo(types[i], &input, &k->ioparams[i]);
        fmgr_info_cxt(input, &k->input[i], pe->cxt);
    }
    k->types = types;
    k->count = count;
    k->nparams = nparams;
    k->sql = MemoryContextStrdup(pe->cxt, sql);
    k->plan = plan;
    return k;
}

/* Release what the call kept: its prepared plan. Called however the call ends. */
void pg_engine_end(pg_engine *pe)
{
    forget_kept(pe);
}

/*
 * Rows handed to the core as they come out of the executor, one at a time: each value as text
 * (NULL for SQL NULL), converted by its type's output function, looked up once per query (text
 * and varchar read directly). Nothing is gathered into a tuple table, and what a row needs is
 * freed as soon as the core has it: the core copies what it keeps.
 */
typedef struct row_receiver {
    DestReceiver pub;
    mig_row_fn fn;
    void *ctx;
    int result;
    MemoryContext cxt;    /* the query's: the output functions */
    MemoryContext rowcxt; /* one row's values, reset after each */
    int natts;
    FmgrInfo *out; /* per column; unused where direct */
    bool *direct;  /* text or varchar: the bytes are the text */
    const char **values;
} row_receiver;

/* Look up the output of each column of desc. */
static void rows_startup(DestReceiver *self, int operation, TupleDesc desc)
{
    row_receiver *r = (row_receiver *)self;
    (void)operation;
    if (r->values) /* a second run of the same receiver */
        return;
    r->natts = desc->natts;
    r->out = MemoryContextAllocZero(r->cxt, sizeof(FmgrInfo) * (r->natts + 1));
    r->direct = MemoryContextAllocZero(r->cxt, sizeof(bool) * (r->natts + 1));
    r->values = MemoryContextAllocZero(r->cxt, sizeof(char *) * (r->natts + 1));
    for (int c = 0; c < r->natts; c++) {
        Oid type = TupleDescAttr(desc, c)->atttypid;
        if (type == TEXTOID || type == VARCHAROID) {
            r->direct[c] = true;
        } else {
            Oid output;
            bool varlena;
            getTypeOutputInfo(type, &output, &varlena);
            fmgr_info_cxt(output, &r->out[c], r->cxt);
        }
    }
}

/* One row: its values as text to the core; false (stop) once the core answers other than OK. */
static bool rows_receive(TupleTableSlot *slot, DestReceiver *self)
{
    row_receiver *r = (row_receiver *)self;
    if (!r->values)
        rows_startup(self, 0, slot->tts_tupleDescriptor);
    slot_getallattrs(slot);
    MemoryContext old = MemoryContextSwitchTo(r->rowcxt);
    for (int c = 0; c < r->natts; c++) {
        if (slot->tts_isnull[c])
            r->values[c] = NULL;
        else if (r->direct[c])
            r->values[c] = text_to_cstring(DatumGetTextPP(slot->tts_values[c]));
        else
            r->values[c] = OutputFunctionCall(&r->out[c], slot->tts_values[c]);
    }
    r->result = r->fn(r->ctx, r->natts, r->values);
    MemoryContextSwitchTo(old);
    MemoryContextReset(r->rowcxt);
    return r->result == MIG_OK;
}

/* Nothing to do at the end of a run or on destroy: the contexts go with the query. */
static void rows_nothing(DestReceiver *self)
{
    (void)self;
}

/* Run a prepared plan with params bound and hand each row to the core; the rows' status. */
static int run_plan(pg_engine *pe, SPIPlanPtr plan, ParamListInfo list, mig_row_fn fn, void *ctx)
{
    row_receiver r;
    SPIExecuteOptions options;
    memset(&options, 0, sizeof options);
    options.params = list;
    if (fn) {
        memset(&r, 0, sizeof r);
        r.pub = (DestReceiver){rows_receive, rows_startup, rows_nothing, rows_nothing, DestNone};
        r.fn = fn;
        r.ctx = ctx;
        r.result = MIG_OK;
        r.cxt = AllocSetContextCreate(pe->cxt, "migrate query", ALLOCSET_SMALL_SIZES);
        r.rowcxt = AllocSetContextCreate(r.cxt, "migrate row", ALLOCSET_DEFAULT_SIZES);
        options.dest = &r.pub;
    }
    int rc = SPI_execute_plan_extended(plan, &options);
    if (rc < 0)
        elog(ERROR, "migrate: internal query failed: %s", SPI_result_code_string(rc));
    SPI_freetuptable(SPI_tuptable);
    if (!fn)
        return MIG_OK;
    MemoryContextDelete(r.cxt);
    return r.result;
}

/* Parameter i of job, or NULL past the ones given. */
static const char *param_text(const query_job *job, int i)
{
    return i < job->nparams ? job->params[i] : NULL;
}

/* Prepare (or take the kept plan), bind and run one internal query, rows to the core. */
static void query_body(void *arg)
{
    query_job *job = arg;
    if (job->keep) {
        kept_query *k = kept_plan(job->pe, job->sql, job->nparams);
        ParamListInfo list = k->count ? makeParamList(k->count) : NULL;
        for (int i = 0; i < k->count; i++) {
            ParamExternData *prm = &list->params[i];
            const char *text = param_text(job, i);
            prm->ptype = k->types[i];
            prm->pflags = PARAM_FLAG_CONST;
            prm->isnull = text == NULL;
            prm->value = InputFunctionCall(&k->input[i], (char *)text, k->ioparams[i], -1);
        }
        job->result = run_plan(job->pe, k->plan, list, job->fn, job->ctx);
        if (list)
            pfree(list);
        return;
    }
    Oid *types;
    int count;
    SPIPlanPtr plan = prepare_inferred(job->pe, job->sql, job->nparams, &types, &count);
    ParamListInfo list = count ? makeParamList(count) : NULL;
    for (int i = 0; i < count; i++) {
        ParamExternData *prm = &list->params[i];
        const char *text = param_text(job, i);
        Oid input, ioparam;
        prm->ptype = OidIsValid(types[i]) ? types[i] : TEXTOID; /* unused */
        prm->pflags = PARAM_FLAG_CONST;
        prm->isnull = text == NULL;
        getTypeInputInfo(prm->ptype, &input, &ioparam);
        prm->value = OidInputFunctionCall(input, (char *)text, ioparam, -1);
    }
    job->result = run_plan(job->pe, plan, list, job->fn, job->ctx);
    SPI_freeplan(plan);
    if (types)
        pfree(types);
}

/* pg_engine_query, with the plan kept for the call when keep is set. */
static int run_query(pg_engine *pe, const char *sql, int nparams, const char *const *params,
                     mig_row_fn fn, void *ctx, bool keep, mig_error *err)
{
    if (pe->aborted)
        return pg_engine_aborted_refusal(err);
    query_job job = {pe, sql, nparams, params, fn, ctx, keep, MIG_OK};
    pg_engine_with_pinned_search_path(query_body, &job);
    if (job.result == MIG_NOMEM)
        return mig_fail_nomem(err);
    return job.result;
}

/*
 * engine.query: text parameters converted by the input functions of their inferred types,
 * under a pinned search_path (the core's own SQL, never a migration's).
 */
int pg_engine_query(void *h, const char *sql, int nparams, const char *const *params, mig_row_fn fn,
                    void *ctx, mig_error *err)
{
    return run_query(h, sql, nparams, params, fn, ctx, false, err);
}

/*
 * pg_engine_query for a statement the call runs again and again (the history INSERT, once per
 * migration): prepared and planned once per call, not once per row.
 */
int pg_engine_query_kept(void *h, const char *sql, int nparams, const char *const *params,
                         mig_error *err)
{
    return run_query(h, sql, nparams, params, NULL, NULL, true, err);
}

/* engine.history_prepare: the extension's script created the table. */
static int engine_history_prepare(void *h, bool create, bool *exists, mig_error *err)
{
    (void)h, (void)create, (void)err;
    *exists = true;
    return MIG_OK;
}

/* engine.savepoint: a subtransaction, keeping the caller's memory context. */
static int engine_savepoint(void *h, const char *name, mig_error *err)
{
    pg_engine *pe = h;
    MemoryContext oldcxt = CurrentMemoryContext;
    if (pe->aborted)
        return pg_engine_aborted_refusal(err);
    if (pe->depth >= (int)lengthof(pe->owners))
        return mig_fail(err, MIG_ERR_LIMIT, "migrate: savepoints nested too deeply");
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
        return pg_engine_aborted_refusal(err);
    }
    ReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(oldcxt);
    CurrentResourceOwner = pe->owners[--pe->depth];
    return MIG_OK;
}

/* engine.savepoint, release and rollback, for the rehearsal's savepoint per migration. */
int pg_engine_savepoint(void *h, const char *name, mig_error *err)
{
    return engine_savepoint(h, name, err);
}

/* engine.release, for the rehearsal. */
int pg_engine_release(void *h, const char *name, mig_error *err)
{
    return engine_release(h, name, err);
}

/* engine.rollback, for the rehearsal. */
void pg_engine_rollback(void *h, const char *name)
{
    engine_rollback(h, name);
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
        return MIG_ERR_STATE;
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
    if (pg_engine_query(pe, sql, 0, NULL, on_holder_row, out, &err) != MIG_OK)
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
        mig_fail(err, MIG_ERR_STATE,
                 "migrate cannot apply, revert or repair migrations in a %s transaction: its "
                 "snapshot predates the migration lock, so it could not see what another "
                 "session applied meanwhile",
                 IsolationIsSerializable() ? "SERIALIZABLE" : "REPEATABLE READ");
        mig_error_set_hint(err, "run it in a READ COMMITTED transaction (the default)");
        strcpy(err->sqlstate, "25000"); /* invalid_transaction_state */
        return err->code;
    }
    if (!OidIsValid(pe->history_relid))
        return mig_fail(err, MIG_ERR_NO_TABLE, "migrate: table %s is missing", pe->history_table);
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

/*
 * hooks.progress: a NOTICE, so psql shows progress. The line announcing a migration is kept to
 * name it in pg_stat_activity while its statements run.
 */
static void engine_progress(void *h, const char *message)
{
    pg_engine *pe = h;
    ereport(NOTICE, (errmsg("%s", message)));
    if (strncmp(message, "applying ", 9) == 0 || strncmp(message, "reverting ", 10) == 0) {
        if (pe->progress)
            pfree(pe->progress);
        pe->progress = MemoryContextStrdup(pe->cxt, message);
    }
}

/* The hooks: the script policy (pg_script_policy.c) and a NOTICE per migration. */
static const mig_engine_hooks pg_hooks = {
    .scripts_prepare = NULL, /* the extension's script created migrate_scripts */
    .unclosed = NULL,        /* the core's default is PostgreSQL's quoting */
    .check_script = pg_engine_check_script,
    .check_leftovers = pg_engine_check_leftovers,
    .steps_begin = NULL,
    .steps_end = NULL,
    .progress = engine_progress,
};

/* Set up the engine for one call. */
void pg_engine_begin(pg_engine *pe, mig_engine *eng, Oid fn_oid)
{
    pe->caller_cxt = CurrentMemoryContext;
    pe->cxt = AllocSetContextCreate(CurrentMemoryContext, "migrate", ALLOCSET_DEFAULT_SIZES);
    pe->alloc = pg_engine_allocator(pe->cxt);
    pe->depth = 0;
    pe->aborted = false;
    pe->parsed = NULL;
    pe->lock_timed_out = false;
    pe->progress = NULL;
    pe->completed = 0;
    pe->processed = 0;
    memset(&pe->kept, 0, sizeof pe->kept);
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
    pe->export = (mig_engine_export){
        .split_statements = engine_split_statements,
        .literal = engine_literal,
        .check_export = NULL,
        .script_record = pg_engine_script_record,
        .dialect =
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
    };
    *eng = (mig_engine){
        .handle = pe,
        .alloc = &pe->alloc,
        .history_table = pe->history_table,
        .scripts_table = pe->scripts_table,
        .exec_script = engine_exec_script,
        .query = pg_engine_query,
        .savepoint = engine_savepoint,
        .release = engine_release,
        .rollback = engine_rollback,
        .lock = engine_lock,
        .now_utc = engine_now_utc,
        .current_user = engine_current_user,
        .history_prepare = engine_history_prepare,
        .record = pg_engine_record,
        .hooks = &pg_hooks,
        .unique = &pg_unique,
        .columns = &pg_columns,
        .notx = NULL, /* a function always runs inside a transaction */
        .export = &pe->export,
        .rehearse = &pg_rehearse,
        .drift = pg_schema_drift(pe, schema),
    };
}
