/*
 * What the files of the PostgreSQL engine share among themselves, and nothing else includes:
 *
 *   pg_call.c           the call harness: the core's allocator, catching an ERROR into a mig_error,
 *                       raising one back, unwinding the call's subtransactions
 *   pg_engine.c         the mig_engine hooks: scripts, queries, savepoints, the lock, clock, user
 *   pg_script_policy.c  what a migration may not run here, and the INVALID indexes it left
 *   pg_lock_retry.c     migrate.lock_timeout around each script, and running a call again
 *                       after a statement timed out on a lock
 *   pg_privilege.c      whose rights each step runs with: file access, history written as its
 *                       owner, migrate_record's token, the pinned search_path
 *
 * The public side (the SQL functions' view of the engine) is pg_engine.h.
 */
#ifndef PG_ENGINE_INTERNAL_H
#define PG_ENGINE_INTERNAL_H

#include "pg_engine.h"

#include "nodes/parsenodes.h"

/*
 * Where in the script the statement running now lies: start -1 while none is. whole: it runs
 * with the whole script as its query text (an ERROR's CONTEXT frame and internal query are the
 * script's), else with its own text alone.
 */
typedef struct stmt_span {
    int start;
    int len;
    bool whole;
} stmt_span;

/* The settings a raw parse depends on, as they were when a script was parsed. */
typedef struct parse_settings {
    bool standard_conforming_strings;
    int backslash_quote;
} parse_settings;

/* Work run with its ERROR caught; it sets *at to the statement of the script it is running. */
typedef void (*pg_caught_body)(void *arg, volatile stmt_span *at);

/*
 * Where a statement PostgreSQL's parser split off lies in the len bytes of sql (the last one may
 * run to the end).
 */
static inline stmt_span pg_statement_span(size_t len, const RawStmt *raw)
{
    int start = raw->stmt_location < 0 ? 0 : raw->stmt_location;
    int n = raw->stmt_len ? raw->stmt_len : (int)len - start;
    return (stmt_span){start, n, false};
}

/* pg_call.c */

/* The core's allocator for one call: palloc in cxt. */
mig_allocator pg_engine_allocator(MemoryContext cxt);
/*
 * Run body(arg); an ERROR it raises comes back in err (MIG_ENGINE) instead of unwinding the
 * stack. own_subtransaction: body runs in a subtransaction of its own, rolled back on ERROR;
 * without, the enclosing subtransaction is left failed and the caller must roll it back.
 */
int pg_engine_run_catching_error(pg_caught_body body, void *arg, const char *sql,
                                 bool own_subtransaction, mig_error *err);
/* pg_engine_run_catching_error in a subtransaction of its own. */
int pg_engine_run_in_subtransaction(pg_caught_body body, void *arg, const char *sql,
                                    mig_error *err);
/* What every operation but a rollback answers once a script's ERROR is pending in a call. */
int pg_engine_aborted_refusal(mig_error *err);

/* pg_engine.c */

/*
 * A script parsed once: check_script keeps the statements PostgreSQL's parser split sql into
 * (allocated in pe->cxt) for exec_script or split_statements to take, so the script's raw parse
 * is not repeated. The core checks every script of a plan before it runs or splits any.
 */
void pg_engine_keep_parse(pg_engine *pe, const char *sql, size_t len, List *stmts);
/*
 * The statements kept for sql and the settings they were parsed under, forgotten once taken;
 * false when none were kept.
 */
bool pg_engine_take_parse(pg_engine *pe, const char *sql, size_t len, List **stmts,
                          parse_settings *made);

/* engine.query: the core's own SQL, under the pinned search_path. */
int pg_engine_query(void *h, const char *sql, int nparams, const char *const *params, mig_row_fn fn,
                    void *ctx, mig_error *err);

/*
 * pg_engine_query for a statement run once per migration (the history INSERT): prepared once per
 * call, its plan kept in the plan cache (so DDL that touches what it reads plans it again), until
 * pg_engine_end. No rows.
 */
int pg_engine_query_kept(void *h, const char *sql, int nparams, const char *const *params,
                         mig_error *err);

/* The savepoint hooks and exec_script, for the rehearsal's savepoint per migration. */
int pg_engine_savepoint(void *h, const char *name, mig_error *err);
int pg_engine_release(void *h, const char *name, mig_error *err);
void pg_engine_rollback(void *h, const char *name);
int pg_engine_exec_script(void *h, const char *sql, size_t len, mig_error *err);

/* pg_check.c */

/* The rehearse capability (common/mig_engine_rehearse.h). */
extern const struct mig_engine_rehearse pg_rehearse;
/* Define migrate.check_lock_timeout (from _PG_init). */
void pg_check_define_settings(void);

/* pg_script_policy.c */

/* hooks.check_script: refuse, before anything runs, what cannot run in a transaction. */
int pg_engine_check_script(void *h, const char *sql, size_t len, bool outside, mig_error *err);
/* hooks.check_leftovers: a failed CREATE INDEX CONCURRENTLY leaves an INVALID index behind. */
int pg_engine_check_leftovers(void *h, const char *sql, mig_error *err);

/* pg_lock_retry.c */

/* Before a script: migrate.lock_timeout in force; the nest level to end with, or -1 when off. */
int pg_lock_watch_begin(void);
/* After it: the caller's lock_timeout back; a lock timeout marks the call for pg_lock_retry. */
void pg_lock_watch_end(pg_engine *pe, int nestlevel, int rc, const mig_error *err);
/*
 * After try number tries failed with err and was rolled back: true (after a NOTICE and the
 * delay) to run the call again; false with err saying what was waited for after the last try.
 */
bool pg_lock_retry(pg_engine *pe, int tries, mig_error *err);

/* pg_privilege.c */

/* Run fn(arg) with search_path pg_catalog, pg_temp; put back on every exit. */
void pg_engine_with_pinned_search_path(void (*fn)(void *arg), void *arg);
/* engine.record: the history INSERT, as the history's owner. */
int pg_engine_record(void *h, const char *sql, int nparams, const char *const *params,
                     mig_error *err);
/* export.script_record: the migrate_record call, with its token, that migrate_script writes. */
char *pg_engine_script_record(void *h, const char *const values[7], const char *guard);

#endif
