/*
 * The core's engine interface implemented over SPI inside the caller's transaction, as the SQL
 * functions see it. Defined in pg_engine.c (the hooks, pg_engine_begin and pg_engine_end,
 * pg_engine_run_guarded), pg_call.c (the call harness: pg_engine_call, keep, text_arg, unwind,
 * raise) and pg_privilege.c (pg_engine_check_token, pg_engine_check_file_access);
 * pg_engine_internal.h holds what those files share among themselves.
 */
#ifndef PG_ENGINE_H
#define PG_ENGINE_H

#include "postgres.h"

#include "fmgr.h"

#include "utils/resowner.h"

#include "../common/mig_engine.h"
#include "../common/mig_engine_drift.h"
#include "../common/mig_engine_export.h"
#include "../common/mig_state.h"

/* The advisory lock every apply takes before reading history: 'migrate' as a bigint. */
#define MIG_PG_LOCK_KEY INT64CONST(30796665482998885)

/* migrate.lock_timeout, migrate.lock_retries, migrate.lock_retry_delay (pg_lock_retry.c). */
typedef struct pg_lock_settings {
    int timeout_ms;     /* each statement of a migration; 0: the caller's lock_timeout */
    int retries;        /* runs of the whole call again after a lock timeout */
    int retry_delay_ms; /* before each, give or take a quarter */
} pg_lock_settings;

extern pg_lock_settings pg_lock_policy;

/*
 * A statement prepared once for the call and run again with other parameters: the history
 * INSERT, which the core sends once per migration.
 */
typedef struct kept_query {
    char *sql;              /* its text: the plan is reused only for the same text */
    struct _SPI_plan *plan; /* kept (SPI_keepplan) until pg_engine_end; NULL: none */
    int nparams;            /* parameters the caller gives */
    int count;              /* parameters the statement has */
    Oid *types;             /* their types, as the parser inferred them */
    FmgrInfo *input;        /* their input functions */
    Oid *ioparams;
} kept_query;

typedef struct pg_engine {
    MemoryContext function_cxt; /* the SQL function's own context: results outlive SPI there */
    MemoryContext cxt;          /* where the core allocates; lives for the whole call */
    MemoryContext caller_cxt;   /* the context current when the call began (survives rollbacks) */
    char *history_table;        /* "schema".migrate_history */
    char *scripts_table;        /* "schema".migrate_scripts */
    char *key_table;            /* "schema".migrate_key: the secret of migrate_script's tokens */
    char *key;                  /* its key, once read in this call */
    char *record_function;      /* "schema".migrate_record */
    Oid history_owner;          /* who writes history: the owner of migrate_history */
    Oid history_relid;          /* migrate_history: its lock serialises every apply */
    char *schema;               /* the extension's schema, quoted */
    char *lock_statement, *unlock_statement, *guard_fmt; /* migrate_script's frame */
    int depth;                                           /* savepoints opened and not yet closed */
    ResourceOwner owners[4]; /* the resource owner in force when each savepoint was opened */
    bool aborted; /* a script's ERROR was caught in the innermost savepoint: only rollback now */
    mig_allocator alloc;      /* the core's allocator: palloc in cxt */
    mig_engine_export export; /* migrate_script's: its dialect names the extension's schema */
    mig_engine_drift drift;   /* schema drift, with this call's migrate_schema_history */
    struct HTAB *parsed;      /* scripts check_script parsed, by address (pg_engine_keep_parse) */
    bool lock_timed_out;      /* a script's statement gave up waiting, by migrate.lock_timeout */
    char *progress;           /* the last progress message: the migration running now */
    int completed;            /* statements of the last script run that completed */
    uint64 processed;         /* rows they inserted, updated or deleted */
    kept_query kept;          /* the history INSERT, prepared once per call */
} pg_engine;

/*
 * Set up the engine, its allocator in a fresh context under the current one (put in force by
 * pg_engine_call). fn_oid is the calling function: its schema is the extension's, where the
 * history lives.
 */
void pg_engine_begin(pg_engine *pe, mig_engine *eng, Oid fn_oid);
/* Release what the call kept (its prepared plan); run however the call ends. */
void pg_engine_end(pg_engine *pe);
/*
 * An ERROR that escapes the core (from a query of its own, the lock wait, a cancel) while the
 * call's subtransactions are open: roll them back, then re-throw the same error. Use through
 * PG_ENGINE_GUARD, so no internal subtransaction is ever left open.
 */
void pg_engine_unwind(pg_engine *pe) pg_attribute_noreturn();

#define PG_ENGINE_GUARD(pe, statement)                                                             \
    do {                                                                                           \
        PG_TRY();                                                                                  \
        {                                                                                          \
            statement;                                                                             \
        }                                                                                          \
        PG_CATCH();                                                                                \
        {                                                                                          \
            pg_engine_unwind(pe);                                                                  \
        }                                                                                          \
        PG_END_TRY();                                                                              \
    } while (0)

/* Run a script in a subtransaction of its own; an ERROR comes back in err, rolled back. */
int pg_engine_run_guarded(const char *sql, mig_error *err);
/* A core operation run by pg_engine_call; arg carries its inputs and outputs. */
typedef int (*pg_engine_op)(const mig_engine *eng, void *arg, mig_error *err);

/*
 * Run op as one call of an SQL function: SPI connected, the core's memory in a context of its
 * own, subtransactions left open by an ERROR rolled back, the core's error raised as an ERROR.
 */
void pg_engine_call(FunctionCallInfo fcinfo, pg_engine_op op, void *arg);
/* The policy migrate.out_of_order and migrate.missing describe now. */
mig_policy pg_engine_policy(void);
/*
 * pg_engine_call for a function that writes (history, schema, settings of the database): on a
 * server in recovery it fails first, SQLSTATE 25006, "<function>: this server is a standby in
 * recovery; apply on the primary". Every writer goes through it or through
 * pg_engine_refuse_on_standby, the check alone.
 */
void pg_engine_write(FunctionCallInfo fcinfo, pg_engine_op op, void *arg);
/* The standby check of pg_engine_write alone, for writers that run no core operation first. */
void pg_engine_refuse_on_standby(FunctionCallInfo fcinfo);
/* Copy s into the SQL function's context, so it outlives the call (NULL stays NULL). */
char *pg_engine_keep(const mig_engine *eng, const char *s);
/* Text argument i as a C string, or NULL when SQL NULL or absent. */
char *pg_engine_text_arg(FunctionCallInfo fcinfo, int i);

/*
 * migrate_record: refuse (MIG_PRIVILEGE, SQLSTATE 42501) unless token is the one migrate_script
 * wrote for exactly these values (version, name, checksum, down_checksum, up_sql, down_sql,
 * script).
 */
int pg_engine_check_token(const mig_engine *eng, const char *const values[7], const char *token,
                          mig_error *err);

/* Raise err as a PostgreSQL ERROR, keeping the engine's SQLSTATE; never returns. */
void pg_engine_raise(const mig_error *err) pg_attribute_noreturn();
/* Refuse unless the caller may read server files (superuser or pg_read_server_files). */
void pg_engine_check_file_access(const char *function);
/* Refuse unless the caller may write server files (superuser or pg_write_server_files). */
void pg_engine_check_file_write(const char *function);

#endif
