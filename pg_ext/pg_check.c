/*
 * migrate_check on PostgreSQL: the set-returning function, and the rehearse capability
 * (common/mig_engine_rehearse.h) over the engine's subtransactions. What each migration is seen
 * to do in the catalogs (locks, rewrites, data loss, sequences) is pg_check_look.c's; here are
 * the savepoints, the explanations of a failure (a lock timeout, a UNIQUE, a NOT NULL, CHECK or
 * FOREIGN KEY that rows break) and the function. migrate.check_lock_timeout bounds every lock
 * wait of the rehearsal; a wait that times out names the relation and the sessions holding it.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "pg_check_look.h"
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
    pg_check_look_begin(h);
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
    pg_check_look_undone();
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

const mig_engine_rehearse pg_rehearse = {
    .begin = rehearse_begin,
    .step_open = rehearse_step_open,
    .step_keep = rehearse_step_keep,
    .step_undo = rehearse_step_undo,
    .exec = rehearse_exec,
    .observe_before = pg_check_observe_before,
    .observe_after = pg_check_observe_after,
    .count_losses = pg_check_count_losses,
    .explain_failure = rehearse_explain_failure,
    .is_constraint = rehearse_is_constraint,
    .constraint_rows = rehearse_constraint_rows,
    .observe_free = pg_check_observe_free,
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
