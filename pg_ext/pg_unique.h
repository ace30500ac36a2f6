/* The PostgreSQL engine's part of migrate_add_unique: catalog lookups and the constraint. */
#ifndef PG_UNIQUE_H
#define PG_UNIQUE_H

#include "../common/mig_engine.h"

int pg_table_describe(void *h, const char *table, bool change, const char *const *columns,
                      int ncolumns, mig_table_desc *out, mig_error *err);
int pg_quarantine_state(void *h, const mig_table_desc *t, bool *exists, const char **why,
                        char ***columns, int *ncolumns, mig_error *err);
int pg_index_state(void *h, const mig_table_desc *t, const char *index, const char *const *columns,
                   int ncolumns, int *state, char **detail, mig_error *err);
int pg_unique_create(void *h, const mig_table_desc *t, const char *index,
                     const char *const *columns, int ncolumns, mig_error *err);

#endif
