/*
 * The core's side of the engine contract: putting an engine's allocator in force for a call,
 * and the hooks (mig_engine_hooks.h) with the core's default in place of any the engine left
 * out. No other file tests these hooks. A capability is tested once, where its call starts
 * (mig_engine_has_unique, ...); inside one, only a field its header says may be NULL is.
 */
#include "mig_engine.h"

#include "mig_alloc.h"
#include "mig_engine_hooks.h"
#include "mig_script.h"

/* Put e's allocator in force; returns the one it replaced. */
const mig_allocator *mig_engine_enter(const mig_engine *e)
{
    return mig_alloc_swap(e->alloc);
}

/* Put back the allocator that mig_engine_enter replaced. */
void mig_engine_leave(const mig_allocator *outer)
{
    mig_alloc_swap(outer);
}

/* hooks.scripts_prepare; default: migrate_scripts is there. */
int mig_engine_scripts_prepare(const mig_engine *e, mig_error *err)
{
    const mig_engine_hooks *k = e->hooks;
    return k && k->scripts_prepare ? k->scripts_prepare(e->handle, err) : MIG_OK;
}

/* hooks.unclosed; default: PostgreSQL's quoting rules. */
const char *mig_engine_unclosed(const mig_engine *e, const char *sql, size_t len, size_t *at)
{
    const mig_engine_hooks *k = e->hooks;
    return k && k->unclosed ? k->unclosed(e->handle, sql, len, at)
                            : mig_script_unclosed(sql, len, at);
}

/* hooks.check_script; default: every script may run. */
int mig_engine_check_script(const mig_engine *e, const char *sql, size_t len, bool outside,
                            mig_error *err)
{
    const mig_engine_hooks *k = e->hooks;
    return k && k->check_script ? k->check_script(e->handle, sql, len, outside, err) : MIG_OK;
}

/* hooks.check_leftovers; default: nothing is left behind. */
int mig_engine_check_leftovers(const mig_engine *e, const char *sql, mig_error *err)
{
    const mig_engine_hooks *k = e->hooks;
    return k && k->check_leftovers ? k->check_leftovers(e->handle, sql, err) : MIG_OK;
}

/* hooks.steps_begin; default: nothing to do. */
int mig_engine_steps_begin(const mig_engine *e, mig_error *err)
{
    const mig_engine_hooks *k = e->hooks;
    return k && k->steps_begin ? k->steps_begin(e->handle, err) : MIG_OK;
}

/* hooks.steps_end; default: nothing to check. */
int mig_engine_steps_end(const mig_engine *e, mig_error *err)
{
    const mig_engine_hooks *k = e->hooks;
    return k && k->steps_end ? k->steps_end(e->handle, err) : MIG_OK;
}

/* hooks.progress; default: say nothing. */
void mig_engine_progress(const mig_engine *e, const char *message)
{
    const mig_engine_hooks *k = e->hooks;
    if (k && k->progress)
        k->progress(e->handle, message);
}
