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
 * none) stops after that many points; FAULT_START (default 1) is the first point. FAULT_SETUP
 * (default none) is SQL run on the connection before each call, without faults (a setting such as
 * fleet_workers). FAULT_PROBE (default none) is SQL returning one value, read after each run once
 * its transaction ended: it must be what it is after a clean run (PRAGMA foreign_keys: a call that
 * switched enforcement off for its transaction switched it back on, on failure too). FAULT_ONCE=1
 * says the call cannot be made twice (migrate_add_column: the column exists then): after a run that
 * ended as after, the call again may fail, with a message, and must leave the database as it is.
 *
 * FAULT_FILES ("TEMPLATE=WORK;TEMPLATE=WORK...") names more databases the call changes on
 * connections of its own (migrate_fleet): each is copied fresh before every run too, and checked
 * on its own, opened anew (which rolls back what a failed run left in a hot journal): integrity
 * ok, exactly as before or as after a clean run, and as after once the call ran again. With
 * them the call's result is one field per file, in the order of FAULT_FILES, separated by
 * char(30): "state" or "state:error". A file whose field says "migrated" must be as after, one
 * whose field says "failed" must carry an error. The counts per file are printed in a line
 * "file WORK before B after A" each.
 *
 * A call that changes nothing (migrate_check: a clean run leaves the database as before) may
 * succeed at a point and still differ from a clean run's result: then its result must name the
 * fault (an I/O error, out of memory, a full disk, a file it could not open), as a rehearsal's
 * failed step or a fleet's failed file does; such runs are counted as "reported".
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
 * The last line is "points P errors E succeeded S before B after A left_open L failed F"
 * (with FAULT_FILES or a call that changes nothing, "reported R" comes before "failed").
 *
 *   fault_driver dump EXTENSION DB...
 *
 * reads each DB in turn, opened anew (which rolls back a hot journal), and writes the first line
 * of its PRAGMA integrity_check ("integrity ok") and its state as the checks compare it (schema,
 * rows, history without its times) to the file DB.state, and prints a line "N HASH INTEGRITY"
 * for it (N = 1, 2, ...; HASH: FNV-1a of what DB.state holds): the crash tests read and compare
 * every file after a kill in one process and a few short lines.
 * Exit status: 0 when no run failed a check, 1 when one did, 2 when the setup failed.
 */
#define _POSIX_C_SOURCE 200809L /* strdup, strtok_r */
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "count_vfs.h"

static enum { K_MALLOC, K_MALLOC_ONCE, K_IO, K_FULL } kind;

/*
 * The fault plan of the current run: armed while the call runs. Atomic: migrate_fleet's workers
 * allocate and do file operations on threads of their own, through the same allocator and VFS.
 */
static atomic_int armed;
static atomic_llong counter, fired;
static long long fail_at;

/* Count one injection point; true when this one is to fail. */
static int fault_here(int persistent)
{
    if (!atomic_load(&armed))
        return 0;
    long long n = atomic_fetch_add(&counter, 1) + 1;
    if (fail_at > 0 && (n == fail_at || (persistent && n > fail_at))) {
        atomic_fetch_add(&fired, 1);
        return 1;
    }
    return 0;
}

/* --- a counting allocator around SQLite's default one --- */

static sqlite3_mem_methods real_mem;
static atomic_llong live; /* blocks handed out and not yet freed */

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

static const char *ext_path, *call_sql, *setup_sql, *probe_sql, *template_path, *work_path;

/* The other databases the call changes (FAULT_FILES): template, work copy, states. */
typedef struct extra_file {
    char *template_path, *work_path;
    char *before, *after; /* dumps of the template and after a clean run */
    long long n_before, n_after;
} extra_file;
static extra_file *extra;
static int n_extra;

/* Copy one template over its work file and remove the work file's journal, WAL and -shm. */
static int copy_file(const char *from, const char *to)
{
    const char *suffix[] = {"-journal", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char name[4096];
        snprintf(name, sizeof name, "%s%s", to, suffix[i]);
        remove(name);
    }
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    if (!in || !out) {
        perror(in ? to : from);
        if (in)
            fclose(in);
        return -1;
    }
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) {
            perror(to);
            fclose(in);
            fclose(out);
            return -1;
        }
    fclose(in);
    return fclose(out) == 0 ? 0 : -1;
}

/* Fresh copies of TEMPLATE and of every extra file's template. */
static int fresh_copy(void)
{
    if (copy_file(template_path, work_path) != 0)
        return -1;
    for (int i = 0; i < n_extra; i++)
        if (copy_file(extra[i].template_path, extra[i].work_path) != 0)
            return -1;
    return 0;
}

