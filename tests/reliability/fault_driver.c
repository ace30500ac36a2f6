/*
 * fault_driver: fault-injection loops over one call of the SQLite module, the way SQLite's own
 * tests prove its robustness: the call is run again and again on a fresh copy of a database,
 * failing the Nth memory allocation (or the Nth file operation) for N = 1, 2, 3, ... until the
 * call runs to its end without reaching the fault.
 *
 *   fault_driver KIND TEMPLATE WORK EXTENSION SQL
 *
 * TEMPLATE is copied to WORK before every run; EXTENSION is what sqlite3_load_extension takes
 * (the path of migrate.so without .so); SQL is the call, one statement returning one row.
 * KIND is one of
 *   malloc       every allocation from the Nth on fails (persistent, as memory stays short)
 *   malloc-once  only the Nth allocation fails
 *   io           the Nth file operation (open, read, write, truncate, sync, size, delete) fails
 *                once with its SQLITE_IOERR_* code (SQLITE_CANTOPEN for an open)
 *   full         the Nth write fails once with SQLITE_FULL
 * Allocations are SQLite's (a counting allocator wraps the default one, installed with
 * SQLITE_CONFIG_MALLOC) and so the module's too: it allocates through sqlite3_malloc. Counting
 * covers only the call: loading the module and preparing the statement are done before.
 * FAULT_STRIDE (default 1) runs every Nth point only; FAULT_POINTS (default none) chooses the
 * stride that gives about that many points over the clean run's count; FAULT_LIMIT (default
 * none) stops after that many points.
 *
 * After each run that reached its fault the driver checks, and prints "FAIL N: why" otherwise:
 *   - the call returned a row (success) or an error with a message, and left no transaction open;
 *   - PRAGMA integrity_check is ok;
 *   - the database is exactly as before the call or exactly as after a clean run (schema, every
 *     table's rows in order, history without its times, users and durations), and as after when
 *     the call succeeded;
 *   - the same call again, without faults, ends where a clean run ends, with its result;
 *   - closing the connection succeeds (no statement left open) and every allocation of SQLite
 *     and of the module has been freed.
 * A call that ran out of SQLite's memory cannot roll back before its calling statement ends,
 * so it leaves its transaction open; it is counted as left_open, and then a COMMIT must fail
 * and end the transaction, keeping nothing of the call (the module's commit hook).
 * The last line is "points P errors E succeeded S before B after A left_open L failed F".
 * Exit status: 0 when no run failed a check, 1 when one did, 2 when the setup failed.
 */
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "count_vfs.h"

static enum { K_MALLOC, K_MALLOC_ONCE, K_IO, K_FULL } kind;

/* The fault plan of the current run: armed while the call runs. */
static int armed;
static long long counter, fail_at, fired;

/* Count one injection point; true when this one is to fail. */
static int fault_here(int persistent)
{
    if (!armed)
        return 0;
    counter++;
    if (fail_at > 0 && (counter == fail_at || (persistent && counter > fail_at))) {
        fired++;
        return 1;
    }
    return 0;
}

/* --- a counting allocator around SQLite's default one --- */

static sqlite3_mem_methods real_mem;
static long long live; /* blocks handed out and not yet freed */

static void *m_malloc(int n)
{
    if (kind <= K_MALLOC_ONCE && fault_here(kind == K_MALLOC))
        return NULL;
    void *p = real_mem.xMalloc(n);
    if (p)
        live++;
    return p;
}
static void m_free(void *p)
{
    if (p)
        live--;
    real_mem.xFree(p);
}
static void *m_realloc(void *p, int n)
{
    if (kind <= K_MALLOC_ONCE && fault_here(kind == K_MALLOC))
        return NULL;
    return real_mem.xRealloc(p, n);
}
static int m_size(void *p)
{
    return real_mem.xSize(p);
}
static int m_roundup(int n)
{
    return real_mem.xRoundup(n);
}
static int m_init(void *x)
{
    return real_mem.xInit(x);
}
static void m_shutdown(void *x)
{
    real_mem.xShutdown(x);
}

/* --- the VFS hook: fail the Nth file operation --- */

