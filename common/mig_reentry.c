/*
 * The guard against calls made from inside a running call on the same connection: a depth
 * counter and the name of the outermost call. A migration's SQL may call the functions that
 * change the tables it is changing (migrate_add_unique, migrate_duplicates, migrate_nulls,
 * migrate_set_not_null, migrate_add_column, migrate_rebuild); anything else is refused, naming both
 * calls.
 */
#include "mig_reentry.h"

#include "mig_messages.h"

#include <stdbool.h>
#include <string.h>

/* Calls a migration's statements may make: they act on the tables the migration is changing. */
static bool allowed_inside(const char *name)
{
    static const char *const allowed[] = {"migrate_add_unique", "migrate_duplicates",
                                          "migrate_nulls",      "migrate_set_not_null",
                                          "migrate_add_column", "migrate_rebuild"};
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++)
        if (strcmp(name, allowed[i]) == 0)
            return true;
    return false;
}

/* Refuse a call made from inside another one, unless it is one a migration may make. */
int mig_reentry_enter(mig_reentry *r, const char *name, mig_error *err)
{
    if (r->depth > 0 && !allowed_inside(name))
        return mig_fail(err, MIG_ERR_STATE, MIG_MSG_REENTRY, name, r->running);
    if (r->depth++ == 0)
        r->running = name;
    return MIG_OK;
}

/* Forget the call once the outermost one ends. */
void mig_reentry_leave(mig_reentry *r)
{
    if (r->depth > 0 && --r->depth == 0)
        r->running = NULL;
}
