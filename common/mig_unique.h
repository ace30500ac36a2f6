/* migrate_add_unique and migrate_duplicates: uniqueness for a table that already has data. */
#ifndef MIG_UNIQUE_H
#define MIG_UNIQUE_H

#include "mig_engine_unique.h"

/* Longest index name both engines keep whole (PostgreSQL's NAMEDATALEN - 1). */
#define MIG_MAX_IDENTIFIER 63

typedef enum mig_on_duplicate {
    MIG_DUP_FAIL,
    MIG_DUP_KEEP_FIRST,
    MIG_DUP_KEEP_LAST,
    MIG_DUP_MERGE
} mig_on_duplicate;

/* One group of rows that share a key. */
typedef struct mig_dup_group {
    char *key;   /* the values, as text, joined by ", " */
    char *shown; /* the values quoted for messages: 'a@x.com' or ('3', 'a@x.com') */
    long long count;
    char *rows; /* the rows' identities, joined by ", " */
} mig_dup_group;

typedef struct mig_dup_report {
    mig_dup_group *groups;
    size_t count, cap;
    long long rows; /* rows in all groups */
} mig_dup_report;

/*
 * Split "a, b ,c" into trimmed names; an empty name or a repeated one is an error, and a NULL
 * list one that names function.
 */
int mig_unique_columns(const char *function, const char *list, char ***names, int *count,
                       mig_error *err);
void mig_unique_columns_free(char **names, int count);
/* Whether a key of the list is an expression (it holds a parenthesis) rather than a name. */
bool mig_unique_is_expression(const char *key);
/* The default index name: <table>_<col>..._key, shortened with a hash past 63 bytes. */
char *mig_unique_index_name(const char *table, char *const *columns, int count);
/* The quarantine table's name: <table>_duplicates, shortened the same way past 63 bytes. */
char *mig_unique_quarantine_name(const char *table);
/* <table><suffix> (_duplicates, _nulls), shortened the same way past 63 bytes. */
char *mig_quarantine_table_name(const char *table, const char *suffix);
/* 'fail' (also NULL), 'keep_first', 'keep_last', 'merge'. */
int mig_unique_on_duplicate(const char *text, mig_on_duplicate *out, mig_error *err);
/*
 * Values as the reports show them: values[from .. from+n) joined by ", ", in parentheses when
 * parens and several, each in quotes when quoted ('a@x', ('3', 'a@x')); NULL as NULL.
 */
char *mig_unique_join_values(const char *const *values, int from, int n, bool parens, bool quoted);
/* Quote an identifier the SQL-standard way both engines read: "we""ird". */
char *mig_quote_ident(const char *name);

/*
 * Move the rows of t that where (" WHERE ...", the table unaliased) selects to t->quarantine,
 * created by the call or an existing one of the right shape and owner, then delete them from t;
 * refused when another table references t (a delete could cascade). what ("duplicate rows")
 * and function name them in errors.
 */
int mig_quarantine_rows(const mig_engine *eng, const mig_table_desc *t, const char *function,
                        const char *what, const char *where, mig_error *err);

/*
 * Make columns of table unique. On duplicates: 'fail' changes nothing and reports them;
 * 'keep_first' / 'keep_last' move the other rows of each group to <table>_duplicates in the
 * same transaction; 'merge' first re-points the rows of other tables that reference those
 * rows to the row kept (the first), then moves them as keep_first does. *result (caller frees)
 * describes what was done.
 */
int mig_add_unique(const mig_engine *eng, const char *table, const char *columns,
                   const char *index_name, const char *on_duplicate, char **result, mig_error *err);

/*
 * migrate_add_unique_script: the statements that make columns of table unique without blocking
 * writes (*steps, *nsteps; caller frees with mig_unique_columns_free), checked as
 * migrate_add_unique checks them: duplicates fail with its report, an index of that name that
 * differs (an INVALID one a failed concurrent build left included) is refused; none when an
 * index already makes the columns unique. Builds nothing.
 */
int mig_add_unique_steps(const mig_engine *eng, const char *table, const char *columns,
                         const char *index_name, char ***steps, int *nsteps, mig_error *err);

/* Every duplicate group of columns in table, as the unique index would see them. */
int mig_duplicates(const mig_engine *eng, const char *table, const char *columns,
                   mig_dup_report *out, mig_error *err);
void mig_dup_report_free(mig_dup_report *report);
void mig_table_desc_free(mig_table_desc *t);
void mig_fk_refs_free(mig_fk_ref *refs, int count);

#endif
