/* Reading a migrations folder into an ordered set of migrations. */
#ifndef MIG_SOURCE_H
#define MIG_SOURCE_H

#include "mig_engine.h"
#include "mig_error.h"
#include "mig_script.h"

#include <stdbool.h>
#include <stddef.h>

/* Largest script read; larger files are refused with a clear error. */
#define MIG_MAX_SCRIPT_BYTES (32u * 1024u * 1024u)

typedef struct mig_migration {
    char *version;
    char *name;
    char *script;      /* up script, relative to the folder */
    char *down_script; /* down script, relative to the folder; NULL when there is none */
    char *up_text;     /* BOM removed, CRLF read as LF */
    char *down_text;   /* NULL when there is no down script */
    mig_span up;       /* where the up script lies in up_text's file (for line numbers) */
    mig_span down;
    char checksum[65];
    char down_checksum[65]; /* "" without a down script */
} mig_migration;

typedef struct mig_set {
    mig_migration *items; /* ordered by version */
    size_t count;
} mig_set;

/*
 * The folder as messages name it: quoted, and for a relative path with the directory it was
 * resolved against (on PostgreSQL the server's data directory). Caller frees.
 */
char *mig_source_folder_label(const char *dir);

/* Read dir; on error nothing is returned and the message names the file and the reason. */
int mig_source_read(const char *dir, mig_set *out, mig_error *err);
/*
 * The same, but duplicate versions do not stop the reading: each is described on a line of
 * *duplicates (NULL when there are none) and only the first file of a version is kept.
 */
int mig_source_read_all(const char *dir, mig_set *out, char **duplicates, mig_error *err);
void mig_set_free(mig_set *set);

/* One migration held in migrate_scripts. */
typedef struct mig_source_row {
    const char *version, *name, *up_sql, *down_sql;
} mig_source_row;

/*
 * Build a set from migrate_scripts rows, with the same version rules, ordering, checksums and
 * duplicate handling as a folder (duplicates: as in mig_source_read_all, or NULL for strict).
 * Errors name the row as migrate_scripts:<version>.
 */
int mig_source_from_rows(const mig_source_row *rows, size_t count, mig_set *out, char **duplicates,
                         mig_error *err);

/*
 * Read the migrations held in the engine's migrate_scripts table (eng->scripts_table) as
 * mig_source_from_rows does (duplicates: as there); an engine without one has no source.
 */
int mig_source_read_table(const mig_engine *eng, mig_set *out, char **duplicates, mig_error *err);

/* Turn a file's bytes into script text: BOM removed, CRLF to LF, in place; returns the new length.
 */
size_t mig_text_normalize(char *text, size_t len);

#endif
