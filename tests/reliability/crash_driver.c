/*
 * crash_driver: run one migrate_apply (or another call) through the real SQLite library and die
 * with SIGKILL at an exact, reproducible point of it.
 *
 *   crash_driver DB EXTENSION DIR [KIND:N]
 *
 * EXTENSION is what .load takes (the path of migrate.so without .so). CRASH_SQL, when set, is
 * the call instead of SELECT migrate_apply(?1) (DIR is bound to ?1 when it has a parameter), and
 * CRASH_SETUP SQL run on the connection before it (PRAGMA foreign_keys = ON, a setting). Without
 * KIND:N the call runs to the end and the driver prints what it counted, one "key value" per
 * line:
 *
 *   result   what the call returned (its lines joined by spaces)
 *   stmts    SQL statements started (sqlite3_trace_v2 SQLITE_TRACE_STMT)
 *   vm       progress-handler ticks (one every TICK virtual-machine instructions)
 *   io       file operations: xWrite, xSync, xTruncate on any file, xDelete of the VFS
 *   io_commit  the io count when the COMMIT statement started (later ones belong to the commit)
 *   vm_commit  the vm count then
 *
 * and, with STMT_LOG set in the environment, writes "N<TAB>start of the SQL<TAB>vm count" for
 * every statement to that file, so kill points can be chosen between migrations; with IO_LOG,
 * "N<TAB>operation <TAB>file" (db, journal, wal) for every file operation from COMMIT on. After the
 * call it runs one more statement, so stmt:<last> is a kill after the commit, before the connection
 * closes.
 *
 * With KIND:N the process raises SIGKILL on its own:
 *   stmt:N  just before the Nth statement starts (between statements, between migrations, before
 * COMMIT) vm:N    at the Nth progress tick (inside a statement) io:N    just before the Nth file
 * operation is done (cache spills, journal/WAL writes, syncs, the journal's deletion, the
 * checkpoint: the commit itself)
 *
 * Counting is deterministic for the same database and folder, so a kill point is reproducible.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK 1000

#include "count_vfs.h"

static enum { KILL_NONE, KILL_STMT, KILL_VM, KILL_IO } kill_kind = KILL_NONE;
static long long kill_at;
static long long n_stmts, n_vm, n_io, io_commit = -1, vm_commit = -1;
static FILE *stmt_log, *io_log;

static void die_here(void)
{
    fflush(NULL);
    raise(SIGKILL);
}

/* Log one file operation once the COMMIT statement has started. */
static void log_io(const char *op, const char *kind)
{
    if (io_log && io_commit >= 0)
        fprintf(io_log, "%lld\t%s\t%s\n", n_io, op, kind);
}

/* The VFS hook: count what changes files (writes, truncations, syncs, deletions); kill at one. */
static int count_io(const char *op, const char *kind)
{
    if (strcmp(op, "write") != 0 && strcmp(op, "truncate") != 0 && strcmp(op, "sync") != 0 &&
        strcmp(op, "delete") != 0)
        return SQLITE_OK;
    n_io++;
    log_io(op, kind);
    if (kill_kind == KILL_IO && n_io == kill_at)
        die_here();
    return SQLITE_OK;
}

/* --- statement and progress hooks --- */

static int on_trace(unsigned type, void *ctx, void *p, void *x)
{
    (void)ctx, (void)p;
    if (type != SQLITE_TRACE_STMT)
        return 0;
    const char *sql = x;
    n_stmts++;
    /* statements run inside a function call are shown as "-- <sql>" */
    if (sql && strncmp(sql, "-- ", 3) == 0)
        sql += 3;
    while (sql && (*sql == ' ' || *sql == '\n' || *sql == '\t'))
        sql++;
    if (stmt_log) {
        fprintf(stmt_log, "%lld\t", n_stmts);
        for (int i = 0; sql && sql[i] && i < 60; i++)
            fputc(sql[i] == '\n' || sql[i] == '\t' ? ' ' : sql[i], stmt_log);
        fprintf(stmt_log, "\t%lld\n", n_vm);
    }
    if (sql && strcmp(sql, "COMMIT") == 0) {
        io_commit = n_io;
        vm_commit = n_vm;
    }
    if (kill_kind == KILL_STMT && n_stmts == kill_at)
        die_here();
    return 0;
}

