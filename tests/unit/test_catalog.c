/*
 * migrate's own tables are defined once, in common/mig_catalog.h. SQLite builds its CREATE TABLE
 * from the lists; PostgreSQL's comes from sql/migrate.sql, which CREATE EXTENSION runs. These
 * checks render the lists with PostgreSQL's type names and compare them with that file, so a
 * column changed in one place and not the other fails here.
 */
#include "helpers.h"
#include "suites.h"

#include "mig_catalog.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How sql/migrate.sql spells each kind of column. */
#define PG_TYPE_ID                         "bigserial PRIMARY KEY"
#define PG_TYPE_TEXT                       "text"
#define PG_TYPE_TIME                       "timestamptz"
#define PG_TYPE_BIGINT                     "bigint"
#define PG_TYPE_INTEGER                    "integer"
#define PG_TYPE_BOOLEAN                    "boolean"
#define PG_COLUMN(name, kind, constraints) #name " " PG_TYPE_##kind constraints

static const char pg_history[] = "(" MIG_HISTORY_COLUMNS(PG_COLUMN, ", ") ")";
static const char pg_scripts[] = "(" MIG_SCRIPTS_COLUMNS(PG_COLUMN, ", ") ")";
static const char pg_schema_history[] = "(" MIG_SCHEMA_HISTORY_COLUMNS(PG_COLUMN, ", ") ")";

/* The install script, read whole (the tests run from the top of the tree). */
static char *read_install_script(void)
{
    FILE *f = fopen("sql/migrate.sql", "rb");
    ck_assert_msg(f != NULL, "sql/migrate.sql not found: run the unit tests from the tree's top");
    char *text = calloc(1, 1 << 20);
    size_t n = fread(text, 1, (1 << 20) - 1, f);
    fclose(f);
    ck_assert_uint_gt(n, 0);
    return text;
}

/* Whitespace runs made one space, and none just inside parentheses. */
static void squeeze(char *s)
{
    char *out = s;
    for (const char *in = s; *in; in++) {
        if (isspace((unsigned char)*in)) {
            if (out > s && out[-1] != ' ' && out[-1] != '(')
                *out++ = ' ';
            continue;
        }
        if (*in == ')' && out > s && out[-1] == ' ')
            out--;
        *out++ = *in;
    }
    *out = '\0';
}

/* The column list of CREATE TABLE @extschema@.<table> in the install script, squeezed. */
static char *install_columns(const char *script, const char *table)
{
    char head[128];
    snprintf(head, sizeof head, "CREATE TABLE @extschema@.%s (", table);
    const char *start = strstr(script, head);
    ck_assert_msg(start != NULL, "sql/migrate.sql does not create %s", table);
    start += strlen(head) - 1;
    const char *end = strstr(start, "\n);");
    ck_assert_msg(end != NULL, "the CREATE TABLE of %s does not end with );", table);
    size_t len = (size_t)(end - start) + 2;
    char *cols = malloc(len + 1);
    memcpy(cols, start, len);
    cols[len] = '\0';
    squeeze(cols);
    return cols;
}

/* The install script's column list of table, squeezed, is exactly expected. */
static void expect_install_columns(const char *table, const char *expected)
{
    char *script = read_install_script();
    char *cols = install_columns(script, table);
    ck_assert_str_eq(cols, expected);
    free(cols);
    free(script);
}

/* migrate_history in the install script has the core's columns, in the core's order. */
START_TEST(history_matches_install_script)
{
    expect_install_columns("migrate_history", pg_history);
}
END_TEST

/* So has migrate_scripts. */
START_TEST(scripts_matches_install_script)
{
    expect_install_columns("migrate_scripts", pg_scripts);
}
END_TEST

/* So has migrate_schema_history. */
START_TEST(schema_history_matches_install_script)
{
    expect_install_columns("migrate_schema_history", pg_schema_history);
}
END_TEST

/* The INSERT list names every column of a row but the id, in order. */
START_TEST(insert_list_is_every_row_column)
{
    ck_assert_str_eq(MIG_HISTORY_INSERT_LIST,
                     "version, name, direction, checksum, down_checksum, up_sql, down_sql, script, "
                     "applied_at, applied_by, execution_ms, success, completed_statements");
    ck_assert_str_eq(MIG_SCHEMA_HISTORY_INSERT_LIST,
                     "history_id, operation, fingerprint, description, recorded_at, recorded_by");
}
END_TEST

Suite *catalog_suite(void)
{
    Suite *s = suite_create("catalog");
    TCase *tc = tcase_create("tables");
    tcase_add_test(tc, history_matches_install_script);
    tcase_add_test(tc, scripts_matches_install_script);
    tcase_add_test(tc, schema_history_matches_install_script);
    tcase_add_test(tc, insert_list_is_every_row_column);
    suite_add_tcase(s, tc);
    return s;
}
