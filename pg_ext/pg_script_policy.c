/*
 * What a migration may not run on PostgreSQL, checked before anything of it runs.
 *
 *   hooks.check_script       split the script with PostgreSQL's own parser and refuse
 *                            (SQLSTATE 25001) the first statement that cannot run inside
 *                            migrate_apply's transaction: transaction control, CREATE INDEX and
 *                            REINDEX CONCURRENTLY, VACUUM, CREATE/DROP DATABASE and TABLESPACE,
 *                            ALTER SYSTEM, COPY from or to the client
 *   hooks.check_leftovers    an index the script builds CONCURRENTLY that exists but is INVALID
 *                            (a failed earlier run left it, 55000) or is being built right now in
 *                            another session (55006)
 *
 * Both parse in a subtransaction of their own, so a syntax error comes back as the migration's
 * error (with its line and column) and nothing is left behind. Nothing here runs a statement of
 * the script.
 */
#include "pg_engine_internal.h"

#include "catalog/namespace.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "access/htup_details.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "../common/mig_alloc.h"
#include "../common/mig_messages.h"

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

typedef struct check_job {
    const char *sql;
    size_t len;
    MemoryContext keep; /* where the parse is made to be kept for the call, or NULL */
    List *stmts;
    const char *refusal; /* the first statement that cannot run, and why */
    int refused_at;
} check_job;

/* Split the script with PostgreSQL's own parser and find its first refused statement. */
static void check_body(void *arg, volatile stmt_span *at)
{
    check_job *job = arg;
    MemoryContext old = job->keep ? MemoryContextSwitchTo(job->keep) : CurrentMemoryContext;
    job->stmts = raw_parser(job->sql, RAW_PARSE_DEFAULT);
    MemoryContextSwitchTo(old);
    ListCell *lc;
    foreach (lc, job->stmts) {
        RawStmt *raw = lfirst_node(RawStmt, lc);
        stmt_span span = pg_statement_span(job->len, raw);
        at->start = span.start;
        at->len = span.len;
        const char *why = refusal_reason(raw->stmt);
        if (why && !job->refusal) {
            job->refusal = why;
            job->refused_at = span.start;
        }
    }
    at->start = -1;
}

/*
 * hooks.check_script: refuse, before anything runs, what cannot run in a transaction. The
 * parse is kept (pg_engine_keep_parse) for exec_script or split_statements to take.
 */
int pg_engine_check_script(void *h, const char *sql, size_t len, bool outside, mig_error *err)
{
    pg_engine *pe = h;
    check_job job = {sql, len, pe->cxt, NIL, NULL, -1};
    if (outside) /* check_outside_steps has refused it: PostgreSQL functions cannot run one */
        return MIG_OK;
    if (pe->aborted)
        return pg_engine_aborted_refusal(err);
    int rc = pg_engine_run_in_subtransaction(check_body, &job, sql, err);
    if (rc == MIG_OK && !job.refusal)
        pg_engine_keep_parse(pe, sql, len, job.stmts);
    if (rc == MIG_ENGINE && strcmp(err->sqlstate, "42601") == 0 && err->offset > 0) {
        /*
         * A syntax error may be the data of a COPY ... FROM STDIN written as pg_dump writes it:
         * if what precedes the failing statement holds a statement we refuse, report that.
         */
        char *prefix = pnstrdup(sql, err->offset);
        check_job before = {prefix, (size_t)err->offset, NULL, NIL, NULL, -1};
        mig_error ignored;
        mig_error_init(&ignored);
        if (pg_engine_run_in_subtransaction(check_body, &before, prefix, &ignored) == MIG_OK &&
            before.refusal) {
            job = before;
            rc = MIG_OK;
        }
        mig_error_clear(&ignored);
    }
    if (rc == MIG_OK && job.refusal) {
        rc = mig_fail(err, MIG_ERR_STATE, "%s", job.refusal);
        strlcpy(err->sqlstate, "25001", sizeof err->sqlstate); /* active_sql_transaction */
        err->offset = job.refused_at;
    }
    return rc;
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
    /* only no-transaction scripts come here, and a PostgreSQL function refuses to run them */
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

/* hooks.check_leftovers: a failed CREATE INDEX CONCURRENTLY leaves an INVALID index behind. */
int pg_engine_check_leftovers(void *h, const char *sql, mig_error *err)
{
    leftover_job job = {sql, NULL, false};
    (void)h;
    int rc = pg_engine_run_in_subtransaction(leftover_body, &job, sql, err);
    if (rc == MIG_OK && job.invalid && job.in_progress) {
        mig_fail(err, MIG_ERR_STATE,
                 "index %s is being built right now by a CREATE INDEX CONCURRENTLY of this "
                 "migration in another session",
                 job.invalid);
        mig_error_set_hint(err, "wait for it to finish, then look at migrations_status again");
        strcpy(err->sqlstate, "55006"); /* object_in_use */
        mig_free(job.invalid);
        rc = err->code;
    } else if (rc == MIG_OK && job.invalid) {
        mig_fail(err, MIG_ERR_STATE,
                 "index %s is INVALID: a CREATE INDEX CONCURRENTLY of this migration failed "
                 "before and left it behind",
                 job.invalid);
        mig_error_set_hint(err, "DROP INDEX CONCURRENTLY %s; then run the migration again",
                           job.invalid);
        mig_free(job.invalid);
        rc = err->code;
    }
    return rc;
}
