/*
 * count_vfs.h: a VFS that forwards every call to the default VFS and first asks a hook, so a test
 * driver can count file operations and kill the process at, or fail, an exact one. Shared by
 * crash_driver.c and fault_driver.c; header-only, as each driver is one C file.
 *
 * The driver sets count_vfs_hook and calls count_vfs_register() before opening a database. The
 * hook sees every open, read, write, truncate, sync, file-size query and delete, with the kind of
 * file (db, journal, wal, other); it returns SQLITE_OK to let the operation run, or an SQLite
 * error code that the VFS returns instead of running it.
 */
#ifndef COUNT_VFS_H
#define COUNT_VFS_H

#include <sqlite3.h>
#include <string.h>

/* Asked before each operation; NULL lets everything run. */
static int (*count_vfs_hook)(const char *op, const char *kind);

typedef struct count_file {
    sqlite3_file base;
    sqlite3_file *real; /* allocated right after this struct */
    const char *kind;   /* db, journal, wal, other */
} count_file;

static sqlite3_vfs *count_real_vfs;

#define CV_REAL(f) (((count_file *)(f))->real)
#define CV_KIND(f) (((count_file *)(f))->kind)

/* The hook's verdict on one operation. */
static int cv_ask(const char *op, const char *kind)
{
    return count_vfs_hook ? count_vfs_hook(op, kind) : SQLITE_OK;
}

/* The kind of a file from its name, for operations that have no open file. */
static const char *cv_kind_of_name(const char *name)
{
    size_t n = strlen(name);
    return n > 8 && strcmp(name + n - 8, "-journal") == 0 ? "journal"
           : n > 4 && strcmp(name + n - 4, "-wal") == 0   ? "wal"
                                                          : "other";
}

static int cv_close(sqlite3_file *f)
{
    return CV_REAL(f)->pMethods->xClose(CV_REAL(f));
}
static int cv_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
    int rc = cv_ask("read", CV_KIND(f));
    return rc != SQLITE_OK ? rc : CV_REAL(f)->pMethods->xRead(CV_REAL(f), b, n, o);
}
static int cv_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
    int rc = cv_ask("write", CV_KIND(f));
    return rc != SQLITE_OK ? rc : CV_REAL(f)->pMethods->xWrite(CV_REAL(f), b, n, o);
}
static int cv_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    int rc = cv_ask("truncate", CV_KIND(f));
    return rc != SQLITE_OK ? rc : CV_REAL(f)->pMethods->xTruncate(CV_REAL(f), size);
}
static int cv_sync(sqlite3_file *f, int flags)
{
    int rc = cv_ask("sync", CV_KIND(f));
    return rc != SQLITE_OK ? rc : CV_REAL(f)->pMethods->xSync(CV_REAL(f), flags);
}
static int cv_size(sqlite3_file *f, sqlite3_int64 *s)
{
    int rc = cv_ask("size", CV_KIND(f));
    return rc != SQLITE_OK ? rc : CV_REAL(f)->pMethods->xFileSize(CV_REAL(f), s);
}
static int cv_lock(sqlite3_file *f, int l)
{
    return CV_REAL(f)->pMethods->xLock(CV_REAL(f), l);
}
static int cv_unlock(sqlite3_file *f, int l)
{
    return CV_REAL(f)->pMethods->xUnlock(CV_REAL(f), l);
}
static int cv_check(sqlite3_file *f, int *r)
{
    return CV_REAL(f)->pMethods->xCheckReservedLock(CV_REAL(f), r);
}
static int cv_fcntl(sqlite3_file *f, int op, void *arg)
{
    return CV_REAL(f)->pMethods->xFileControl(CV_REAL(f), op, arg);
}
static int cv_sector(sqlite3_file *f)
{
    return CV_REAL(f)->pMethods->xSectorSize(CV_REAL(f));
}
static int cv_devchar(sqlite3_file *f)
{
    return CV_REAL(f)->pMethods->xDeviceCharacteristics(CV_REAL(f));
}
static int cv_shmmap(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
    return CV_REAL(f)->pMethods->xShmMap(CV_REAL(f), pg, sz, ext, pp);
}
static int cv_shmlock(sqlite3_file *f, int off, int n, int flags)
{
    return CV_REAL(f)->pMethods->xShmLock(CV_REAL(f), off, n, flags);
}
static void cv_shmbarrier(sqlite3_file *f)
{
    CV_REAL(f)->pMethods->xShmBarrier(CV_REAL(f));
}
static int cv_shmunmap(sqlite3_file *f, int del)
{
    return CV_REAL(f)->pMethods->xShmUnmap(CV_REAL(f), del);
}
static int cv_fetch(sqlite3_file *f, sqlite3_int64 o, int n, void **pp)
{
    return CV_REAL(f)->pMethods->xFetch(CV_REAL(f), o, n, pp);
}
static int cv_unfetch(sqlite3_file *f, sqlite3_int64 o, void *p)
{
    return CV_REAL(f)->pMethods->xUnfetch(CV_REAL(f), o, p);
}