/* Split FAULT_FILES ("TEMPLATE=WORK;...") into the extra files; -1 when malformed. */
static int parse_files(const char *spec)
{
    char *copy = strdup(spec), *save = NULL;
    for (char *item = strtok_r(copy, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(item, '=');
        if (!eq || eq == item || !eq[1]) {
            free(copy);
            return -1;
        }
        *eq = '\0';
        extra = realloc(extra, sizeof *extra * (size_t)(n_extra + 1));
        extra[n_extra++] = (extra_file){strdup(item), strdup(eq + 1), NULL, NULL, 0, 0};
    }
    free(copy);
    return 0;
}

/* Open a database with the module loaded; exits on failure (faults are off here). */
static sqlite3 *open_db(const char *path)
{
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "cannot open %s: %s\n", path, sqlite3_errmsg(db));
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

/*
 * FAULT_TRACE=1: each statement the connection starts, on standard error, to find a point (the
 * trace allocates, so points move); FAULT_TRACE=2: only each run's outcome.
 */
static int trace_stmt(unsigned type, void *ctx, void *p, void *x)
{
    (void)type, (void)ctx, (void)p;
    fprintf(stderr, "[%lld] %.120s\n", (long long)counter, (const char *)x);
    return 0;
}

/* Open WORK with the module loaded and FAULT_SETUP run; exits on failure. */
static sqlite3 *open_work(void)
{
    sqlite3 *db = open_db(work_path);
    if (getenv("FAULT_TRACE") && strcmp(getenv("FAULT_TRACE"), "1") == 0)
        sqlite3_trace_v2(db, SQLITE_TRACE_STMT, trace_stmt, NULL);
    char *errmsg = NULL;
    if (setup_sql && sqlite3_exec(db, setup_sql, NULL, NULL, &errmsg) != SQLITE_OK) {
        fprintf(stderr, "FAULT_SETUP failed: %s\n", errmsg);
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

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            failf(__VA_ARGS__);                                                                    \
            n_failed++;                                                                            \
        }                                                                                          \
    } while (0)

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

/* Whether a result names the fault injected: SQLite's message for each code the driver returns. */
static int names_fault(const char *s)
{
    return s && (strstr(s, "I/O error") || strstr(s, "out of memory") ||
                 strstr(s, "database or disk is full") || strstr(s, "unable to open"));
}

/* PRAGMA integrity_check of db: a copy of its first line, or of the error. */
static char *integrity(sqlite3 *db)
{
    sqlite3_stmt *st;
    const char *ic = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        ic = (const char *)sqlite3_column_text(st, 0);
    char *copy = strdup(ic ? ic : sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return copy;
}

/* The value FAULT_PROBE reads on db, as text (a copy; "NULL" for none, the error on failure). */
static char *probe(sqlite3 *db)
{
    sqlite3_stmt *st;
    char *value = NULL;
    if (sqlite3_prepare_v2(db, probe_sql, -1, &st, NULL) == SQLITE_OK) {
        int rc = sqlite3_step(st);
        const char *v = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
        value = strdup(rc == SQLITE_ROW ? (v ? v : "NULL") : sqlite3_errmsg(db));
    } else {
        value = strdup(sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return value;
}

/* The field of extra file i in a fleet-style result (NULL: none); *len gets its length. */
static const char *file_field(const char *result, int i, size_t *len)
{
    const char *p = result;
    for (int k = 0; k < i && p; k++) {
        p = strchr(p, '\036');
        if (p)
            p++;
    }
    if (!p)
        return NULL;
    *len = strcspn(p, "\036");
    return p;
}

/*
 * Check each extra file after a run (o: the run's outcome; again: after the call ran again):
 * opened anew, integrity ok, as before or as after (as after once again; as after when its
 * field says migrated; an error with its field when it says failed).
 */
static void check_files(const outcome *o, int again)
{
    for (int i = 0; i < n_extra; i++) {
        extra_file *f = &extra[i];
        sqlite3 *db = open_db(f->work_path);
        char *ic = integrity(db), *why = NULL, diff[600];
        CHECK(strcmp(ic, "ok") == 0, "%s%s: integrity_check: %s", f->work_path,
              again ? " (after the call again)" : "", ic);
        free(ic);
        char *state = dump(db, &why);
        sqlite3_close(db);
        if (!state) {
            CHECK(0, "cannot read %s: %s", f->work_path, why);
            free(why);
            continue;
        }
        size_t len = 0;
        const char *field = o && o->ok ? file_field(o->result, i, &len) : NULL;
        int migrated = field && len >= 8 && strncmp(field, "migrated", 8) == 0;
        if (field && len >= 6 && strncmp(field, "failed", 6) == 0)
            CHECK(len > 7 && field[6] == ':', "%s failed without a message (%.*s)", f->work_path,
                  (int)len, field);
        if (again) {
            if (strcmp(state, f->after) != 0) {
                first_difference(f->after, state, diff, sizeof diff);
                CHECK(0, "%s after the call again differs from a clean run's: %s", f->work_path,
                      diff);
            }
        } else if (strcmp(state, f->before) == 0) {
            f->n_before++;
            CHECK(!migrated, "%s is reported migrated but is as before", f->work_path);
        } else if (strcmp(state, f->after) == 0) {
            f->n_after++;
        } else {
            first_difference(f->before, state, diff, sizeof diff);
            CHECK(0, "%s is neither as before the call nor as after it (%.*s); from before: %s",
                  f->work_path, (int)(field ? len : 0), field ? field : "", diff);
        }
        free(state);
    }
}

static char *before_dump, *after_dump, *clean_result;
static long long baseline_live;

/* FNV-1a, 64 bits, of a text. */
static unsigned long long fnv1a(const char *s)
{
    unsigned long long h = 14695981039346656037ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* fault_driver dump EXTENSION DB...: each database's integrity and state, to DB.state. */
static int dump_main(int count, char **paths)
{
    int rc = 0;
    for (int i = 0; i < count; i++) {
        sqlite3 *db = open_db(paths[i]);
        char *ic = integrity(db), *why = NULL, *state = dump(db, &why);
        text all = {0};
        t_str(&all, "integrity ");
        t_str(&all, ic);
        t_str(&all, "\n");
        if (state) {
            t_str(&all, state);
        } else {
            t_str(&all, "cannot read the database: ");
            t_str(&all, why ? why : "?");
            rc = 2;
        }
        char name[4096];
        snprintf(name, sizeof name, "%s.state", paths[i]);
        FILE *out = fopen(name, "w");
        if (!out || fputs(all.s, out) < 0 || fclose(out) != 0) {
            perror(name);
            rc = 2;
        }
        for (char *c = ic; *c; c++)
            if (*c == '\n')
                *c = ' ';
        printf("%d %016llx %s\n", i + 1, fnv1a(all.s), ic);
        free(all.s);
        free(ic);
        free(state);
        free(why);
        if (sqlite3_close(db) != SQLITE_OK)
            rc = 2;
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "dump") == 0) {
        ext_path = argv[2];
        return dump_main(argc - 3, argv + 3);
    }
    if (argc != 6) {
        fprintf(stderr,
                "usage: %s malloc|malloc-once|io|full TEMPLATE WORK EXTENSION SQL\n"
                "       %s dump EXTENSION DB...\n",
                argv[0], argv[0]);
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
    setup_sql = getenv("FAULT_SETUP");
    probe_sql = getenv("FAULT_PROBE");
    int once = getenv("FAULT_ONCE") && strcmp(getenv("FAULT_ONCE"), "1") == 0;
    long long stride = getenv("FAULT_STRIDE") ? atoll(getenv("FAULT_STRIDE")) : 1;
    long long limit = getenv("FAULT_LIMIT") ? atoll(getenv("FAULT_LIMIT")) : 0;
    long long aim = getenv("FAULT_POINTS") ? atoll(getenv("FAULT_POINTS")) : 0;
    if (stride < 1)
        stride = 1;
    if (getenv("FAULT_FILES") && parse_files(getenv("FAULT_FILES")) != 0) {
        fprintf(stderr, "bad FAULT_FILES %s\n", getenv("FAULT_FILES"));
        return 2;
    }

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

    /* The state before: the templates themselves. */
    if (fresh_copy() != 0)
        return 2;
    char *why = NULL;
    sqlite3 *db = open_work();
    if (!(before_dump = dump(db, &why))) {
        fprintf(stderr, "cannot read the template: %s\n", why);
        return 2;
    }
    sqlite3_close(db);
    for (int i = 0; i < n_extra; i++) {
        db = open_db(extra[i].work_path);
        if (!(extra[i].before = dump(db, &why))) {
            fprintf(stderr, "cannot read %s: %s\n", extra[i].template_path, why);
            return 2;
        }
        sqlite3_close(db);
    }

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
    char *clean_probe = probe_sql ? probe(db) : NULL;
    if (!(after_dump = dump(db, &why))) {
        fprintf(stderr, "cannot read the clean run's database: %s\n", why);
        return 2;
    }
    if (sqlite3_close(db) != SQLITE_OK) {
        fprintf(stderr, "the clean run left a statement open\n");
        return 2;
    }
    for (int i = 0; i < n_extra; i++) {
        db = open_db(extra[i].work_path);
        if (!(extra[i].after = dump(db, &why))) {
            fprintf(stderr, "cannot read %s after a clean run: %s\n", extra[i].work_path, why);
            return 2;
        }
        sqlite3_close(db);
    }
    /* a call that changes nothing: a rehearsal (or a fleet's calling database) */
    int changes_nothing = strcmp(before_dump, after_dump) == 0;
    baseline_live = live;
    if (aim > 0 && points_total > aim) /* about FAULT_POINTS points spread over the whole call */
        stride = (points_total + aim - 1) / aim;
    printf("stride %lld\n", stride);
    printf("clean result %s, %lld injection points\n", clean_result, points_total);
    if (clean_probe)
        printf("probe %s\n", clean_probe);
    fflush(stdout);

    long long n_open = 0, n_points = 0, n_errors = 0, n_succeeded = 0, n_before = 0, n_after = 0,
              n_reported = 0;
    long long start = getenv("FAULT_START") ? atoll(getenv("FAULT_START")) : 1;
    for (point = start < 1 ? 1 : start;; point += stride) {
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
        if (getenv("FAULT_TRACE") && strcmp(getenv("FAULT_TRACE"), "2") == 0)
            fprintf(stderr, "point %lld: %s, autocommit %d, txn state %d\n", point,
                    o.ok ? o.result : o.error, sqlite3_get_autocommit(db),
                    sqlite3_txn_state(db, "main"));
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

        char *ic = integrity(db);
        CHECK(strcmp(ic, "ok") == 0, "integrity_check: %s", ic);
        free(ic);
        if (probe_sql) {
            char *value = probe(db);
            CHECK(strcmp(value, clean_probe) == 0,
                  "%s gives %s after the call (%s), %s after a clean run", probe_sql, value,
                  o.ok ? o.result : o.error, clean_probe);
            free(value);
        }

        /* a successful call whose result is not a clean run's must say which fault it met */
        int reported = o.ok && strcmp(o.result, clean_result) != 0;
        if (reported && (changes_nothing || n_extra > 0)) {
            n_reported++;
            CHECK(names_fault(o.result), "the call returned %s, a clean run %s, naming no fault",
                  o.result, clean_result);
        }
        char *state = dump(db, &why);
        char diff[600];
        int was_after = state && !changes_nothing && strcmp(state, after_dump) == 0;
        if (!state) {
            CHECK(0, "cannot read the database after the call: %s", why);
            free(why);
        } else if (changes_nothing) {
            n_before++;
            if (strcmp(state, before_dump) != 0) {
                first_difference(before_dump, state, diff, sizeof diff);
                CHECK(0, "the call changes nothing, but left the database changed (%s): %s",
                      o.ok ? o.result : o.error, diff);
            }
        } else if (strcmp(state, before_dump) == 0) {
            n_before++;
            CHECK(!o.ok, "the call returned %s but changed nothing", o.result);
        } else if (strcmp(state, after_dump) == 0) {
            n_after++;
            CHECK(!o.ok || !reported, "the call returned %s, a clean run %s", o.result,
                  clean_result);
        } else {
            first_difference(before_dump, state, diff, sizeof diff);
            CHECK(0,
                  "the database is neither as before the call nor as after it (%s); first "
                  "difference from before: %s",
                  o.ok ? o.result : o.error, diff);
        }
        free(state);
        check_files(&o, 0);

        /* the same call again, without faults, ends where a clean run ends */
        outcome again = run_call(db, 0);
        CHECK(again.ok || (once && was_after && again.error && again.error[0]),
              "the call again, without faults, failed: %s", again.error);
        if (again.ok && changes_nothing && n_extra == 0)
            CHECK(strcmp(again.result, clean_result) == 0,
                  "the call again returned %s, a clean run %s", again.result, clean_result);
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
        check_files(NULL, 1);
        CHECK(live == baseline_live, "%lld allocations were never freed",
              (long long)live - baseline_live);
        baseline_live = live;
        if (n_failed > failed_before)
            fflush(stdout);
        if (n_failed >= 20) {
            printf("# stopping after 20 failed checks\n");
            break;
        }
    }
    for (int i = 0; i < n_extra; i++) {
        printf("file %s before %lld after %lld\n", extra[i].work_path, extra[i].n_before,
               extra[i].n_after);
        free(extra[i].template_path);
        free(extra[i].work_path);
        free(extra[i].before);
        free(extra[i].after);
    }
    free(extra);
    printf("points %lld errors %lld succeeded %lld before %lld after %lld left_open %lld ",
           n_points, n_errors, n_succeeded, n_before, n_after, n_open);
    if (changes_nothing || n_extra > 0)
        printf("reported %lld ", n_reported);
    printf("failed %lld\n", n_failed);
    free(before_dump);
    free(after_dump);
    free(clean_result);
    free(clean_probe);
    sqlite3_shutdown();
    return n_failed ? 1 : 0;
}
