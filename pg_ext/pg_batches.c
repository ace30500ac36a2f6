/*
 * CALL migrate_apply_batches(dir [, target [, batch_size]]): apply the pending migrations in
 * batches, committing after each one.
 *
 * One migrate_apply call holds the locks of every migration it runs until it commits, about a
 * dozen per small migration, and a few hundred migrations can exhaust the shared lock table
 * ("out of shared memory", max_locks_per_transaction). This procedure runs migrate_apply with
 * count = batch_size again and again, committing in between: each batch is one atomic call that
 * takes the migration lock and reads the folder and history afresh, exactly as migrate_apply
 * does, and lets go of its locks when it commits. A failing batch is rolled back alone; the
 * batches before it stay applied, and the error says where the procedure stopped.
 *
 * A procedure may commit only when CALLed outside a transaction block (PostgreSQL passes it a
 * non-atomic CallContext then); anywhere else it refuses before doing anything.
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "utils/memutils.h"

#include "pg_engine.h"
#include "pg_functions.h"

PG_FUNCTION_INFO_V1(migrate_apply_batches);

/* How many migrations a batch holds when the call does not say: well inside the default lock
 * table (max_locks_per_transaction 64 per connection). */
#define DEFAULT_BATCH_SIZE 100

/* Where the procedure stands, for the CONTEXT line of an error in a batch. */
typedef struct batches_progress {
    int batch;   /* the batch running now, from 1 */
    int applied; /* migrations applied and committed by the batches before it */
} batches_progress;

/* The CONTEXT line of an error raised by a batch: which one, and what stays applied. */
static void batches_context(void *arg)
{
    const batches_progress *at = arg;
    errcontext("migrate_apply_batches: stopped in batch %d; the %d migrations of the %d batches "
               "before it are applied and committed",
               at->batch, at->applied, at->batch - 1);
}

/* Refuse unless PostgreSQL lets this CALL commit: a top-level CALL outside BEGIN ... COMMIT. */
static void check_may_commit(FunctionCallInfo fcinfo)
{
    if (fcinfo->context && IsA(fcinfo->context, CallContext) &&
        !castNode(CallContext, fcinfo->context)->atomic)
        return;
    ereport(ERROR, (errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
                    errmsg("migrate_apply_batches cannot run inside a transaction block"),
                    errdetail("It commits after each batch, which a CALL inside BEGIN, a "
                              "function or a procedure with a transaction of its own cannot."),
                    errhint("CALL it on its own, or use migrate_apply(dir, target, count) to "
                            "apply part of the folder inside the transaction.")));
}

/* The batch size argument: 1 or more, DEFAULT_BATCH_SIZE when NULL. */
static int batch_size_arg(FunctionCallInfo fcinfo)
{
    if (PG_NARGS() < 3 || PG_ARGISNULL(2))
        return DEFAULT_BATCH_SIZE;
    int32 size = PG_GETARG_INT32(2);
    if (size < 1)
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                 errmsg("migrate_apply_batches: batch_size must be 1 or more, not %d", size)));
    return size;
}

/* Run one batch in the current transaction; returns how many migrations it applied. */
static int run_batch(FunctionCallInfo fcinfo, mig_source src, const char *target, int size,
                     batches_progress *at)
{
    ErrorContextCallback frame = {error_context_stack, batches_context, at};
    error_context_stack = &frame;
    mig_call call = {MIG_PLAN_APPLY, target, size, {false, false, 0}};
    int applied = pg_run_call(fcinfo, src, call);
    error_context_stack = frame.previous;
    return applied;
}

/*
 * migrate_apply_batches(dir text, target text DEFAULT NULL, batch_size integer DEFAULT 100):
 * apply the pending migrations (up to target) batch_size at a time, committing each batch.
 */
Datum migrate_apply_batches(PG_FUNCTION_ARGS)
{
    pg_engine_refuse_on_standby(fcinfo);
    check_may_commit(fcinfo);
    mig_source src = pg_source_arg(fcinfo, "migrate_apply_batches");
    char *target = pg_engine_text_arg(fcinfo, 1);
    int size = batch_size_arg(fcinfo);
    /* the CALL's context outlives the commits; each batch's memory goes with the batch */
    MemoryContext call_cxt = CurrentMemoryContext;
    MemoryContext batch_cxt =
        AllocSetContextCreate(call_cxt, "migrate_apply_batches", ALLOCSET_DEFAULT_SIZES);
    batches_progress at = {1, 0};

    SPI_connect_ext(SPI_OPT_NONATOMIC);
    for (;;) {
        MemoryContextSwitchTo(batch_cxt);
        int applied = run_batch(fcinfo, src, target, size, &at);
        MemoryContextSwitchTo(call_cxt);
        MemoryContextReset(batch_cxt);
        if (applied == 0)
            break;
        SPI_commit();
        at.applied += applied;
        ereport(NOTICE, (errmsg("migrate_apply_batches: batch %d committed: %d migrations "
                                "(%d in all)",
                                at.batch, applied, at.applied)));
        if (applied < size)
            break;
        at.batch++;
    }
    SPI_finish();
    MemoryContextSwitchTo(call_cxt);
    MemoryContextDelete(batch_cxt);
    int committed = at.applied == 0 ? 0 : (at.applied + size - 1) / size;
    ereport(NOTICE, (errmsg("migrate_apply_batches: applied %d migrations in %d batches",
                            at.applied, committed)));
    PG_RETURN_VOID();
}
