/*
 * A libpq client for the error-fields scenario: for each folder given, run
 * SELECT migrate_apply(folder) and print every field of the error the server sent, as a driver
 * sees them (PQresultErrorField), one "name: value" line per line of each field. The connection
 * comes from the PG* environment variables.
 *
 *   errfields FOLDER...
 */
#include <libpq-fe.h>

#include <stdio.h>
#include <string.h>

/* The fields of an ErrorResponse, in the order psql prints them. */
static const struct {
    int code;
    const char *name;
} fields[] = {
    {PG_DIAG_SEVERITY_NONLOCALIZED, "severity"},
    {PG_DIAG_SQLSTATE, "sqlstate"},
    {PG_DIAG_MESSAGE_PRIMARY, "message"},
    {PG_DIAG_MESSAGE_DETAIL, "detail"},
    {PG_DIAG_MESSAGE_HINT, "hint"},
    {PG_DIAG_STATEMENT_POSITION, "position"},
    {PG_DIAG_INTERNAL_POSITION, "internal_position"},
    {PG_DIAG_INTERNAL_QUERY, "internal_query"},
    {PG_DIAG_CONTEXT, "context"},
    {PG_DIAG_SCHEMA_NAME, "schema_name"},
    {PG_DIAG_TABLE_NAME, "table_name"},
    {PG_DIAG_COLUMN_NAME, "column_name"},
    {PG_DIAG_DATATYPE_NAME, "datatype_name"},
    {PG_DIAG_CONSTRAINT_NAME, "constraint_name"},
};

/* Print value under name, one line per line, so a test can grep any one of them. */
static void print_field(const char *name, const char *value)
{
    while (value) {
        const char *nl = strchr(value, '\n');
        int n = nl ? (int)(nl - value) : (int)strlen(value);
        printf("%s: %.*s\n", name, n, value);
        value = nl ? nl + 1 : NULL;
    }
}

/* Apply one folder and print the outcome: the error's fields, or the count applied. */
static void apply(PGconn *conn, const char *folder)
{
    const char *params[1] = {folder};
    PGresult *res = PQexecParams(conn, "SELECT migrate_apply($1)", 1, NULL, params, NULL, NULL, 0);
    printf("== %s\n", folder);
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        printf("applied: %s\n", PQgetvalue(res, 0, 0));
    } else {
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            const char *value = PQresultErrorField(res, fields[i].code);
            if (value)
                print_field(fields[i].name, value);
        }
    }
    PQclear(res);
}

int main(int argc, char **argv)
{
    PGconn *conn = PQconnectdb("");
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "errfields: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return 2;
    }
    PGresult *res = PQexec(conn, "SET client_min_messages = warning");
    PQclear(res);
    for (int i = 1; i < argc; i++)
        apply(conn, argv[i]);
    PQfinish(conn);
    return 0;
}