static int io_fault(const char *op, const char *file_kind)
{
    (void)file_kind;
    if (kind == K_FULL)
        return strcmp(op, "write") == 0 && fault_here(0) ? SQLITE_FULL : SQLITE_OK;
    if (kind != K_IO || !fault_here(0))
        return SQLITE_OK;
    return strcmp(op, "open") == 0       ? SQLITE_CANTOPEN
           : strcmp(op, "read") == 0     ? SQLITE_IOERR_READ
           : strcmp(op, "write") == 0    ? SQLITE_IOERR_WRITE
           : strcmp(op, "truncate") == 0 ? SQLITE_IOERR_TRUNCATE
           : strcmp(op, "sync") == 0     ? SQLITE_IOERR_FSYNC
           : strcmp(op, "size") == 0     ? SQLITE_IOERR_FSTAT
           : strcmp(op, "delete") == 0   ? SQLITE_IOERR_DELETE
                                         : SQLITE_IOERR;
}

/* --- text buffers of the driver (plain malloc: never counted, never failed) --- */

typedef struct text {
    char *s;
    size_t n, cap;
} text;

static void t_add(text *t, const char *s, size_t n)
{
    if (t->n + n + 1 > t->cap) {
        t->cap = (t->n + n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        if (!t->s) {
            fprintf(stderr, "driver out of memory\n");
            exit(2);
        }
    }
    memcpy(t->s + t->n, s, n);
    t->n += n;
    t->s[t->n] = '\0';
}
static void t_str(text *t, const char *s)
{
    t_add(t, s, strlen(s));
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* --- the state of a database --- */

/* Columns that hold times, users or durations: they differ between runs. */
static int volatile_column(const char *table, const char *col)
{
    if (strcmp(col, "migrate_moved_at") == 0)
        return 1;
    if (strcmp(table, "migrate_schema_history") == 0)
        return strcmp(col, "recorded_at") == 0 || strcmp(col, "recorded_by") == 0;
    return strcmp(table, "migrate_history") == 0 &&
           (strcmp(col, "applied_at") == 0 || strcmp(col, "applied_by") == 0 ||
            strcmp(col, "execution_ms") == 0);
}

/* Append every row of one table, in rowid order (or column order without a rowid). */
static int dump_table(sqlite3 *db, const char *table, text *out)
{
    char *sql = sqlite3_mprintf("SELECT * FROM \"%w\" ORDER BY rowid", table);
    sqlite3_stmt *st = NULL;
    int rc = sql ? sqlite3_prepare_v2(db, sql, -1, &st, NULL) : SQLITE_NOMEM;
    sqlite3_free(sql);
    if (rc != SQLITE_OK) {
        sql = sqlite3_mprintf("SELECT * FROM \"%w\"", table);
        rc = sql ? sqlite3_prepare_v2(db, sql, -1, &st, NULL) : SQLITE_NOMEM;
        sqlite3_free(sql);
        if (rc != SQLITE_OK)
            return rc;
        /* ORDER BY 1, 2, ... over every column */
        text q = {0};
        t_str(&q, "SELECT * FROM \"");
        t_str(&q, table);
        t_str(&q, "\" ORDER BY 1");
        for (int i = 2; i <= sqlite3_column_count(st); i++) {
            char k[24];
            snprintf(k, sizeof k, ", %d", i);
            t_str(&q, k);
        }
        sqlite3_finalize(st);
        rc = sqlite3_prepare_v2(db, q.s, -1, &st, NULL);
        free(q.s);
        if (rc != SQLITE_OK)
            return rc;
    }
    t_str(out, "table ");
    t_str(out, table);
    t_str(out, "\n");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            if (volatile_column(table, sqlite3_column_name(st, i)))
                continue;
            int type = sqlite3_column_type(st, i);
            char tag[4] = {"?ifstbn"[type < 6 ? type : 0], ':', '\0'};
            t_str(out, tag);
            if (type == SQLITE_BLOB) {
                const unsigned char *b = sqlite3_column_blob(st, i);
                for (int j = 0; j < sqlite3_column_bytes(st, i); j++) {
                    char h[3];
                    snprintf(h, sizeof h, "%02x", b[j]);
                    t_str(out, h);
                }
            } else if (type != SQLITE_NULL) {
                const unsigned char *s = sqlite3_column_text(st, i);
                t_add(out, (const char *)s, (size_t)sqlite3_column_bytes(st, i));
            }
            t_str(out, "|");
        }
        t_str(out, "\n");
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The whole state: the schema, then every real table's rows; NULL (and a message) on error. */
static char *dump(sqlite3 *db, char **why)
{
    text out = {0};
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT type, name, tbl_name, sql FROM sqlite_schema "
                                "ORDER BY type, name",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        *why = dup_or_null(sqlite3_errmsg(db));
        return NULL;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < 4; i++) {
            const char *v = (const char *)sqlite3_column_text(st, i);
            t_str(&out, v ? v : "NULL");
            t_str(&out, i < 3 ? "\t" : "\n");
        }
    }
    sqlite3_finalize(st);
    rc = sqlite3_prepare_v2(db,
                            "SELECT name FROM sqlite_schema WHERE type = 'table' "
                            "AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name",
                            -1, &st, NULL);
    while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        rc = dump_table(db, (const char *)sqlite3_column_text(st, 0), &out);
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        *why = dup_or_null(sqlite3_errmsg(db));
        free(out.s);
        return NULL;
    }
    if (!out.s)
        t_str(&out, "");
    return out.s;
}

