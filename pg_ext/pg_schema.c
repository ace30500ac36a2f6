/*
 * The PostgreSQL side of schema drift (common/mig_engine_drift.h): the database's objects from
 * pg_catalog, and the table migrate_schema_history.
 *
 * One query lists every object with PostgreSQL's own deparsers (pg_get_constraintdef,
 * pg_get_indexdef, pg_get_viewdef, pg_get_triggerdef, pg_get_functiondef, pg_get_expr,
 * format_type). It runs as a plan the backend keeps, under search_path pg_catalog, pg_temp, so
 * every name the deparsers print is schema-qualified whatever the caller's search_path. A column
 * default is deparsed without its table (pg_get_expr(adbin, 0)): a default refers to no column,
 * and the text is the same without opening the table. Owners,
 * privileges, OIDs, statistics, sequence values and storage are never part of it, so neither a
 * change of owner nor a dump and restore changes the description. Left out: the system schemas,
 * temporary schemas, and every object that belongs to an extension (migrate's tables among them),
 * with what hangs on them; an extension itself is one line with its version.
 */
#include "postgres.h"

#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "pg_engine_internal.h"
#include "pg_schema.h"

/* The objects, as (kind, name, definition); the core sorts them. */
static const char describe_sql[] =
    "WITH ext AS (SELECT classid, objid FROM pg_catalog.pg_depend WHERE deptype = 'e'), "
    "ns AS (SELECT n.oid, pg_catalog.quote_ident(n.nspname) AS qname "
    "  FROM pg_catalog.pg_namespace n "
    "  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') "
    "    AND n.nspname !~ '^pg_(toast_)?temp_' "
    "    AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = "
    "      'pg_catalog.pg_namespace'::pg_catalog.regclass AND ext.objid = n.oid)), "
    "rel AS (SELECT c.oid, c.relkind, c.relpersistence, c.reloptions, c.relrowsecurity, "
    "    c.relforcerowsecurity, c.relispartition, ns.qname || '.' || "
    "    pg_catalog.quote_ident(c.relname) AS qname "
    "  FROM pg_catalog.pg_class c JOIN ns ON ns.oid = c.relnamespace "
    "  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') "
    "    AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = "
    "      'pg_catalog.pg_class'::pg_catalog.regclass AND ext.objid = c.oid)), "
    "fn AS (SELECT p.oid, p.prokind, p.oid::pg_catalog.regprocedure::pg_catalog.text AS qname "
    "  FROM pg_catalog.pg_proc p JOIN ns ON ns.oid = p.pronamespace "
    "  WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = "
    "      'pg_catalog.pg_proc'::pg_catalog.regclass AND ext.objid = p.oid)), "
    "ty AS (SELECT t.oid, t.typtype, t.typbasetype, t.typtypmod, t.typnotnull, t.typdefaultbin, "
    "    t.typcollation, ns.qname || '.' || pg_catalog.quote_ident(t.typname) AS qname "
    "  FROM pg_catalog.pg_type t JOIN ns ON ns.oid = t.typnamespace "
    "  WHERE t.typtype IN ('e', 'd', 'r') "
    "    AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = "
    "      'pg_catalog.pg_type'::pg_catalog.regclass AND ext.objid = t.oid)) "
    "SELECT 'schema', qname, '' FROM ns "
    "UNION ALL "
    "SELECT CASE r.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' "
    "    WHEN 'S' THEN 'sequence' WHEN 'c' THEN 'type' WHEN 'f' THEN 'foreign table' "
    "    ELSE 'table' END, r.qname, "
    "  CASE WHEN r.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(r.oid, true) "
    "    WHEN r.relkind = 'S' THEN (SELECT pg_catalog.format_type(s.seqtypid, NULL) || "
    "      ' start ' || s.seqstart || ' increment ' || s.seqincrement || ' minvalue ' || "
    "      s.seqmin || ' maxvalue ' || s.seqmax || ' cache ' || s.seqcache || "
    "      CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END "
    "      FROM pg_catalog.pg_sequence s WHERE s.seqrelid = r.oid) "
    "    WHEN r.relkind = 'c' THEN 'composite' "
    "    ELSE pg_catalog.concat_ws(' ', "
    "      CASE WHEN r.relkind = 'p' THEN 'partition by ' || "
    "        pg_catalog.pg_get_partkeydef(r.oid) END, "
    "      CASE WHEN r.relispartition THEN 'partition of ' || (SELECT "
    "        i.inhparent::pg_catalog.regclass::pg_catalog.text FROM pg_catalog.pg_inherits i "
    "        WHERE i.inhrelid = r.oid) || ' ' || (SELECT pg_catalog.pg_get_expr(c.relpartbound, "
    "        c.oid) FROM pg_catalog.pg_class c WHERE c.oid = r.oid) END, "
    "      CASE WHEN r.relpersistence = 'u' THEN 'unlogged' END, "
    "      CASE WHEN r.relrowsecurity THEN 'row level security' END, "
    "      CASE WHEN r.relforcerowsecurity THEN 'force row level security' END, "
    "      'with ' || r.reloptions::pg_catalog.text) END "
    "FROM rel r "
    "UNION ALL "
    "SELECT 'column', r.qname || '.' || pg_catalog.quote_ident(a.attname), "
    "  pg_catalog.concat_ws(' ', pg_catalog.format_type(a.atttypid, a.atttypmod), "
    "    CASE WHEN a.attcollation <> t.typcollation THEN 'collate ' || (SELECT "
    "      pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname) "
    "      FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace cn "
    "      ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END, "
    "    CASE WHEN a.attnotnull THEN 'not null' END, "
    "    CASE a.attidentity WHEN 'a' THEN 'generated always as identity' "
    "      WHEN 'd' THEN 'generated by default as identity' END, "
    "    CASE WHEN a.attgenerated = 's' THEN 'generated always as (' || "
    "      pg_catalog.pg_get_expr(d.adbin, d.adrelid) || ') stored' "
    "      WHEN d.adbin IS NOT NULL THEN 'default ' || pg_catalog.pg_get_expr(d.adbin, 0) "
    "    END) "
    "FROM rel r JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 "
    "  AND NOT a.attisdropped "
    "JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
    "LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
    "WHERE r.relkind IN ('r', 'p', 'f', 'c') "
    "UNION ALL "
    "SELECT 'constraint', r.qname || '.' || pg_catalog.quote_ident(con.conname), "
    "  pg_catalog.pg_get_constraintdef(con.oid, true) "
    "FROM pg_catalog.pg_constraint con JOIN rel r ON r.oid = con.conrelid "
    "UNION ALL "
    "SELECT 'constraint', ty.qname || '.' || pg_catalog.quote_ident(con.conname), "
    "  pg_catalog.pg_get_constraintdef(con.oid, true) "
    "FROM pg_catalog.pg_constraint con JOIN ty ON ty.oid = con.contypid "
    "UNION ALL "
    "SELECT 'index', ns.qname || '.' || pg_catalog.quote_ident(ic.relname), "
    "  pg_catalog.pg_get_indexdef(i.indexrelid, 0, true) "
    "FROM pg_catalog.pg_index i JOIN rel r ON r.oid = i.indrelid "
    "JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
    "JOIN ns ON ns.oid = ic.relnamespace "
    "WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con WHERE con.conindid = "
    "  i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')) "
    "UNION ALL "
    "SELECT 'trigger', r.qname || '.' || pg_catalog.quote_ident(tg.tgname), "
    "  pg_catalog.pg_get_triggerdef(tg.oid, true) "
    "FROM pg_catalog.pg_trigger tg JOIN rel r ON r.oid = tg.tgrelid WHERE NOT tg.tgisinternal "
    "UNION ALL "
    "SELECT 'policy', r.qname || '.' || pg_catalog.quote_ident(p.polname), "
    "  pg_catalog.concat_ws(' ', CASE WHEN p.polpermissive THEN 'permissive' "
    "    ELSE 'restrictive' END, 'for ' || CASE p.polcmd WHEN 'r' THEN 'select' "
    "    WHEN 'a' THEN 'insert' WHEN 'w' THEN 'update' WHEN 'd' THEN 'delete' ELSE 'all' END, "
    "    'to ' || (SELECT pg_catalog.string_agg(x.role, ', ' ORDER BY x.role COLLATE \"C\") "
    "      FROM (SELECT CASE WHEN o = 0 THEN 'public' ELSE pg_catalog.quote_ident("
    "        pg_catalog.pg_get_userbyid(o)::pg_catalog.text) END AS role "
    "        FROM pg_catalog.unnest(p.polroles) o) x), "
    "    'using (' || pg_catalog.pg_get_expr(p.polqual, p.polrelid) || ')', "
    "    'with check (' || pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) || ')') "
    "FROM pg_catalog.pg_policy p JOIN rel r ON r.oid = p.polrelid "
    "UNION ALL "
    "SELECT CASE fn.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' "
    "    ELSE 'function' END, fn.qname, "
    "  CASE WHEN fn.prokind = 'a' THEN '' ELSE pg_catalog.pg_get_functiondef(fn.oid) END "
    "FROM fn "
    "UNION ALL "
    "SELECT 'type', ty.qname, CASE ty.typtype "
    "  WHEN 'e' THEN 'enum (' || (SELECT pg_catalog.string_agg(pg_catalog.quote_literal("
    "    e.enumlabel), ', ' ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e "
    "    WHERE e.enumtypid = ty.oid) || ')' "
    "  WHEN 'r' THEN (SELECT 'range of ' || pg_catalog.format_type(g.rngsubtype, NULL) "
    "    FROM pg_catalog.pg_range g WHERE g.rngtypid = ty.oid) "
    "  ELSE pg_catalog.concat_ws(' ', 'domain over ' || "
    "    pg_catalog.format_type(ty.typbasetype, ty.typtypmod), "
    "    CASE WHEN ty.typnotnull THEN 'not null' END, "
    "    'default ' || pg_catalog.pg_get_expr(ty.typdefaultbin, 0)) END "
    "FROM ty "
    "UNION ALL "
    "SELECT 'extension', pg_catalog.quote_ident(x.extname), x.extversion "
    "FROM pg_catalog.pg_extension x WHERE x.extname <> 'migrate' "
    "UNION ALL "
    "SELECT 'comment', CASE WHEN d.objsubid = 0 THEN r.qname ELSE r.qname || '.' || "
    "  pg_catalog.quote_ident((SELECT a.attname FROM pg_catalog.pg_attribute a "
    "  WHERE a.attrelid = r.oid AND a.attnum = d.objsubid)) END, d.description "
    "FROM pg_catalog.pg_description d JOIN rel r ON r.oid = d.objoid "
    "  AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass "
    "UNION ALL "
    "SELECT 'comment', fn.qname, d.description "
    "FROM pg_catalog.pg_description d JOIN fn ON fn.oid = d.objoid "
    "  AND d.classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass "
    "UNION ALL "
    "SELECT 'comment', ty.qname, d.description "
    "FROM pg_catalog.pg_description d JOIN ty ON ty.oid = d.objoid "
    "  AND d.classoid = 'pg_catalog.pg_type'::pg_catalog.regclass "
    "UNION ALL "
    "SELECT 'comment', ns.qname, d.description "
    "FROM pg_catalog.pg_description d JOIN ns ON ns.oid = d.objoid "
    "  AND d.classoid = 'pg_catalog.pg_namespace'::pg_catalog.regclass";

