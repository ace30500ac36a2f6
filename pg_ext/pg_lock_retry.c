/*
 * Lock timeouts with retry: migrate.lock_timeout, migrate.lock_retries, migrate.lock_retry_delay.
 *
 *   pg_lock_watch_begin / _end   around one script: lock_timeout is migrate.lock_timeout for its
 *                                statements only (the caller's value is back after), and a timer
 *                                notes which lock a statement is waiting for
 *   pg_lock_retry                after a call failed: whether to run it again (a NOTICE naming
 *                                the lock and who holds it, then the delay), or the final error
 *
 * The migration lock (engine_lock) is taken outside any script, so the caller's lock_timeout
 * alone bounds its wait. A timed-out statement fails the call, whose subtransaction the core
 * rolls back: every lock the call took is let go of, and the call runs again from its start in
 * the same transaction. PostgreSQL's lock timeout ERROR names no lock, and the backend forgets
 * which one it waited for before raising it, so while a script runs a timer samples the lock
 * this backend sleeps on (MyProc->waitLock); the holders are looked up once the call is rolled
 * back, when they still hold it.
 */
#include "pg_engine_internal.h"

#include "common/pg_prng.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "../common/mig_alloc.h"

pg_lock_settings pg_lock_policy = {0, 0, 1000};

/* The sampling timer, registered on first use (a backend has few timeouts to give). */
static TimeoutId sampler = MAX_TIMEOUTS;

/* The lock the running statement was last seen waiting for, written by the timer. */
static volatile bool waited_seen;
static volatile uint32 waited_db, waited_object;
static volatile uint8 waited_type;

/* The timer's handler (in the signal handler): note the lock this backend sleeps on, if any. */
static void sample_wait(void)
{
    const LOCK *lock = MyProc ? MyProc->waitLock : NULL;
    if (!lock)
        return;
    waited_type = lock->tag.locktag_type;
    waited_db = lock->tag.locktag_field1;
    waited_object = lock->tag.locktag_field2;
    waited_seen = true;
}

/*
 * Before a script runs: lock_timeout becomes migrate.lock_timeout, and the timer starts.
 * Returns the GUC nest level to give pg_lock_watch_end, or -1 when the setting is off.
 */
int pg_lock_watch_begin(void)
{
    if (pg_lock_policy.timeout_ms <= 0)
        return -1;
    if (sampler == MAX_TIMEOUTS)
        sampler = RegisterTimeout(USER_TIMEOUT, sample_wait);
    int nestlevel = NewGUCNestLevel();
    char value[32];
    snprintf(value, sizeof value, "%d", pg_lock_policy.timeout_ms);
    (void)set_config_option("lock_timeout", value, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                            true, 0, false);
    waited_seen = false;
    /* a few samples within every wait that lock_timeout ends */
    int every = Min(Max(pg_lock_policy.timeout_ms / 4, 1), 100);
    enable_timeout_every(sampler, TimestampTzPlusMilliseconds(GetCurrentTimestamp(), every), every);
    return nestlevel;
}

/*
 * After the script: the timer stops and the caller's lock_timeout is back. A statement that
 * timed out on a lock marks the call for pg_lock_retry.
 */
void pg_lock_watch_end(pg_engine *pe, int nestlevel, int rc, const mig_error *err)
{
    if (nestlevel < 0)
        return;
    disable_timeout(sampler, false);
    AtEOXact_GUC(rc == MIG_OK, nestlevel);
    if (rc == MIG_ENGINE && strcmp(err->sqlstate, "55P03") == 0)
        pe->lock_timed_out = true;
}

/* Collects "pid 123 (role alice), ..." from the holders' rows. */
static int on_holder(void *ctx, int ncols, const char *const *values)
{
    StringInfo out = ctx;
    if (ncols != 2)
        return MIG_ERR_STATE;
    appendStringInfo(out, "%spid %s (role %s)", out->len ? ", " : "", values[0] ? values[0] : "?",
                     values[1] ? values[1] : "unknown");
    return MIG_OK;
}

/* Collects the one text value of a row. */
static int on_name(void *ctx, int ncols, const char *const *values)
{
    StringInfo out = ctx;
    if (ncols != 1)
        return MIG_ERR_STATE;
    appendStringInfoString(out, values[0] ? values[0] : "?");
    return MIG_OK;
}

/*
 * What the timed-out statement waited for and who holds it now: "relation public.t, held by
 * pid 123 (role alice)". Run after the call was rolled back, so no lock of its own is in the way.
 */
