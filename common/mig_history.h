/* migrate_history: reading it and appending to it through the engine. */
#ifndef MIG_HISTORY_H
#define MIG_HISTORY_H

#include "mig_engine.h"

#include <stdbool.h>

typedef struct mig_history_row {
    long long id;
    char *version;
    char *name;
    char *direction; /* up, down, baseline, repair */
    char *checksum;
    char *down_checksum;
    char *script;
    char *applied_at;
    char *applied_by;
    long long execution_ms;
    bool success;
} mig_history_row;

typedef struct mig_history {
    mig_history_row *rows; /* in id order */
    size_t count, cap;
    bool exists; /* the table is there */
} mig_history;

/* A row to append; the core fills applied_at, applied_by. */
typedef struct mig_history_entry {
    const char *version, *name, *direction, *checksum, *down_checksum;
    const char *up_sql, *down_sql, *script;
    long long execution_ms;
    bool success;
    int completed; /* statements completed by a failed no-transaction run; -1: not recorded */
} mig_history_entry;

/* The scripts migrate_history kept with one row. */
typedef struct mig_stored_scripts {
    char *up_sql;
    char *down_sql;
    int completed; /* statements a failed no-transaction run completed */
} mig_stored_scripts;

/* A point in time (milliseconds since 1970, UTC) as history writes it: 2024-01-01T12:00:00.000Z. */
char *mig_history_timestamp(long long unix_ms);

/* Load every row (without the stored scripts). create makes the table when it is missing. */
int mig_history_load(const mig_engine *eng, bool create, mig_history *out, mig_error *err);
int mig_history_append(const mig_engine *eng, const mig_history_entry *entry, mig_error *err);
void mig_history_free(mig_history *hist);

/* The scripts kept with history row id (NULL where none was kept); on error *out is empty. */
int mig_history_load_scripts(const mig_engine *eng, long long id, mig_stored_scripts *out,
                             mig_error *err);
void mig_stored_scripts_free(mig_stored_scripts *s);

#endif
