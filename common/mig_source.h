/* The source of a call's migrations, and the one loader that reads it into an ordered set. */
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
    mig_text up;   /* owned; BOM removed, CRLF read as LF; first_line: where it lies in its file */
    mig_text down; /* owned; ptr NULL when there is no down script */
    char checksum[65];
    char down_checksum[65]; /* "" without a down script, and in a lazy set until it is held */
    bool sectioned;         /* up and down are sections of the one file script */
    bool kept; /* lazy set: its texts are held from loading on (within MIG_LAZY_KEEP_BYTES) */
} mig_migration;

typedef struct mig_set {
    mig_migration *items; /* ordered by version */
    size_t count;
    bool lazy; /* MIG_LOAD_LAZY from a folder: texts are held only between mig_set_hold and
                  mig_set_release */
    int dirfd; /* lazy: the folder, kept open to read scripts again relative to it */
} mig_set;

/* Where a call's migrations come from, decided once by the adapter from the call's arguments. */
typedef enum mig_source_kind {
    MIG_SOURCE_NONE,   /* no source: history alone (migrations_status without an argument) */
    MIG_SOURCE_FOLDER, /* a migrations folder */
    MIG_SOURCE_TABLE,  /* the engine's migrate_scripts table */
} mig_source_kind;

typedef struct mig_source {
    mig_source_kind kind;
    const char *folder; /* FOLDER: its path as the DBA gave it */
} mig_source;

/* No source: history alone. */
static inline mig_source mig_source_none(void)
{
    return (mig_source){MIG_SOURCE_NONE, NULL};
}

/* The migrations folder folder. */
static inline mig_source mig_source_folder(const char *folder)
{
    return (mig_source){MIG_SOURCE_FOLDER, folder};
}

/* The engine's migrate_scripts table. */
static inline mig_source mig_source_table(void)
{
    return (mig_source){MIG_SOURCE_TABLE, NULL};
}

/* What a function's folder argument names, on both engines: NULL is migrate_scripts. */
static inline mig_source mig_source_of_folder_arg(const char *folder)
{
    return folder ? mig_source_folder(folder) : mig_source_table();
}

/* Refuse a source that holds no migration (nothing was changed). */
#define MIG_LOAD_REQUIRED 0x1u
/*
 * Hold no script after loading a folder (beyond MIG_LAZY_KEEP_BYTES): each file is read once,
 * checked and its up script hashed, then let go (its texts MIG_TEXT_RELEASED); mig_set_hold
 * reads a migration again when a call needs its scripts. A down script is hashed only when
 * held. Needs eng.
 */
#define MIG_LOAD_LAZY 0x2u

/*
 * A lazy load keeps the scripts it reads first, up to this many bytes in all, as read: a small
 * folder is read once, and memory stays bounded whatever the number of migrations.
 */
#define MIG_LAZY_KEEP_BYTES (256u * 1024u)

/*
 * The one loader. Reads src into *out, ordered by version, each migration with its checksums.
 * NONE gives an empty set. eng (may be NULL for a folder read outside any database, by
 * migrate_new and migrate_push) reads TABLE and checks every script by its quoting rules.
 * dups NULL: a duplicate version is an error; else each is described on a line of *dups (NULL
 * when there are none) and only the first file of a version is kept. flags: MIG_LOAD_*. On
 * error nothing is returned and the message names the file (migrate_scripts:<version> for a
 * row) and the reason.
 */
int mig_source_load(const mig_engine *eng, const mig_source *src, unsigned flags, mig_set *out,
                    char **dups, mig_error *err);

void mig_set_free(mig_set *set);

/*
 * Hold the texts of m, a migration of set: in a lazy set, its files are read again through the
 * folder's handle and must still have the checksum they were loaded with (a down script not
 * hashed yet is hashed now); else nothing to do. On error (a file changed or gone) the message
 * names the file and m holds nothing.
 */
int mig_set_hold(const mig_set *set, mig_migration *m, mig_error *err);

/* Let go of the texts of m again (lazy set; else nothing). */
void mig_set_release(const mig_set *set, mig_migration *m);

/*
 * The folder as messages name it: quoted, and for a relative path with the directory it was
 * resolved against (on PostgreSQL the server's data directory). Caller frees.
 */
char *mig_source_folder_label(const char *dir);

/* Turn a file's bytes into script text: BOM removed, CRLF to LF, in place; returns the new length.
 */
size_t mig_text_normalize(char *text, size_t len);

#endif