static sqlite3_io_methods count_methods = {
    3,          cv_close,      cv_read,     cv_write, cv_truncate, cv_sync,    cv_size,
    cv_lock,    cv_unlock,     cv_check,    cv_fcntl, cv_sector,   cv_devchar, cv_shmmap,
    cv_shmlock, cv_shmbarrier, cv_shmunmap, cv_fetch, cv_unfetch,
};

static int cv_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
    (void)vfs;
    count_file *cf = (count_file *)f;
    cf->real = (sqlite3_file *)(cf + 1);
    cf->kind = (flags & SQLITE_OPEN_MAIN_DB)        ? "db"
               : (flags & SQLITE_OPEN_MAIN_JOURNAL) ? "journal"
               : (flags & SQLITE_OPEN_WAL)          ? "wal"
                                                    : "other";
    cf->base.pMethods = NULL;
    int rc = cv_ask("open", cf->kind);
    if (rc != SQLITE_OK)
        return rc;
    rc = count_real_vfs->xOpen(count_real_vfs, name, cf->real, flags, out);
    /* SQLite calls xClose when pMethods is set, even after a failed open */
    cf->base.pMethods = cf->real->pMethods ? &count_methods : NULL;
    return rc;
}
static int cv_delete(sqlite3_vfs *vfs, const char *name, int sync)
{
    (void)vfs;
    int rc = cv_ask("delete", cv_kind_of_name(name));
    return rc != SQLITE_OK ? rc : count_real_vfs->xDelete(count_real_vfs, name, sync);
}
static int cv_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return count_real_vfs->xAccess(count_real_vfs, name, flags, out);
}
static int cv_full(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return count_real_vfs->xFullPathname(count_real_vfs, name, n, out);
}
static void *cv_dlopen(sqlite3_vfs *vfs, const char *name)
{
    (void)vfs;
    return count_real_vfs->xDlOpen(count_real_vfs, name);
}
static void cv_dlerror(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    count_real_vfs->xDlError(count_real_vfs, n, out);
}
static void (*cv_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
    (void)vfs;
    return count_real_vfs->xDlSym(count_real_vfs, h, sym);
}
static void cv_dlclose(sqlite3_vfs *vfs, void *h)
{
    (void)vfs;
    count_real_vfs->xDlClose(count_real_vfs, h);
}
static int cv_random(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return count_real_vfs->xRandomness(count_real_vfs, n, out);
}
static int cv_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return count_real_vfs->xSleep(count_real_vfs, us);
}
static int cv_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return count_real_vfs->xCurrentTime(count_real_vfs, out);
}
static int cv_lasterr(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return count_real_vfs->xGetLastError ? count_real_vfs->xGetLastError(count_real_vfs, n, out)
                                         : 0;
}
static int cv_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return count_real_vfs->xCurrentTimeInt64(count_real_vfs, out);
}

static sqlite3_vfs count_vfs = {
    2,         0,          0,         NULL,       "count_vfs", NULL,       cv_open,   cv_delete,
    cv_access, cv_full,    cv_dlopen, cv_dlerror, cv_dlsym,    cv_dlclose, cv_random, cv_sleep,
    cv_time,   cv_lasterr, cv_time64, NULL,       NULL,        NULL,
};

/* Wrap the default VFS and make the wrapper the default; SQLITE_OK or an error code. */
static int count_vfs_register(void)
{
    count_real_vfs = sqlite3_vfs_find(NULL);
    if (!count_real_vfs)
        return SQLITE_ERROR;
    count_vfs.szOsFile = (int)sizeof(count_file) + count_real_vfs->szOsFile;
    count_vfs.mxPathname = count_real_vfs->mxPathname;
    return sqlite3_vfs_register(&count_vfs, 1);
}

#endif
