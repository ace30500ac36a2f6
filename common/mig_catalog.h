/*
 * The tables migrate keeps in the database, defined once: migrate_history (the append-only
 * record), migrate_scripts (migrations kept in the database) and migrate_schema_history (the
 * fingerprint of the schema after each call that changed it, mig_drift.h).
 *
 * Each list calls X(name, KIND, constraints) for every column, with SEP between two columns, so
 * that an engine renders the same columns at compile time with its own type names:
 *
 *   #define SQLITE_COLUMN(name, kind, constraints) "  " #name " " SQLITE_TYPE_##kind constraints
 *   MIG_HISTORY_COLUMNS(SQLITE_COLUMN, ",\n")
 *
 * KIND is one of ID (the row id that grows with each row), TEXT, TIME (a point in time), BIGINT,
 * INTEGER and BOOLEAN. SQLite creates its tables from this; PostgreSQL's come from
 * sql/migrate.sql, which a unit test (tests/unit/test_catalog.c) checks against these lists.
 */
#ifndef MIG_CATALOG_H
#define MIG_CATALOG_H

/* Every column of a history row but its id, in the order of the table. */
#define MIG_HISTORY_ROW_COLUMNS(X, SEP)                                                            \
    X(version, TEXT, " NOT NULL")                                                                  \
    SEP X(name, TEXT, " NOT NULL") SEP X(                                                          \
        direction, TEXT, " NOT NULL CHECK (direction IN ('up', 'down', 'baseline', 'repair'))")    \
        SEP                                                                                        \
        X(checksum, TEXT, "") SEP                                                                  \
        X(down_checksum, TEXT, "") SEP                                                             \
        X(up_sql, TEXT, "") SEP                                                                    \
        X(down_sql, TEXT, "") SEP                                                                  \
        X(script, TEXT, "") SEP                                                                    \
        X(applied_at, TIME, " NOT NULL") SEP                                                       \
        X(applied_by, TEXT, "") SEP                                                                \
        X(execution_ms, BIGINT, " NOT NULL DEFAULT 0") SEP                                         \
        X(success, BOOLEAN, " NOT NULL") SEP                                                       \
        X(completed_statements, INTEGER, "")

/* migrate_history: the id, then a row's columns. */
#define MIG_HISTORY_COLUMNS(X, SEP) X(id, ID, "") SEP MIG_HISTORY_ROW_COLUMNS(X, SEP)

/* migrate_scripts. */
#define MIG_SCRIPTS_COLUMNS(X, SEP)                                                                \
    X(version, TEXT, " PRIMARY KEY")                                                               \
    SEP X(name, TEXT, " NOT NULL DEFAULT ''") SEP X(up_sql, TEXT, " NOT NULL") SEP X(down_sql,     \
                                                                                     TEXT, "")

/*
 * migrate_schema_history: one row per call that changed the schema through migrate. history_id
 * is the newest migrate_history row when it was written (NULL: none), operation the call that
 * wrote it, fingerprint the SHA-256 of description, the schema as migrate_schema() describes it.
 */
#define MIG_SCHEMA_HISTORY_ROW_COLUMNS(X, SEP)                                                     \
    X(history_id, BIGINT, "")                                                                      \
    SEP X(operation, TEXT, " NOT NULL") SEP X(fingerprint, TEXT, " NOT NULL") SEP X(               \
        description, TEXT, " NOT NULL") SEP                                                        \
    X(recorded_at, TIME, " NOT NULL") SEP                                                          \
    X(recorded_by, TEXT, "")

#define MIG_SCHEMA_HISTORY_COLUMNS(X, SEP) X(id, ID, "") SEP MIG_SCHEMA_HISTORY_ROW_COLUMNS(X, SEP)

/* A column's name, for lists of names. */
#define MIG_COLUMN_NAME(name, kind, constraints) #name

/* The columns a new history row is given, comma-separated. */
#define MIG_HISTORY_INSERT_LIST MIG_HISTORY_ROW_COLUMNS(MIG_COLUMN_NAME, ", ")
/* The columns a new migrate_schema_history row is given. */
#define MIG_SCHEMA_HISTORY_INSERT_LIST MIG_SCHEMA_HISTORY_ROW_COLUMNS(MIG_COLUMN_NAME, ", ")

#endif
