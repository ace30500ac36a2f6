/*
 * migrate_help: every SQL function of migrate, with its arguments, what it returns and what it
 * does, in one table both engines list (SELECT * FROM migrate_help()). The test of each engine
 * checks it against what the module really registers.
 */
#ifndef MIG_HELP_H
#define MIG_HELP_H

/* Which engines have a function. */
typedef enum mig_help_engines {
    MIG_HELP_BOTH,
    MIG_HELP_SQLITE,
    MIG_HELP_POSTGRESQL,
} mig_help_engines;

typedef struct mig_help_entry {
    const char *name;
    const char *arguments; /* as a DBA writes them, optional ones in brackets */
    const char *returns;
    const char *description;
    mig_help_engines engines;
} mig_help_entry;

/* The functions, in the README's order; *count is set to how many. */
const mig_help_entry *mig_help_entries(int *count);

/* The engine names the help lists: "both", "sqlite", "postgresql". */
const char *mig_help_engines_name(mig_help_engines engines);

#endif
