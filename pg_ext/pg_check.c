/*
 * migrate_check on PostgreSQL: the set-returning function, and the rehearse capability
 * (common/mig_engine_rehearse.h) over the engine's subtransactions. Findings come from the
 * catalogs before and after each migration, inside its subtransaction: relations gone (data
 * loss, counted in the state before), a new relfilenode (a rewrite), columns gone, the strong
 * locks it took on existing tables (pg_locks of this backend), and sequences nextval advanced,
 * which no rollback undoes. migrate.check_lock_timeout bounds every lock wait of the rehearsal;
 * a wait that times out names the relation and the sessions holding it.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "pg_engine_internal.h"

#include "../common/mig_alloc.h"
#include "../common/mig_buf.h"
#include "../common/mig_check.h"
#include "../common/mig_engine_rehearse.h"

PG_FUNCTION_INFO_V1(migrate_check);

#define STEP_SAVEPOINT "migrate_check_step"

/* migrate.check_lock_timeout: how long a rehearsal waits for a lock, in milliseconds. */
static int check_lock_timeout = 5000;

/* Define migrate.check_lock_timeout. */
void pg_check_define_settings(void)
{
    DefineCustomIntVariable("migrate.check_lock_timeout",
                            "How long migrate_check waits for any lock before it reports the "
                            "migration as failing on a lock timeout (0: wait as long as it takes).",
                            NULL, &check_lock_timeout, 5000, 0, INT_MAX, PGC_USERSET, GUC_UNIT_MS,
                            NULL, NULL, NULL);
}

/* One relation (or a column of one, or a lock on one) as the catalogs showed it. */
typedef struct rel_item {
    char *oid;
    char *name;  /* quoted, qualified */
    char *value; /* relfilenode; the column's name; the lock's mode; the sequence's last value;
                    a column's type */
    char *extra; /* a column's name, for its type; else "" */
} rel_item;

typedef struct rel_list {
    rel_item *items;
    size_t count;
    const rel_item **sorted; /* the items by oid, then value, for lookups (list_index) */
} rel_list;

/* What one look at the catalogs saw. */
typedef struct catalog_look {
    rel_list tables, columns, locks, sequences, types;
} catalog_look;

typedef struct rehearse_state {
    catalog_look before;
    rel_list lost_tables, lost_columns; /* items borrowed from before */
    rel_list
        retyped; /* owned: oid the old type, name the table, value the new type, extra the column */
} rehearse_state;

/* Rows of (oid, name, value) into a list. */
static int on_item(void *ctx, int ncols, const char *const *values)
{
    rel_list *l = ctx;
    rel_item *bigger = mig_realloc(l->items, (l->count + 1) * sizeof *bigger);
    if (!bigger)
        return MIG_NOMEM;
    l->items = bigger;
    rel_item *it = &l->items[l->count++];
    it->oid = mig_strdup(values[0] ? values[0] : "");
    it->name = mig_strdup(ncols > 1 && values[1] ? values[1] : "");
    it->value = mig_strdup(ncols > 2 && values[2] ? values[2] : "");
    it->extra = mig_strdup(ncols > 3 && values[3] ? values[3] : "");
    return it->oid && it->name && it->value && it->extra ? MIG_OK : MIG_NOMEM;
}

/* Free a list's items. */
static void items_free(rel_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        mig_free(l->items[i].oid);
        mig_free(l->items[i].name);
        mig_free(l->items[i].value);
        mig_free(l->items[i].extra);
    }
    mig_free(l->items);
    mig_free(l->sorted);
    l->items = NULL;
    l->sorted = NULL;
    l->count = 0;
}

/* Order of two items: by oid, then value. */
static int compare_items(const void *a, const void *b)
{
    const rel_item *x = *(const rel_item *const *)a, *y = *(const rel_item *const *)b;
    int c = strcmp(x->oid, y->oid);
    return c ? c : strcmp(x->value, y->value);
}

/*
 * Sort a list's items for lookups, so that comparing the looks before and after a migration
 * costs n log n rather than the square of the schema's size.
 */
