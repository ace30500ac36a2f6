/* Error texts both adapters raise, so the two engines say the same thing. */
#ifndef MIG_MESSAGES_H
#define MIG_MESSAGES_H

#define MIG_MSG_TRANSACTION_CONTROL                                                                \
    "transaction control (BEGIN, COMMIT, END, ROLLBACK) is not allowed in a migration: "           \
    "migrate_apply runs the whole call in one transaction"

#define MIG_MSG_NEEDS_FOLDER "%s needs a migrations folder"

#endif
