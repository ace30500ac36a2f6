/*
 * Runs one SQL text on a database with the migrate module loaded, through the SQLite library in
 * use (LD_LIBRARY_PATH picks the latest one in tests/sqlite/latest.sh), and reports what a
 * program sees when it fails: the message on stderr and the result code as the exit status.
 * The sqlite3 shell shows the code in some releases only, so the error-code tests ask here.
 *
 *   errcode DB MODULE SQL     exit 0 when SQL ran, else sqlite3_errcode()
 */
#include <sqlite3.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: errcode DB MODULE SQL\n");
        return 255;
    }
    sqlite3 *db = NULL;
    char *msg = NULL;
    int rc = sqlite3_open(argv[1], &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_enable_load_extension(db, 1);
    if (rc == SQLITE_OK && sqlite3_load_extension(db, argv[2], NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "cannot load %s: %s\n", argv[2], msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(db);
        return 254;
    }
    if (rc == SQLITE_OK && sqlite3_exec(db, argv[3], NULL, NULL, NULL) != SQLITE_OK) {
        rc = sqlite3_errcode(db);
        fprintf(stderr, "%s\n", sqlite3_errmsg(db));
    }
    sqlite3_close(db);
    return rc;
}
