/*
 * What migrate_check sees each migration do on PostgreSQL (pg_check_look.c): the observe hooks
 * of the rehearse capability (common/mig_engine_rehearse.h), over a look at the catalogs that
 * the call keeps up to date from relcache invalidations.
 */
#ifndef PG_CHECK_LOOK_H
#define PG_CHECK_LOOK_H

#include "../common/mig_buf.h"
#include "../common/mig_error.h"

#include "pg_engine.h"

/* Start watching for the call pe runs: every user relation is read once, at the first look. */
void pg_check_look_begin(pg_engine *pe);

/* A savepoint of the rehearsal was rolled back (rehearse.step_undo): the locks it took went. */
void pg_check_look_undone(void);

/* rehearse.observe_before, observe_after, count_losses and observe_free. */
int pg_check_observe_before(void *h, void **state, mig_error *err);
int pg_check_observe_after(void *h, void *state, mig_buf *out, bool *count_before, mig_error *err);
int pg_check_count_losses(void *h, void *state, mig_buf *out, mig_error *err);
void pg_check_observe_free(void *h, void *state);

#endif