/*
 * The query's plan, kept for the backend's life: planning it costs a third as much as running it,
 * and a call that looks for drift before and records the schema after runs it twice. It reads
 * only pg_catalog, under the pinned search_path, so it never depends on the caller's.
 */
static SPIPlanPtr describe_plan = NULL;

typedef struct describe_job {
    mig_row_fn fn;
    void *ctx;
    int result;
} describe_job;

/* Run the kept plan (prepared the first time), each row to the core. */
static void describe_body(void *arg)
{
    describe_job *job = arg;
    if (!describe_plan) {
        SPIPlanPtr plan = SPI_prepare(describe_sql, 0, NULL);
        if (!plan || SPI_keepplan(plan) != 0)
            elog(ERROR, "migrate: could not prepare the schema description: %s",
                 SPI_result_code_string(SPI_result));
        describe_plan = plan;
    }
    /* not read-only: a fresh snapshot sees what the call's migrations changed */
    int rc = SPI_execute_plan(describe_plan, NULL, NULL, false, 0);
    if (rc != SPI_OK_SELECT)
        elog(ERROR, "migrate: the schema description failed: %s", SPI_result_code_string(rc));
    TupleDesc desc = SPI_tuptable->tupdesc;
    const char *values[3];
    int result = MIG_OK;
    for (uint64 r = 0; r < SPI_processed && result == MIG_OK; r++) {
        for (int c = 0; c < desc->natts && c < 3; c++)
            values[c] = SPI_getvalue(SPI_tuptable->vals[r], desc, c + 1);
        result = job->fn(job->ctx, desc->natts, values);
    }
    SPI_freetuptable(SPI_tuptable);
    job->result = result;
}

