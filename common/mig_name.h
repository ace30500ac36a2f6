/* What a file or folder name in a migrations folder says: its role, version and name. */
#ifndef MIG_NAME_H
#define MIG_NAME_H

#include "mig_error.h"

#include <stdbool.h>

typedef enum mig_name_kind {
    MIG_NAME_IGNORED,   /* not a migration: README.md, .gitkeep, a folder without a version */
    MIG_NAME_UP,        /* <v>_<name>.up.sql, V<v>__<name>.sql */
    MIG_NAME_DOWN,      /* <v>_<name>.down.sql, U<v>__<name>.sql */
    MIG_NAME_SECTIONED, /* <v>_<name>.sql: sections (dbmate, goose) or up only */
    MIG_NAME_FOLDER,    /* <v>_<name>/ holding up.sql and down.sql */
} mig_name_kind;

typedef struct mig_name_info {
    mig_name_kind kind;
    char *version; /* as shown to the DBA: without the leading v; Flyway's 1_2 reads 1.2 */
    char *name;
} mig_name_info;

/*
 * Classify one entry of a migrations folder. A .sql file without a version is an error
 * (MIG_ERR_ARGUMENT, naming the file); anything that is not .sql, and folders without a version,
 * are ignored.
 */
int mig_name_parse(const char *entry, bool is_folder, mig_name_info *out, mig_error *err);
void mig_name_info_free(mig_name_info *info);

#endif
