/*
 * crash_driver: run one migrate_apply through the real SQLite library and die with SIGKILL at an
 * exact, reproducible point of it.
 *
 *   crash_driver DB EXTENSION DIR [KIND:N]
 *
 * EXTENSION is what .load takes (the path of migrate.so without .so). Without KIND:N the call
 * runs to the end and the driver prints what it counted, one "key value" per line:
 *
 *   result   what migrate_apply returned
 *   stmts    SQL statements started (sqlite3_trace_v2 SQLITE_TRACE_STMT)
 *   vm       progress-handler ticks (one every TICK virtual-machine instructions)
 *   io       file operations: xWrite, xSync, xTruncate on any file, xDelete of the VFS
 *   io_commit  the io count when the COMMIT statement started (later ones belong to the commit)
 *   vm_commit  the vm count then
 *
 * and, with STMT_LOG set in the environment, writes "N<TAB>start of the SQL" for every statement
 * to that file, so kill points can be chosen between migrations; with IO_LOG, "N<TAB>operation
 * <TAB>file" (db, journal, wal) for every file operation from COMMIT on. After the call it runs
 * one more statement, so stmt:<last> is a kill after the commit, before the connection closes.
 *
 * With KIND:N the process raises SIGKILL on its own:
 *   stmt:N  just before the Nth statement starts (between statements, between migrations, before
 * COMMIT) vm:N    at the Nth progress tick (inside a statement) io:N    just before the Nth file
 * operation is done (cache spills, journal/WAL writes, syncs, the journal's deletion, the
 * checkpoint: the commit itself)
 *
 * Counting is deterministic for the same database and folder, so a kill point is reproducible.
 */
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK 1000

static enum { KILL_NONE, KILL_STMT, KILL_VM, KILL_IO } kill_kind = KILL_NONE;
static long long kill_at;
static long long n_stmts, n_vm, n_io, io_commit = -1, vm_commit = -1;
static FILE *stmt_log;

static void die_here(void)
{
    fflush(NULL);
    raise(SIGKILL);
}

static void log_io(const char *op, const char *kind);

static void count_io(const char *op, const char *kind)
{
    n_io++;
    log_io(op, kind);
    if (kill_kind == KILL_IO && n_io == kill_at)
        die_here();
}

/* --- a VFS that forwards to the default one and counts what changes files --- */

typedef struct count_file {
    sqlite3_file base;
    sqlite3_file *real; /* allocated right after this struct */
    const char *kind;   /* db, journal, wal, other: for IO_LOG */
} count_file;

static FILE *io_log;

/* Log one file operation once the COMMIT statement has started. */
static void log_io(const char *op, const char *kind)
{
    if (io_log && io_commit >= 0)
        fprintf(io_log, "%lld\t%s\t%s\n", n_io, op, kind);
}

static sqlite3_vfs *real_vfs;

#define REAL(f) (((count_file *)(f))->real)