static char *describe_wait(pg_engine *pe)
{
    StringInfoData what, holders;
    initStringInfo(&what);
    initStringInfo(&holders);
    char db[16], object[16];
    snprintf(db, sizeof db, "%u", (unsigned)waited_db);
    snprintf(object, sizeof object, "%u", (unsigned)waited_object);
    const char *params[2] = {db, object};
    const char *holders_sql = NULL;
    int nparams = 2;
    mig_error err;
    mig_error_init(&err);
    pgstat_clear_snapshot(); /* pg_stat_activity afresh: a holder may have connected since */
    if (!waited_seen) {
        appendStringInfoString(&what, "a lock it could not name");
    } else if (waited_type == LOCKTAG_RELATION || waited_type == LOCKTAG_RELATION_EXTEND ||
               waited_type == LOCKTAG_PAGE || waited_type == LOCKTAG_TUPLE) {
        appendStringInfoString(&what, waited_type == LOCKTAG_RELATION ? "relation " : "a row of ");
        if (pg_engine_query(pe, "SELECT $1::pg_catalog.oid::pg_catalog.regclass::pg_catalog.text",
                            1, params + 1, on_name, &what, &err) != MIG_OK)
            appendStringInfo(&what, "with OID %s", object);
        holders_sql = "SELECT DISTINCT l.pid, a.usename FROM pg_catalog.pg_locks l "
                      "LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
                      "WHERE l.granted AND l.pid <> pg_catalog.pg_backend_pid() AND "
                      "l.locktype = 'relation' AND l.database = $1::pg_catalog.oid AND "
                      "l.relation = $2::pg_catalog.oid ORDER BY l.pid";
    } else if (waited_type == LOCKTAG_TRANSACTION) {
        appendStringInfo(&what, "a row that transaction %s changed", db);
        holders_sql = "SELECT DISTINCT l.pid, a.usename FROM pg_catalog.pg_locks l "
                      "LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
                      "WHERE l.granted AND l.pid <> pg_catalog.pg_backend_pid() AND "
                      "l.locktype = 'transactionid' AND l.transactionid::pg_catalog.text = $1 "
                      "ORDER BY l.pid";
        nparams = 1;
    } else {
        appendStringInfo(&what, "a lock of type %u", (unsigned)waited_type);
    }
    mig_error_clear(&err);
    mig_error_init(&err);
    if (holders_sql &&
        pg_engine_query(pe, holders_sql, nparams, params, on_holder, &holders, &err) != MIG_OK)
        resetStringInfo(&holders);
    mig_error_clear(&err);
    if (holders.len)
        appendStringInfo(&what, ", held by %s", holders.data);
    else if (holders_sql)
        appendStringInfoString(&what, ", no longer held");
    char *out = mig_strdup(what.data);
    pfree(what.data);
    pfree(holders.data);
    return out;
}

/* Wait ms milliseconds, answering a cancel. */
static void pause_ms(long ms)
{
    TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);
    for (;;) {
        long left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), end);
        if (left <= 0)
            break;
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, left,
                        PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
    }
}

/*
 * After try number tries of a call failed with err, all of it rolled back: when a statement
 * timed out on a lock and retries remain, say so (NOTICE), wait the delay and return true for
 * the call to run again; after the last try, err says what was waited for, by whom it is held
 * and how many tries were made.
 */
bool pg_lock_retry(pg_engine *pe, int tries, mig_error *err)
{
    if (!pe->lock_timed_out || pe->depth != 0)
        return false;
    pe->lock_timed_out = false;
    char *what = describe_wait(pe);
    const char *where = err->context ? err->context : "a migration";
    if (tries > pg_lock_policy.retries) {
        char *message =
            mig_printf("migrate: gave up after %d %s: a statement of %s waited longer "
                       "than migrate.lock_timeout (%d ms) for %s",
                       tries, tries == 1 ? "try" : "tries", where, pg_lock_policy.timeout_ms, what);
        if (message) {
            mig_error_set_detail(err, mig_printf("%s; nothing of the call remains.", err->message));
            mig_free(err->message);
            err->message = message;
        }
        mig_error_set_hint(err, "end or wait for the session that holds the lock, or raise "
                                "migrate.lock_retries or migrate.lock_timeout");
        mig_free(what);
        return false;
    }
    double jitter = 0.75 + 0.5 * pg_prng_double(&pg_global_prng_state);
    long delay = (long)(pg_lock_policy.retry_delay_ms * jitter);
    ereport(NOTICE, (errmsg("migrate: try %d of %d: a statement of %s waited longer than "
                            "migrate.lock_timeout (%d ms) for %s; the call was rolled back and "
                            "runs again in %ld ms",
                            tries, pg_lock_policy.retries + 1, where, pg_lock_policy.timeout_ms,
                            what, delay)));
    mig_free(what);
    if (pe->parsed) /* the scripts are read again, at addresses that may be reused */
        hash_destroy(pe->parsed);
    pe->parsed = NULL;
    pause_ms(delay);
    return true;
}
