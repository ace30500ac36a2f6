/*
 * Schema drift: the canonical description of the live schema (migrate_schema), its fingerprint
 * recorded by every call that changes the schema through migrate, and the comparison of the live
 * schema with what the last such call recorded (migrate_drift, the drift setting).
 *
 * A description is one line per object, "kind<TAB>name<TAB>definition", sorted by name and then
 * kind (bytewise, so the order never depends on a collation); a backslash, tab, carriage return
 * or newline inside a field is written \\, \t, \r, \n. The engine says what the objects are
 * (mig_engine_drift.h); everything else is here.
 */
#ifndef MIG_DRIFT_H
#define MIG_DRIFT_H

#include "mig_engine.h"

#include <stdbool.h>

/* The drift setting; warn is the default, so a zeroed policy warns. */
typedef enum mig_drift_mode {
    MIG_DRIFT_WARN = 0,
    MIG_DRIFT_ERROR,
    MIG_DRIFT_IGNORE
} mig_drift_mode;

/* The setting's name for mode: "warn", "error", "ignore". */
const char *mig_drift_mode_name(int mode);
/* Parse a setting value; false for anything but the three names. */
bool mig_drift_mode_parse(const char *text, int *mode);

/* One object that differs: kind and name, added / removed / changed, both definitions. */
typedef struct mig_drift_row {
    char *kind;
    char *name;
    const char *change; /* "added", "removed", "changed" */
    char *recorded;     /* NULL when added */
    char *live;         /* NULL when removed */
} mig_drift_row;

typedef struct mig_drift {
    mig_drift_row *rows; /* sorted as the description is */
    size_t count, cap;
    bool known; /* a fingerprint is in force; without one the schema counts as in sync */
} mig_drift;

/*
 * The two calls of their own, refused (MIG_ERR_STATE) by an engine without the drift
 * capability: migrate_schema (the live schema's description; caller frees) and migrate_drift
 * (mig_drift_load; caller frees with mig_drift_free).
 */
int mig_schema(const mig_engine *eng, char **out, mig_error *err);
int mig_drift_list(const mig_engine *eng, mig_drift *out, mig_error *err);

/*
 * What follows needs an engine with the drift capability: the call that uses it tests
 * mig_engine_has_drift once, where it starts, and leaves drift alone without it.
 */

/* The live schema's description (caller frees). */
int mig_schema_describe(const mig_engine *eng, char **out, mig_error *err);

/* The objects that differ between two descriptions (recorded then live). */
int mig_schema_diff(const char *recorded, const char *live, mig_drift *out, mig_error *err);

/*
 * Compare the live schema with the fingerprint in force: the newest one recorded, unless history
 * has moved on since (a migrate_script run, a failed no-transaction run), in which case none is,
 * as in a database from before fingerprints.
 */
int mig_drift_load(const mig_engine *eng, mig_drift *out, mig_error *err);
void mig_drift_free(mig_drift *d);

/* "index public.users_email_idx added, ..." naming at most max objects (caller frees). */
char *mig_drift_summary(const mig_drift *d, size_t max);

/*
 * Before apply, migrate_to and rollback run anything: under error, refuse naming the first
 * objects that drifted; under warn, tell the DBA and go on; under ignore, do not look.
 */
int mig_drift_check(const mig_engine *eng, int mode, mig_error *err);

/*
 * After a call changed the schema (operation: "apply", "repair", ...): record the live
 * schema's description and fingerprint, in the call's transaction.
 */
int mig_drift_record(const mig_engine *eng, const char *operation, mig_error *err);

/*
 * The same pair around a call that changes a table itself (migrate_add_unique, the column
 * calls): mig_drift_before_change looks for drift under the engine's setting before anything is
 * changed, mig_drift_after_change records the schema once it changed. Both do nothing without
 * the drift capability, or when a migration's SQL made the call (the apply around it does both).
 */
int mig_drift_before_change(const mig_engine *eng, mig_error *err);
int mig_drift_after_change(const mig_engine *eng, const char *operation, mig_error *err);

#endif