static int list_index(rel_list *l)
{
    l->sorted = mig_malloc((l->count ? l->count : 1) * sizeof *l->sorted);
    if (!l->sorted)
        return MIG_NOMEM;
    for (size_t i = 0; i < l->count; i++)
        l->sorted[i] = &l->items[i];
    qsort(l->sorted, l->count, sizeof *l->sorted, compare_items);
    return MIG_OK;
}

/* Free a look. */
static void look_free(catalog_look *l)
{
    items_free(&l->tables);
    items_free(&l->columns);
    items_free(&l->locks);
    items_free(&l->sequences);
    items_free(&l->types);
}

/* The relations a migration's DBA cares about: the user's, not the system's. */
#define USER_RELATION "n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' "

#define TABLES_SQL                                                                                 \
    "SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relfilenode "        \
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "                               \
    "WHERE c.relkind IN ('r', 'm', 'p') AND " USER_RELATION "ORDER BY c.oid"
#define COLUMNS_SQL                                                                                \
    "SELECT a.attrelid, quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname "       \
    "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "                                   \
    "JOIN pg_namespace n ON n.oid = c.relnamespace "                                               \
    "WHERE c.relkind IN ('r', 'm', 'p') AND a.attnum > 0 AND NOT a.attisdropped "                  \
    "AND " USER_RELATION
/* a column by its table's oid and number, with its table, type and name */
#define TYPES_SQL                                                                                  \
    "SELECT a.attrelid || ':' || a.attnum, quote_ident(n.nspname) || '.' || "                      \
    "quote_ident(c.relname), "                                                                     \
    "format_type(a.atttypid, a.atttypmod), a.attname "                                             \
    "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "                                   \
    "JOIN pg_namespace n ON n.oid = c.relnamespace "                                               \
    "WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND " USER_RELATION
#define LOCKS_SQL                                                                                  \
    "SELECT l.relation, '', l.mode FROM pg_locks l "                                               \
    "WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted "                    \
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "           \
    "AND l.mode IN ('AccessExclusiveLock', 'ExclusiveLock', 'ShareRowExclusiveLock', "             \
    "'ShareLock')"
#define SEQUENCES_SQL                                                                              \
    "SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname), "                      \
    "CASE WHEN has_sequence_privilege(c.oid, 'SELECT,USAGE') "                                     \
    "THEN pg_sequence_last_value(c.oid)::text END "                                                \
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "                               \
    "WHERE c.relkind = 'S' AND " USER_RELATION

/* Look at the catalogs. */
static int look(void *h, catalog_look *out, mig_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = pg_engine_query(h, TABLES_SQL, 0, NULL, on_item, &out->tables, err);
    if (rc == MIG_OK)
        rc = pg_engine_query(h, COLUMNS_SQL, 0, NULL, on_item, &out->columns, err);
    if (rc == MIG_OK)
        rc = pg_engine_query(h, LOCKS_SQL, 0, NULL, on_item, &out->locks, err);
    if (rc == MIG_OK)
        rc = pg_engine_query(h, SEQUENCES_SQL, 0, NULL, on_item, &out->sequences, err);
    if (rc == MIG_OK)
        rc = pg_engine_query(h, TYPES_SQL, 0, NULL, on_item, &out->types, err);
    rel_list *lists[] = {&out->tables, &out->columns, &out->locks, &out->sequences, &out->types};
    for (size_t i = 0; rc == MIG_OK && i < sizeof lists / sizeof *lists; i++)
        rc = list_index(lists[i]);
    if (rc == MIG_NOMEM && !err->code)
        rc = mig_fail_nomem(err);
    if (rc != MIG_OK)
        look_free(out);
    return rc;
}