static int on_progress(void *ctx)
{
    (void)ctx;
    n_vm++;
    if (kill_kind == KILL_VM && n_vm == kill_at)
        die_here();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: %s DB EXTENSION DIR [stmt:N|vm:N|io:N]\n", argv[0]);
        return 2;
    }
    if (argc == 5) {
        char kind[8];
        if (sscanf(argv[4], "%7[a-z]:%lld", kind, &kill_at) != 2 || kill_at < 1) {
            fprintf(stderr, "bad kill point %s\n", argv[4]);
            return 2;
        }
        kill_kind = strcmp(kind, "stmt") == 0 ? KILL_STMT
                    : strcmp(kind, "vm") == 0 ? KILL_VM
                    : strcmp(kind, "io") == 0 ? KILL_IO
                                              : KILL_NONE;
        if (kill_kind == KILL_NONE) {
            fprintf(stderr, "bad kill point %s\n", argv[4]);
            return 2;
        }
    }
    const char *log = getenv("STMT_LOG");
    if (log && !(stmt_log = fopen(log, "w"))) {
        perror(log);
        return 2;
    }
    const char *iolog = getenv("IO_LOG");
    if (iolog && !(io_log = fopen(iolog, "w"))) {
        perror(iolog);
        return 2;
    }
    count_vfs_hook = count_io;
    if (count_vfs_register() != SQLITE_OK) {
        fprintf(stderr, "cannot register the counting VFS\n");
        return 2;
    }

    sqlite3 *db;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "cannot open %s: %s\n", argv[1], sqlite3_errmsg(db));
        return 2;
    }
    sqlite3_busy_timeout(db, 60000);
    char *errmsg = NULL;
    sqlite3_enable_load_extension(db, 1);
    if (sqlite3_load_extension(db, argv[2], NULL, &errmsg) != SQLITE_OK) {
        fprintf(stderr, "cannot load %s: %s\n", argv[2], errmsg);
        return 2;
    }
    const char *setup = getenv("CRASH_SETUP");
    if (setup && sqlite3_exec(db, setup, NULL, NULL, &errmsg) != SQLITE_OK) {
        fprintf(stderr, "CRASH_SETUP: %s\n", errmsg);
        return 2;
    }
    sqlite3_trace_v2(db, SQLITE_TRACE_STMT, on_trace, NULL);
    sqlite3_progress_handler(db, TICK, on_progress, NULL);

    sqlite3_stmt *st;
    const char *call = getenv("CRASH_SQL") ? getenv("CRASH_SQL") : "SELECT migrate_apply(?1)";
    if (sqlite3_prepare_v2(db, call, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "prepare: %s\n", sqlite3_errmsg(db));
        return 2;
    }
    if (sqlite3_bind_parameter_count(st) > 0)
        sqlite3_bind_text(st, 1, argv[3], -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        fprintf(stderr, "the call failed: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    const char *text = (const char *)sqlite3_column_text(st, 0);
    char *result = strdup(text ? text : "NULL");
    for (char *c = result; c && *c; c++)
        if (*c == '\n' || *c == '\t')
            *c = ' ';
    sqlite3_finalize(st);
    /* one more statement: a kill before it lands after the commit, before the connection closes */
    if (sqlite3_exec(db, "SELECT 'after the call'", NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s\n", sqlite3_errmsg(db));
        return 1;
    }
    /* closing may checkpoint and delete the WAL: those operations count too */
    sqlite3_progress_handler(db, 0, NULL, NULL);
    if (sqlite3_close(db) != SQLITE_OK) {
        fprintf(stderr, "close failed\n");
        return 1;
    }
    if (stmt_log)
        fclose(stmt_log);
    if (io_log)
        fclose(io_log);
    printf("result %s\nstmts %lld\nvm %lld\nio %lld\nio_commit %lld\nvm_commit %lld\n", result,
           n_stmts, n_vm, n_io, io_commit, vm_commit);
    free(result);
    return 0;
}
