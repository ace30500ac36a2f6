/* Error texts both adapters raise, so the two engines say the same thing. */
#ifndef MIG_MESSAGES_H
#define MIG_MESSAGES_H

#define MIG_MSG_TRANSACTION_CONTROL                                                                \
    "transaction control (BEGIN, COMMIT, END, ROLLBACK) is not allowed in a migration: "           \
    "migrate_apply runs the whole call in one transaction"

#define MIG_MSG_NEEDS_FOLDER "%s needs a migrations folder"

/* A call made by a migration's SQL while another call runs (common/mig_reentry.c). */
#define MIG_MSG_REENTRY                                                                            \
    "%s cannot be called while %s is running on this connection: a migration may call "            \
    "migrate_add_unique, migrate_duplicates, migrate_nulls, migrate_set_not_null, "                \
    "migrate_add_column and (on SQLite) migrate_rebuild, no other function of migrate"

/* migrate_set with a NULL value (both engines). */
#define MIG_MSG_SET_NULL "migrate_set: %s cannot be set to NULL (values: '%s' or '%s')"

#endif