/* Where the first item of l with that oid (and value, when given) is in l->sorted, or would be. */
static size_t lower_bound(const rel_list *l, const char *oid, const char *value)
{
    size_t lo = 0, hi = l->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(l->sorted[mid]->oid, oid);
        if (c == 0 && value)
            c = strcmp(l->sorted[mid]->value, value);
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The item of l with that oid (and, when value is given, that value), or NULL. */
static const rel_item *find(const rel_list *l, const char *oid, const char *value)
{
    size_t at = lower_bound(l, oid, value);
    if (at == l->count || strcmp(l->sorted[at]->oid, oid) != 0 ||
        (value && strcmp(l->sorted[at]->value, value) != 0))
        return NULL;
    return l->sorted[at];
}

/* Add a borrowed item to a list. */
static int borrow(rel_list *l, const rel_item *it, mig_error *err)
{
    rel_item *bigger = mig_realloc(l->items, (l->count + 1) * sizeof *bigger);
    if (!bigger)
        return mig_fail_nomem(err);
    l->items = bigger;
    l->items[l->count++] = *it;
    return MIG_OK;
}

/*
 * rehearse.begin: lock waits bounded for the rest of the call, set here rather than through SPI
 * (the core's queries run under a GUC nest level that would take it back); GUC_ACTION_LOCAL
 * ends with the call's subtransaction, so the caller's lock_timeout is as it was.
 */
static int rehearse_begin(void *h, mig_error *err)
{
    char value[32];
    (void)h, (void)err;
    snprintf(value, sizeof value, "%d", check_lock_timeout);
    (void)set_config_option("lock_timeout", value, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
                            true, 0, false);
    return MIG_OK;
}

/* rehearse.step_open */
static int rehearse_step_open(void *h, mig_error *err)
{
    return pg_engine_savepoint(h, STEP_SAVEPOINT, err);
}

/* rehearse.step_keep */
static int rehearse_step_keep(void *h, mig_error *err)
{
    return pg_engine_release(h, STEP_SAVEPOINT, err);
}

/* rehearse.step_undo */
static void rehearse_step_undo(void *h)
{
    pg_engine_rollback(h, STEP_SAVEPOINT);
}

/* rehearse.exec */
static int rehearse_exec(void *h, const char *sql, size_t len, long *statements, long long *rows,
                         mig_error *err)
{
    pg_engine *pe = h;
    int rc = pg_engine_exec_script(h, sql, len, err);
    *statements = pe->completed;
    *rows = (long long)pe->processed;
    return rc;
}

/* rehearse.observe_before */
static int rehearse_observe_before(void *h, void **state, mig_error *err)
{
    rehearse_state *s = mig_calloc(1, sizeof *s);
    if (!s)
        return mig_fail_nomem(err);
    int rc = look(h, &s->before, err);
    if (rc != MIG_OK) {
        mig_free(s);
        s = NULL;
    }
    *state = s;
    return rc;
}

/* A lock mode as the DBA reads it, and what waits on it. */
static const char *lock_words(const char *mode, const char **blocks)
{
    *blocks = "writes wait";
    if (strcmp(mode, "AccessExclusiveLock") == 0) {
        *blocks = "reads and writes wait";
        return "ACCESS EXCLUSIVE";
    }
    if (strcmp(mode, "ExclusiveLock") == 0)
        return "EXCLUSIVE";
    if (strcmp(mode, "ShareRowExclusiveLock") == 0)
        return "SHARE ROW EXCLUSIVE";
    return "SHARE";
}

/* The strength of a lock mode among those reported. */
static int lock_rank(const char *mode)
{
    static const char *const modes[] = {"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock",
                                        "AccessExclusiveLock"};
    for (int i = 0; i < 4; i++)
        if (strcmp(mode, modes[i]) == 0)
            return i;
    return -1;
}

/* Whether the backend holds a stronger reported lock on the same relation. */
static bool stronger_held(const rel_list *locks, const rel_item *l)
{
    for (size_t i = lower_bound(locks, l->oid, NULL);
         i < locks->count && strcmp(locks->sorted[i]->oid, l->oid) == 0; i++)
        if (lock_rank(locks->sorted[i]->value) > lock_rank(l->value))
            return true;
    return false;
}

/* rehearse.observe_after: compare the catalogs with the look before. */
static int rehearse_observe_after(void *h, void *state, mig_buf *out, bool *count_before,
                                  mig_error *err)
{
    rehearse_state *s = state;
    const catalog_look *b = &s->before;
    catalog_look now;
    int rc = look(h, &now, err);
    if (rc != MIG_OK)
        return rc;
    for (size_t i = 0; rc == MIG_OK && i < now.locks.count; i++) {
        const rel_item *l = &now.locks.items[i];
        const rel_item *t = find(&now.tables, l->oid, NULL);
        if (!t || !find(&b->tables, l->oid, NULL) || find(&b->locks, l->oid, l->value) ||
            stronger_held(&now.locks, l))
            continue; /* a table it created, a lock held already, or one a stronger one covers */
        const char *blocks, *mode = lock_words(l->value, &blocks);
        mig_buf_printf(out, "lock: %s on %s: %s until the migration commits\n", mode, t->name,
                       blocks);
    }
    for (size_t i = 0; rc == MIG_OK && i < b->tables.count; i++) {
        const rel_item *t = &b->tables.items[i];
        const rel_item *n = find(&now.tables, t->oid, NULL);
        if (!n)
            rc = borrow(&s->lost_tables, t, err);
        else if (strcmp(n->value, t->value) != 0)
            mig_buf_printf(out,
                           "rewrite: table %s is rewritten (a new relfilenode): its time "
                           "and disk space grow with its size\n",
                           t->name);
    }
    for (size_t i = 0; rc == MIG_OK && i < b->columns.count; i++) {
        const rel_item *c = &b->columns.items[i];
        if (find(&now.tables, c->oid, NULL) && !find(&now.columns, c->oid, c->value))
            rc = borrow(&s->lost_columns, c, err);
    }
    for (size_t i = 0; rc == MIG_OK && i < now.sequences.count; i++) {
        const rel_item *q = &now.sequences.items[i];
        const rel_item *was = find(&b->sequences, q->oid, NULL);
        if (was && strcmp(was->value, q->value) != 0)
            mig_buf_printf(out,
                           "sequence: %s advanced by nextval (last value %s, now %s); the "
                           "rollback does not undo it\n",
                           q->name, *was->value ? was->value : "none", q->value);
    }
    for (size_t i = 0; rc == MIG_OK && i < b->types.count; i++) {
        const rel_item *t = &b->types.items[i];
        const rel_item *n = find(&now.types, t->oid, NULL);
        if (!n || strcmp(n->value, t->value) == 0)
            continue;
        const char *changed[4] = {t->value, t->name, n->value, t->extra};
        rc = on_item(&s->retyped, 4, changed) == MIG_OK ? MIG_OK : mig_fail_nomem(err);
    }
    look_free(&now);
    *count_before =
        rc == MIG_OK && (s->lost_tables.count || s->lost_columns.count || s->retyped.count);
    return rc;
}

/* Keep the first column of the first row, as a number. */
static int on_count(void *ctx, int ncols, const char *const *values)
{
    *(long long *)ctx = ncols > 0 && values[0] ? strtoll(values[0], NULL, 10) : 0;
    return MIG_OK;
}

typedef struct count_job {
    void *h;
    const char *sql;
    long long n;
} count_job;

/* Run a count whose casts may fail (caught by the caller's subtransaction). */
static void count_body(void *arg, volatile stmt_span *at)
{
    count_job *job = arg;
    mig_error err;
    (void)at;
    mig_error_init(&err);
    (void)pg_engine_query(job->h, job->sql, 0, NULL, on_count, &job->n, &err);
    mig_error_clear(&err);
}

/*
 * A type change that loses values: those that do not come back the same when cast to the new
 * type and back (numeric(10,2) to numeric(10,0), timestamp to date). The migration's USING, if
 * any, is not what is cast: the finding speaks of the plain cast. A cast that fails (the
 * values cannot be compared so) leaves the finding out.
 */
static int count_retyped(void *h, const rel_item *c, mig_buf *out, mig_error *err)
{
    const char *col = quote_identifier(c->extra);
    count_job job = {h,
                     psprintf("SELECT count(*) FROM %s WHERE %s IS NOT NULL AND "
                              "CAST(CAST(%s AS %s) AS %s) IS DISTINCT FROM %s",
                              c->name, col, col, c->value, c->oid, col),
                     0};
    mig_error failed;
    mig_error_init(&failed);
    int rc = pg_engine_run_in_subtransaction(count_body, &job, job.sql, &failed);
    mig_error_clear(&failed);
    if (rc == MIG_NOMEM)
        return mig_fail_nomem(err);
    if (rc == MIG_OK && job.n > 0)
        mig_buf_printf(out,
                       "data loss: column %s.%s changes type from %s to %s: %lld value%s would "
                       "not come back the same (cast to the new type and back)\n",
                       c->name, col, c->oid, c->value, job.n, job.n == 1 ? "" : "s");
    return MIG_OK;
}

/* rehearse.count_losses: in the state before the migration. */
static int rehearse_count_losses(void *h, void *state, mig_buf *out, mig_error *err)
{
    rehearse_state *s = state;
    int rc = MIG_OK;
    for (size_t i = 0; rc == MIG_OK && i < s->lost_tables.count; i++) {
        const rel_item *t = &s->lost_tables.items[i];
        long long n = 0;
        char *sql = psprintf("SELECT count(*) FROM %s", t->name);
        rc = pg_engine_query(h, sql, 0, NULL, on_count, &n, err);
        if (rc == MIG_OK)
            mig_buf_printf(out, "data loss: table %s dropped with %lld row%s\n", t->name, n,
                           n == 1 ? "" : "s");
    }
    for (size_t i = 0; rc == MIG_OK && i < s->lost_columns.count; i++) {
        const rel_item *c = &s->lost_columns.items[i];
        long long n = 0;
        char *sql = psprintf("SELECT count(%s) FROM %s", quote_identifier(c->value), c->name);
        rc = pg_engine_query(h, sql, 0, NULL, on_count, &n, err);
        if (rc == MIG_OK)
            mig_buf_printf(out, "data loss: column %s.%s dropped with %lld non-NULL value%s\n",
                           c->name, quote_identifier(c->value), n, n == 1 ? "" : "s");
    }
    for (size_t i = 0; rc == MIG_OK && i < s->retyped.count; i++)
        rc = count_retyped(h, &s->retyped.items[i], out, err);
    return rc;
}

/* Sessions holding a lock on a table the statement names: "public.t (pid 123)", or "". */
typedef struct holders {
    StringInfoData text;
    const char *statement;
} holders;

/* One holder row: relation name, plain name, pid; kept when the statement names the table. */
static int on_holder(void *ctx, int ncols, const char *const *values)
{
    holders *hs = ctx;
    if (ncols < 3 || !values[0] || !values[1] || !values[2])
        return MIG_OK;
    if (!strcasestr(hs->statement, values[1]))
        return MIG_OK;
    appendStringInfo(&hs->text, "%s%s (held by pid %s)", hs->text.len ? ", " : "", values[0],
                     values[2]);
    return MIG_OK;
}

#define HOLDERS_SQL                                                                                \
    "SELECT DISTINCT quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relname, l.pid "   \
    "FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "                                       \
    "JOIN pg_namespace n ON n.oid = c.relnamespace "                                               \
    "WHERE l.locktype = 'relation' AND l.granted AND l.pid <> pg_backend_pid() "                   \
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "           \
    "ORDER BY 1, 3"

/* The statement of the script the failure points at, as a C string. */
static char *failing_statement(const char *sql, size_t len, const mig_error *failure)
{
    size_t at = failure->offset >= 0 && (size_t)failure->offset < len ? (size_t)failure->offset : 0;
    size_t end = at;
    while (end < len && sql[end] != ';')
        end++;
    return pnstrdup(sql + at, end - at);
}

/*
 * rehearse.explain_failure: a lock timeout names the relation the statement waited for and who
 * holds it; a unique violation names its table and columns (from "Key (a, b)=(...)").
 */
static int rehearse_explain_failure(void *h, const char *sql, size_t len, mig_error *failure,
                                    char **table, char **columns, mig_error *err)
{
    *table = *columns = NULL;
    if (strcmp(failure->sqlstate, "55P03") == 0) {
        holders hs = {.statement = failing_statement(sql, len, failure)};
        initStringInfo(&hs.text);
        int rc = pg_engine_query(h, HOLDERS_SQL, 0, NULL, on_holder, &hs, err);
        if (rc != MIG_OK)
            return rc;
        long offset = failure->offset;
        mig_fail(failure, MIG_ENGINE, "lock timeout on %s",
                 hs.text.len ? hs.text.data : "a relation another session holds");
        strlcpy(failure->sqlstate, "55P03", sizeof failure->sqlstate);
        failure->offset = offset;
        mig_error_set_hint(failure,
                           "the rehearsal waited migrate.check_lock_timeout (%d ms); the real run "
                           "would wait behind that session, and the sessions queued behind it",
                           check_lock_timeout);
        return MIG_OK;
    }
    if (strcmp(failure->sqlstate, "23505") != 0 || !failure->table_name || !failure->detail)
        return MIG_OK;
    const char *key = strstr(failure->detail, "Key (");
    const char *end = key ? strstr(key, ")=(") : NULL;
    if (!key || !end)
        return MIG_OK;
    key += 5;
    *columns = mig_strndup(key, (size_t)(end - key));
    /* migrate_duplicates resolves a plain name on the search_path, as migrate_apply's SQL did */
    *table = mig_strdup(failure->table_name);
    if (!*table || !*columns) {
        mig_free(*table);
        mig_free(*columns);
        *table = *columns = NULL;
        return mig_fail_nomem(err);
    }
    return MIG_OK;
}

/* rehearse.is_constraint: a NOT NULL, CHECK or FOREIGN KEY violation on a named table. */
static bool rehearse_is_constraint(void *h, const mig_error *failure)
{
    (void)h;
    return failure->table_name &&
           (strcmp(failure->sqlstate, "23502") == 0 || strcmp(failure->sqlstate, "23514") == 0 ||
            strcmp(failure->sqlstate, "23503") == 0);
}

/* Rows of one text value: the first kept (caller's char **). */
static int on_text(void *ctx, int ncols, const char *const *values)
{
    char **out = ctx;
    if (ncols > 0 && values[0] && !*out && !(*out = mig_strdup(values[0])))
        return MIG_NOMEM;
    return MIG_OK;
}

/* Rows of identity expressions, each added to the violation. */
static int on_identity(void *ctx, int ncols, const char *const *values)
{
    mig_violation *v = ctx;
    if (ncols < 1 || !values[0])
        return MIG_OK;
    char **list = mig_realloc(v->identity, (size_t)(v->nidentity + 1) * sizeof *list);
    if (!list)
        return MIG_NOMEM;
    v->identity = list;
    if (!(list[v->nidentity] = mig_strdup(values[0])))
        return MIG_NOMEM;
    v->nidentity++;
    return MIG_OK;
}

#define PRIMARY_KEY_SQL                                                                            \
    "SELECT 'migrate_t.' || quote_ident(a.attname) FROM pg_index i "                               \
    "CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(att, n) "                    \
    "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.att "                         \
    "WHERE i.indrelid = to_regclass($1) AND i.indisprimary ORDER BY k.n"
#define HAS_COLUMN_SQL                                                                             \
    "SELECT CASE WHEN to_regclass($1) IS NULL THEN 'no table' "                                    \
    "WHEN EXISTS (SELECT FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2 "     \
    "AND attnum > 0 AND NOT attisdropped) THEN 'column' ELSE 'no column' END"
#define CHECK_SQL                                                                                  \
    "SELECT 'NOT (' || pg_get_expr(conbin, conrelid) || ')' FROM pg_constraint "                   \
    "WHERE conrelid = to_regclass($1) AND conname = $2 AND contype = 'c'"
/* MATCH SIMPLE: a row with a NULL in its key references nothing, and breaks nothing */
#define FOREIGN_KEY_SQL                                                                            \
    "SELECT string_agg(format('migrate_t.%I IS NOT NULL', fa.attname), ' AND ' ORDER BY k.n) "     \
    "|| ' AND NOT EXISTS (SELECT 1 FROM ' || c.confrelid::regclass::text || ' AS migrate_r WHERE " \
    "' "                                                                                           \
    "|| string_agg(format('migrate_r.%I OPERATOR(pg_catalog.=) migrate_t.%I', pa.attname, "        \
    "fa.attname), ' AND ' ORDER BY k.n) || ')' "                                                   \
    "FROM pg_constraint c "                                                                        \
    "CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(fk, pk, n) "              \
    "JOIN pg_attribute fa ON fa.attrelid = c.conrelid AND fa.attnum = k.fk "                       \
    "JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = k.pk "                      \
    "WHERE c.conrelid = to_regclass($1) AND c.conname = $2 AND c.contype = 'f' "                   \
    "GROUP BY c.oid, c.confrelid"

/*
 * Run the ALTER TABLE at the start of stmt again with NOT VALID, so that the CHECK or FOREIGN
 * KEY it adds is in the catalog without the rows being checked; false when it is no ALTER
 * TABLE or does not run so.
 */
static bool add_not_valid(void *h, const char *stmt, size_t len)
{
    char *text = pnstrdup(stmt, len);
    List *parsed = raw_parser(text, RAW_PARSE_DEFAULT);
    if (!parsed || !IsA(linitial_node(RawStmt, parsed)->stmt, AlterTableStmt))
        return false;
    stmt_span span = pg_statement_span(len, linitial_node(RawStmt, parsed));
    char *again = psprintf("%.*s\nNOT VALID", span.len, text + span.start);
    mig_error ignored;
    mig_error_init(&ignored);
    int rc = pg_engine_exec_script(h, again, strlen(again), &ignored);
    mig_error_clear(&ignored);
    return rc == MIG_OK;
}

/*
 * rehearse.constraint_rows: a NOT NULL names its column (every row breaks it when the column is
 * not there yet: ADD COLUMN ... NOT NULL); a CHECK or FOREIGN KEY that an ALTER TABLE adds is
 * added again NOT VALID, and its condition read from the catalog (pg_get_expr; the key columns
 * and the referenced table). A violation by the rows a statement writes is not about the rows
 * stored: those break nothing, and no finding follows.
 */
static int rehearse_constraint_rows(void *h, const char *stmt, size_t len, const mig_error *failure,
                                    mig_violation *out, mig_error *err)
{
    const char *table = failure->schema_name
                            ? quote_qualified_identifier(failure->schema_name, failure->table_name)
                            : quote_identifier(failure->table_name);
    const char *name =
        strcmp(failure->sqlstate, "23502") == 0 ? failure->column_name : failure->constraint_name;
    if (!name)
        return MIG_OK;
    const char *params[2] = {table, name};
    char *where = NULL;
    int rc = MIG_OK;
    if (strcmp(failure->sqlstate, "23502") == 0) {
        char *has = NULL;
        rc = pg_engine_query(h, HAS_COLUMN_SQL, 2, params, on_text, &has, err);
        out->kind = "NOT NULL";
        out->what = mig_printf("%s (%s)", table, quote_identifier(name));
        if (has && strcmp(has, "column") == 0)
            where = mig_printf("migrate_t.%s IS NULL", quote_identifier(name));
        else if (has && strcmp(has, "no column") == 0)
            where = mig_strdup("true");
        mig_free(has);
    } else {
        bool check = strcmp(failure->sqlstate, "23514") == 0;
        bool present = false;
        rc = pg_engine_query(h, check ? CHECK_SQL : FOREIGN_KEY_SQL, 2, params, on_text, &where,
                             err);
        present = where != NULL;
        if (rc == MIG_OK && !present && add_not_valid(h, stmt, len))
            rc = pg_engine_query(h, check ? CHECK_SQL : FOREIGN_KEY_SQL, 2, params, on_text, &where,
                                 err);
        out->kind = check ? "CHECK" : "FOREIGN KEY";
        out->what = mig_printf("%s on %s", quote_identifier(name), table);
    }
    if (rc == MIG_OK && where)
        rc = pg_engine_query(h, PRIMARY_KEY_SQL, 1, params, on_identity, out, err);
    if (rc == MIG_OK && where && !out->nidentity)
        rc = on_identity(out, 1, (const char *const[]){"migrate_t.ctid"});
    out->from = mig_strdup(table);
    if (rc == MIG_OK && where && (!out->what || !out->from))
        rc = MIG_NOMEM;
    if (rc != MIG_OK || !where) {
        mig_free(where);
        mig_violation_free(out);
        return rc == MIG_NOMEM && !err->code ? mig_fail_nomem(err) : rc;
    }
    out->where = where;
    return MIG_OK;
}

/* rehearse.observe_free */
static void rehearse_observe_free(void *h, void *state)
{
    rehearse_state *s = state;
    (void)h;
    if (!s)
        return;
    look_free(&s->before);
    mig_free(s->lost_tables.items);
    mig_free(s->lost_columns.items);
    items_free(&s->retyped);
    mig_free(s);
}

const mig_engine_rehearse pg_rehearse = {
    .begin = rehearse_begin,
    .step_open = rehearse_step_open,
    .step_keep = rehearse_step_keep,
    .step_undo = rehearse_step_undo,
    .exec = rehearse_exec,
    .observe_before = rehearse_observe_before,
    .observe_after = rehearse_observe_after,
    .count_losses = rehearse_count_losses,
    .explain_failure = rehearse_explain_failure,
    .is_constraint = rehearse_is_constraint,
    .constraint_rows = rehearse_constraint_rows,
    .observe_free = rehearse_observe_free,
    .note = NULL, /* sequences nextval advanced are a finding of their own */
};

/* What migrate_check is asked, and where its rows go. */
typedef struct check_args {
    mig_source src;
    const char *target;
    ReturnSetInfo *rsinfo;
    AttInMetadata *meta;
} check_args;

/* Rehearse, one row a migration into the set. */
static int check_op(const mig_engine *eng, void *arg, mig_error *err)
{
    check_args *a = arg;
    mig_check_report report;
    mig_policy policy = pg_engine_policy();
    int rc = mig_check(eng, &a->src, a->target, &policy, &report, err);
    for (size_t i = 0; rc == MIG_OK && i < report.count; i++) {
        const mig_check_row *r = &report.rows[i];
        char *values[9] = {pstrdup(r->version),
                           pstrdup(r->name),
                           pstrdup(r->outcome),
                           pstrdup(r->after_failure ? "true" : "false"),
                           r->error ? pstrdup(r->error) : NULL,
                           psprintf("%ld", r->statements),
                           psprintf("%lld", r->rows_changed),
                           psprintf("%lld", r->ms),
                           r->findings ? pstrdup(r->findings) : NULL};
        tuplestore_puttuple(a->rsinfo->setResult, BuildTupleFromCStrings(a->meta, values));
    }
    if (rc == MIG_OK)
        mig_check_report_free(&report);
    return rc;
}

/*
 * migrate_check(dir text, target text DEFAULT NULL) RETURNS TABLE (...): rehearse what
 * migrate_apply(dir, target) would run, and roll all of it back.
 */
Datum migrate_check(PG_FUNCTION_ARGS)
{
    check_args a = {.target = pg_engine_text_arg(fcinfo, 1)};
    char *dir = pg_engine_text_arg(fcinfo, 0);
    if (dir)
        pg_engine_check_file_access("migrate_check");
    a.src = mig_source_of_folder_arg(dir);
    a.rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
    InitMaterializedSRF(fcinfo, 0);
    a.meta = TupleDescGetAttInMetadata(a.rsinfo->setDesc);
    pg_engine_write(fcinfo, check_op, &a);
    return (Datum)0;
}
