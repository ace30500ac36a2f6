/* The SQLite engine's part of migrate_add_unique: catalog lookups and the index itself. */
#ifndef SQLITE_UNIQUE_H
#define SQLITE_UNIQUE_H

#include "../common/mig_engine.h"

int sqlite_table_describe(void *h, const char *table, bool change, const char *const *columns,
                          int ncolumns, mig_table_desc *out, mig_error *err);
int sqlite_quarantine_state(void *h, const mig_table_desc *t, bool *exists, const char **why,
                            char ***columns, int *ncolumns, mig_error *err);
/* engine.index_state: how the index of that name, or else an equivalent one, compares. */
int sqlite_compare_existing_index(void *h, const mig_table_desc *t, const char *index,
                                  const char *const *columns, int ncolumns, int *state,
                                  char **detail, mig_error *err);
int sqlite_unique_create(void *h, const mig_table_desc *t, const char *index,
                         const char *const *columns, int ncolumns, mig_error *err);
/* Allow helper threads for the sorts of one call (engine handle h); end restores the limit. */
int sqlite_unique_threads_begin(void *h);
void sqlite_unique_threads_end(void *h, int previous);

#endif