/* drift.describe: the query above, through the engine's pinned search_path. */
static int schema_describe(void *h, mig_row_fn fn, void *ctx, mig_error *err)
{
    pg_engine *pe = h;
    if (pe->aborted)
        return pg_engine_aborted_refusal(err);
    describe_job job = {fn, ctx, MIG_OK};
    pg_engine_with_pinned_search_path(describe_body, &job);
    if (job.result == MIG_NOMEM)
        return mig_fail_nomem(err);
    return job.result;
}

/* drift.prepare: CREATE EXTENSION made migrate_schema_history (pg_schema_drift found it). */
static int schema_prepare(void *h, bool create, bool *exists, mig_error *err)
{
    (void)h, (void)create, (void)err;
    *exists = true;
    return MIG_OK;
}

/* The drift capability, when the extension's schema holds migrate_schema_history. */
const mig_engine_drift *pg_schema_drift(pg_engine *pe, Oid schema)
{
    const char *nsp = get_namespace_name(schema);
    if (!nsp || !OidIsValid(get_relname_relid("migrate_schema_history", schema)))
        return NULL; /* a catalog not yet updated to this release */
    pe->drift = (mig_engine_drift){
        .table =
            MemoryContextStrdup(pe->cxt, quote_qualified_identifier(nsp, "migrate_schema_history")),
        .prepare = schema_prepare,
        .describe = schema_describe,
        .warn = NULL, /* the engine's progress: a NOTICE */
        .mode = pg_engine_policy().drift,
        .nested = false, /* pg_call.c says when a migration's SQL made the call */
    };
    return &pe->drift;
}