/* --- one run --- */

static const char *ext_path, *call_sql, *template_path, *work_path;

/* Copy TEMPLATE over WORK and remove WORK's journal, WAL and shared-memory files. */
static int fresh_copy(void)
{
    const char *suffix[] = {"-journal", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char name[4096];
        snprintf(name, sizeof name, "%s%s", work_path, suffix[i]);
        remove(name);
    }
    FILE *in = fopen(template_path, "rb"), *out = in ? fopen(work_path, "wb") : NULL;
    if (!in || !out) {
        perror(in ? work_path : template_path);
        if (in)
            fclose(in);
        return -1;
    }
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) {
            perror(work_path);
            fclose(in);
            fclose(out);
            return -1;
        }
    fclose(in);
    return fclose(out) == 0 ? 0 : -1;
}

/* Open WORK with the module loaded; exits on failure (faults are off here). */
static sqlite3 *open_work(void)
{
    sqlite3 *db;
    if (sqlite3_open_v2(work_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "cannot open %s: %s\n", work_path, sqlite3_errmsg(db));
        exit(2);
    }
    char *errmsg = NULL;
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 1, NULL);
    if (sqlite3_load_extension(db, ext_path, NULL, &errmsg) != SQLITE_OK) {
        fprintf(stderr, "cannot load %s: %s\n", ext_path, errmsg);
        exit(2);
    }
    return db;
}

/* What one call did: its result or its error. */
typedef struct outcome {
    int ok;
    char *result; /* the returned value as text, when ok */
    char *error;  /* the message, when not */
} outcome;