static int c_close(sqlite3_file *f)
{
    return REAL(f)->pMethods->xClose(REAL(f));
}
static int c_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
    return REAL(f)->pMethods->xRead(REAL(f), b, n, o);
}
static int c_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
    count_io("write", ((count_file *)f)->kind);
    return REAL(f)->pMethods->xWrite(REAL(f), b, n, o);
}
static int c_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    count_io("truncate", ((count_file *)f)->kind);
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int c_sync(sqlite3_file *f, int flags)
{
    count_io("sync", ((count_file *)f)->kind);
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int c_size(sqlite3_file *f, sqlite3_int64 *s)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), s);
}
static int c_lock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int c_unlock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int c_check(sqlite3_file *f, int *r)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), r);
}
static int c_fcntl(sqlite3_file *f, int op, void *arg)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int c_sector(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int c_devchar(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int c_shmmap(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, pp);
}
static int c_shmlock(sqlite3_file *f, int off, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}
static void c_shmbarrier(sqlite3_file *f)
{
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int c_shmunmap(sqlite3_file *f, int del)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}
static int c_fetch(sqlite3_file *f, sqlite3_int64 o, int n, void **pp)
{
    return REAL(f)->pMethods->xFetch(REAL(f), o, n, pp);
}
static int c_unfetch(sqlite3_file *f, sqlite3_int64 o, void *p)
{
    return REAL(f)->pMethods->xUnfetch(REAL(f), o, p);
}

static sqlite3_io_methods count_methods = {
    3,         c_close,      c_read,     c_write, c_truncate, c_sync,    c_size,
    c_lock,    c_unlock,     c_check,    c_fcntl, c_sector,   c_devchar, c_shmmap,
    c_shmlock, c_shmbarrier, c_shmunmap, c_fetch, c_unfetch,
};

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
    (void)vfs;
    count_file *cf = (count_file *)f;
    cf->real = (sqlite3_file *)(cf + 1);
    cf->kind = (flags & SQLITE_OPEN_MAIN_DB)        ? "db"
               : (flags & SQLITE_OPEN_MAIN_JOURNAL) ? "journal"
               : (flags & SQLITE_OPEN_WAL)          ? "wal"
                                                    : "other";
    int rc = real_vfs->xOpen(real_vfs, name, cf->real, flags, out);
    /* SQLite calls xClose when pMethods is set, even after a failed open */
    cf->base.pMethods = cf->real->pMethods ? &count_methods : NULL;
    return rc;
}
static int v_delete(sqlite3_vfs *vfs, const char *name, int sync)
{
    (void)vfs;
    size_t n = strlen(name);
    count_io("delete", n > 8 && strcmp(name + n - 8, "-journal") == 0 ? "journal"
                       : n > 4 && strcmp(name + n - 4, "-wal") == 0   ? "wal"
                                                                      : "other");
    return real_vfs->xDelete(real_vfs, name, sync);
}
static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}
static int v_full(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}
static void *v_dlopen(sqlite3_vfs *vfs, const char *name)
{
    (void)vfs;
    return real_vfs->xDlOpen(real_vfs, name);
}
static void v_dlerror(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    real_vfs->xDlError(real_vfs, n, out);
}
static void (*v_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
    (void)vfs;
    return real_vfs->xDlSym(real_vfs, h, sym);
}
static void v_dlclose(sqlite3_vfs *vfs, void *h)
{
    (void)vfs;
    real_vfs->xDlClose(real_vfs, h);
}
static int v_random(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return real_vfs->xRandomness(real_vfs, n, out);
}
static int v_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return real_vfs->xSleep(real_vfs, us);
}
static int v_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return real_vfs->xCurrentTime(real_vfs, out);
}
static int v_lasterr(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, n, out) : 0;
}
static int v_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static sqlite3_vfs count_vfs = {
    2,        0,         0,        NULL,      "crash_count", NULL,      v_open,   v_delete,
    v_access, v_full,    v_dlopen, v_dlerror, v_dlsym,       v_dlclose, v_random, v_sleep,
    v_time,   v_lasterr, v_time64, NULL,      NULL,          NULL,
};

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
        fputc('\n', stmt_log);
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
    real_vfs = sqlite3_vfs_find(NULL);
    count_vfs.szOsFile = (int)sizeof(count_file) + real_vfs->szOsFile;
    count_vfs.mxPathname = real_vfs->mxPathname;
    if (sqlite3_vfs_register(&count_vfs, 1) != SQLITE_OK) {
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
    sqlite3_trace_v2(db, SQLITE_TRACE_STMT, on_trace, NULL);
    sqlite3_progress_handler(db, TICK, on_progress, NULL);

    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT migrate_apply(?1)", -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "prepare: %s\n", sqlite3_errmsg(db));
        return 2;
    }
    sqlite3_bind_text(st, 1, argv[3], -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        fprintf(stderr, "migrate_apply failed: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    long long result = sqlite3_column_int64(st, 0);
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
    printf("result %lld\nstmts %lld\nvm %lld\nio %lld\nio_commit %lld\nvm_commit %lld\n", result,
           n_stmts, n_vm, n_io, io_commit, vm_commit);
    return 0;
}