/* Run the call once on db, with faults armed when arm is set. */
static outcome run_call(sqlite3 *db, int arm)
{
    outcome o = {0};
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, call_sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "cannot prepare %s: %s\n", call_sql, sqlite3_errmsg(db));
        exit(2);
    }
    counter = 0;
    fired = 0;
    armed = arm;
    int rc = sqlite3_step(st);
    armed = 0;
    if (rc == SQLITE_ROW) {
        o.ok = 1;
        o.result = dup_or_null((const char *)sqlite3_column_text(st, 0));
        if (!o.result)
            o.result = strdup("NULL");
    } else {
        o.error = dup_or_null(sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return o;
}

static long long n_failed;
static long long point;

/* Report one failed check of the current point. */
static void failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void failf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL %lld: ", point);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

/* The first line where a and b differ, for a failure message. */
static void first_difference(const char *a, const char *b, char *out, size_t size)
{
    size_t i = 0, line = 0;
    while (a[i] && a[i] == b[i])
        i++;
    while (line < i && a[i - line - 1] != '\n')
        line++;
    const char *pa = a + i - line, *pb = b + i - line;
    int la = (int)strcspn(pa, "\n"), lb = (int)strcspn(pb, "\n");
    snprintf(out, size, "expected [%.*s], got [%.*s]", la > 200 ? 200 : la, pa, lb > 200 ? 200 : lb,
             pb);
}

static char *before_dump, *after_dump, *clean_result;
static long long baseline_live;

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s malloc|malloc-once|io|full TEMPLATE WORK EXTENSION SQL\n",
                argv[0]);
        return 2;
    }
    const char *kinds[] = {"malloc", "malloc-once", "io", "full"};
    int k = 0;
    while (k < 4 && strcmp(argv[1], kinds[k]) != 0)
        k++;
    if (k == 4) {
        fprintf(stderr, "bad kind %s\n", argv[1]);
        return 2;
    }
    kind = (int)k;
    template_path = argv[2];
    work_path = argv[3];
    ext_path = argv[4];
    call_sql = argv[5];
    long long stride = getenv("FAULT_STRIDE") ? atoll(getenv("FAULT_STRIDE")) : 1;
    long long limit = getenv("FAULT_LIMIT") ? atoll(getenv("FAULT_LIMIT")) : 0;
    long long aim = getenv("FAULT_POINTS") ? atoll(getenv("FAULT_POINTS")) : 0;
    if (stride < 1)
        stride = 1;

    static sqlite3_mem_methods counting = {m_malloc,  m_free, m_realloc,  m_size,
                                           m_roundup, m_init, m_shutdown, NULL};
    if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real_mem) != SQLITE_OK ||
        sqlite3_config(SQLITE_CONFIG_MALLOC, &counting) != SQLITE_OK ||
        sqlite3_initialize() != SQLITE_OK) {
        fprintf(stderr, "cannot install the counting allocator\n");
        return 2;
    }
    count_vfs_hook = io_fault;
    if (count_vfs_register() != SQLITE_OK) {
        fprintf(stderr, "cannot register the counting VFS\n");
        return 2;
    }

    /* The state before: the template itself. */
    if (fresh_copy() != 0)
        return 2;
    char *why = NULL;
    sqlite3 *db = open_work();
    if (!(before_dump = dump(db, &why))) {
        fprintf(stderr, "cannot read the template: %s\n", why);
        return 2;
    }
    sqlite3_close(db);

    /* A clean run: its result, its state after, how many points it has. */
    if (fresh_copy() != 0)
        return 2;
    db = open_work();
    fail_at = 0;
    outcome clean = run_call(db, 1);
    long long points_total = counter;
    if (!clean.ok) {
        fprintf(stderr, "the clean run failed: %s\n", clean.error);
        return 2;
    }
    clean_result = clean.result;
    if (!(after_dump = dump(db, &why))) {
        fprintf(stderr, "cannot read the clean run's database: %s\n", why);
        return 2;
    }
    if (sqlite3_close(db) != SQLITE_OK) {
        fprintf(stderr, "the clean run left a statement open\n");
        return 2;
    }
    baseline_live = live;
    if (aim > 0 && points_total > aim) /* about FAULT_POINTS points spread over the whole call */
        stride = (points_total + aim - 1) / aim;
    printf("stride %lld\n", stride);
    printf("clean result %s, %lld injection points\n", clean_result, points_total);
    fflush(stdout);

    long long n_open = 0, n_points = 0, n_errors = 0, n_succeeded = 0, n_before = 0, n_after = 0;
    for (point = 1;; point += stride) {
        if (limit > 0 && n_points >= limit)
            break;
        if (point > points_total * 4 + 1000) {
            failf("the call still reaches its fault after %lld points (a clean run has %lld)",
                  point, points_total);
            n_failed++;
            break;
        }
        if (fresh_copy() != 0)
            return 2;
        db = open_work();
        fail_at = point;
        outcome o = run_call(db, 1);
        if (!fired) { /* past the end: the call ran whole without meeting its fault */
            free(o.result);
            free(o.error);
            sqlite3_close(db);
            break;
        }
        n_points++;
        long long failed_before = n_failed;
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            failf(__VA_ARGS__);                                                                    \
            n_failed++;                                                                            \
        }                                                                                          \
    } while (0)
        if (o.ok)
            n_succeeded++;
        else
            n_errors++;
        CHECK(o.ok || (o.error && o.error[0] && strcmp(o.error, "not an error") != 0 &&
                       strcmp(o.error, "unknown error") != 0),
              "the call failed without a message ([%s])", o.error ? o.error : "NULL");
        if (!sqlite3_get_autocommit(db) && !o.ok && o.error &&
            strcmp(o.error, "out of memory") == 0) {
            /*
             * Once an allocation of SQLite fails inside the call, the connection stays out of
             * memory until the calling statement ends, so the call's ROLLBACK fails too and its
             * transaction is left open. The module then turns that transaction's COMMIT into a
             * ROLLBACK: committing must fail, end the transaction, and keep nothing of the call
             * (the checks below see the database as before it).
             */
            int commit_rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
            CHECK(commit_rc != SQLITE_OK && sqlite3_get_autocommit(db),
                  "the call ran out of memory, left its transaction open, and a COMMIT %s",
                  commit_rc == SQLITE_OK ? "kept its work" : "left the transaction open");
            n_open++;
        } else {
            CHECK(sqlite3_get_autocommit(db), "the call left a transaction open (%s)",
                  o.ok ? "it succeeded" : o.error);
        }
        if (!sqlite3_get_autocommit(db))
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);

        sqlite3_stmt *st;
        const char *ic = NULL;
        char *icopy = NULL;
        if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            ic = (const char *)sqlite3_column_text(st, 0);
        icopy = dup_or_null(ic ? ic : sqlite3_errmsg(db));
        sqlite3_finalize(st);
        CHECK(ic && strcmp(icopy, "ok") == 0, "integrity_check: %s", icopy);
        free(icopy);

        char *state = dump(db, &why);
        char diff[600];
        if (!state) {
            CHECK(0, "cannot read the database after the call: %s", why);
            free(why);
        } else if (strcmp(state, before_dump) == 0) {
            n_before++;
            CHECK(!o.ok, "the call returned %s but changed nothing", o.result);
        } else if (strcmp(state, after_dump) == 0) {
            n_after++;
            CHECK(!o.ok || strcmp(o.result, clean_result) == 0,
                  "the call returned %s, a clean run %s", o.result, clean_result);
        } else {
            first_difference(before_dump, state, diff, sizeof diff);
            CHECK(0,
                  "the database is neither as before the call nor as after it (%s); first "
                  "difference from before: %s",
                  o.ok ? o.result : o.error, diff);
        }
        free(state);

        /* the same call again, without faults, ends where a clean run ends */
        outcome again = run_call(db, 0);
        CHECK(again.ok, "the call again, without faults, failed: %s", again.error);
        state = dump(db, &why);
        if (!state) {
            CHECK(0, "cannot read the database after the call again: %s", why);
            free(why);
        } else if (strcmp(state, after_dump) != 0) {
            first_difference(after_dump, state, diff, sizeof diff);
            CHECK(0, "after the call again the database differs from a clean run's: %s", diff);
        }
        free(state);
        free(again.result);
        free(again.error);
        free(o.result);
        free(o.error);

        int close_rc = sqlite3_close(db);
        CHECK(close_rc == SQLITE_OK, "closing the connection failed: a statement was left open");
        if (close_rc != SQLITE_OK)
            sqlite3_close_v2(db);
        CHECK(live == baseline_live, "%lld allocations were never freed", live - baseline_live);
        baseline_live = live;
        if (n_failed > failed_before)
            fflush(stdout);
        if (n_failed >= 20) {
            printf("# stopping after 20 failed checks\n");
            break;
        }
    }
    printf("points %lld errors %lld succeeded %lld before %lld after %lld left_open %lld failed "
           "%lld\n",
           n_points, n_errors, n_succeeded, n_before, n_after, n_open, n_failed);
    free(before_dump);
    free(after_dump);
    free(clean_result);
    sqlite3_shutdown();
    return n_failed ? 1 : 0;
}
