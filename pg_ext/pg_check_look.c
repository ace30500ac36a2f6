/*
 * What migrate_check sees each migration do on PostgreSQL, from the catalogs, inside the
 * migration's subtransaction: relations gone (data loss, counted in the state before), a new
 * relfilenode (a rewrite), columns gone or given another type, the strong locks it took on
 * tables that existed before, and sequences nextval advanced, which no rollback undoes.
 *
 * A look costs what the migration changed, not what the schema holds. The call keeps every user
 * relation (tables, materialized views, partitioned tables, sequences) with its name,
 * relfilenode and columns as it last saw them, read once when the rehearsal starts. A relation
 * changes only through its pg_class and pg_attribute rows, and each such change sends a relcache
 * invalidation that this backend processes at the end of the command that made it (and again
 * when a subtransaction is rolled back, to undo it); a callback collects those relations' OIDs,
 * and the next look reads only them again, from the syscache. So the look after a migration is
 * the look before the next, whether the migration was kept or undone. An invalidation of every
 * relation (a sinval reset), a changed schema (its name is in every relation's) or more
 * relations than the set holds make the next look read them all again.
 *
 * The locks are this backend's own entries in the shared lock table, which is what pg_locks
 * shows for its pid: the four strong modes are never taken by the fast path. The sequences'
 * last values are read at every look, since nextval sends no invalidation.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "pg_check_look.h"
#include "pg_engine_internal.h"

/* --- relations invalidated since the last look ------------------------------------------- */

#define DIRTY_MAX   1024
#define DIRTY_SLOTS 2048 /* a power of two above DIRTY_MAX: an open-addressing set */

/*
 * Static, not in a call's memory: the callbacks stay registered for the backend's life and may
 * run while a failed call's memory is being released.
 */
static struct {
    bool active; /* a rehearsal is running: collect */
    bool all;    /* every relation must be read again */
    int count;
    Oid ids[DIRTY_MAX];
    Oid slots[DIRTY_SLOTS];
} dirty;

static bool callbacks_registered = false;

/* Add a relation to the set; when it is full, every relation is read again. */
static void dirty_add(Oid relid)
{
    if (dirty.all)
        return;
    for (uint32 i = ((uint32)relid * 2654435761u) & (DIRTY_SLOTS - 1);;
         i = (i + 1) & (DIRTY_SLOTS - 1)) {
        if (dirty.slots[i] == relid)
            return;
        if (dirty.slots[i] == InvalidOid) {
            if (dirty.count == DIRTY_MAX) {
                dirty.all = true;
                return;
            }
            dirty.slots[i] = relid;
            dirty.ids[dirty.count++] = relid;
            return;
        }
    }
}

/* Empty the set. */
static void dirty_clear(void)
{
    if (dirty.count)
        memset(dirty.slots, 0, sizeof dirty.slots);
    dirty.count = 0;
    dirty.all = false;
}

/* Relcache invalidation: the relation changed (InvalidOid: any may have). */
static void on_relcache_inval(Datum arg, Oid relid)
{
    (void)arg;
    if (!dirty.active)
        return;
    if (OidIsValid(relid))
        dirty_add(relid);
    else
        dirty.all = true;
}

/* A schema was created, renamed or dropped: relation names may have changed with it. */
static void on_namespace_inval(Datum arg, int cacheid, uint32 hashvalue)
{
    (void)arg, (void)cacheid, (void)hashvalue;
    if (dirty.active)
        dirty.all = true;
}

/* --- the relations as the last look saw them --------------------------------------------- */

typedef struct seen_column {
    int16 attnum;
    char *name;
    char *type; /* format_type, for tables and partitioned tables; else NULL */
} seen_column;

typedef struct seen_rel {
    Oid oid; /* the hash key */
    char kind;
    char *name; /* quoted, qualified */
    Oid filenode;
    int ncolumns;
    seen_column *columns; /* by attnum */
} seen_rel;

/* The strong locks this backend holds on relations, sorted (held_lock, further down). */
typedef struct lock_set {
    struct held_lock *locks;
    int count;
} lock_set;

typedef struct check_look {
    MemoryContext cxt;
    HTAB *rels; /* seen_rel by oid */
    int sequences;
    bool loaded;            /* every relation read once */
    Oid first_new;          /* the first OID a relation created after the call began can have */
    lock_set locks;         /* the strong locks after the last migration observed */
    struct seq_value *seqs; /* the sequences' last values then */
    int nseqs;
    bool kept; /* nothing was undone since: those are the locks and values before the next */
} check_look;

/* The running call's look, or NULL; reset with the call's memory. */
static check_look *the_look = NULL;

/* The next OID the server will assign. */
static Oid next_oid(void)
{
    LWLockAcquire(OidGenLock, LW_SHARED);
#if PG_VERSION_NUM >= 170000
    Oid next = TransamVariables->nextOid;
#else
    Oid next = ShmemVariableCache->nextOid;
#endif
    LWLockRelease(OidGenLock);
    return next;
}

/* The call's memory is going: stop collecting, forget the look (unless another call's). */
static void look_gone(void *arg)
{
    if (the_look != arg)
        return;
    the_look = NULL;
    dirty.active = false;
    dirty_clear();
}

/* Start watching for this call. */
void pg_check_look_begin(pg_engine *pe)
{
    if (!callbacks_registered) {
        CacheRegisterRelcacheCallback(on_relcache_inval, (Datum)0);
        CacheRegisterSyscacheCallback(NAMESPACEOID, on_namespace_inval, (Datum)0);
        callbacks_registered = true;
    }
    MemoryContext cxt =
        AllocSetContextCreate(pe->cxt, "migrate_check look", ALLOCSET_DEFAULT_SIZES);
    check_look *look = MemoryContextAllocZero(cxt, sizeof *look);
    look->cxt = cxt;
    look->first_new = next_oid();
    HASHCTL ctl = {.keysize = sizeof(Oid), .entrysize = sizeof(seen_rel), .hcxt = cxt};
    look->rels =
        hash_create("migrate_check relations", 1024, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
    MemoryContextCallback *cb = MemoryContextAlloc(cxt, sizeof *cb);
    cb->func = look_gone;
    cb->arg = look;
    MemoryContextRegisterResetCallback(cxt, cb);
    dirty_clear();
    dirty.active = true;
    the_look = look;
}

/* Whether a relation of this kind is watched: tables, materialized views, sequences. */
static bool watched_kind(char kind)
{
    return kind == RELKIND_RELATION || kind == RELKIND_MATVIEW ||
           kind == RELKIND_PARTITIONED_TABLE || kind == RELKIND_SEQUENCE;
}

/* Whether a relation of this kind holds rows a DBA can lose: a table or materialized view. */
static bool table_kind(char kind)
{
    return kind == RELKIND_RELATION || kind == RELKIND_MATVIEW || kind == RELKIND_PARTITIONED_TABLE;
}

/* The name of a schema the DBA's relations live in, or NULL for a system or temporary one. */
static char *user_namespace(Oid nsp)
{
    char *name = get_namespace_name(nsp);
    if (!name || strcmp(name, "information_schema") == 0 || strncmp(name, "pg_", 3) == 0)
        return NULL;
    return name;
}

/* Order of two columns: by number. */
static int compare_columns(const void *a, const void *b)
{
    const seen_column *x = a, *y = b;
    return (int)x->attnum - (int)y->attnum;
}

/* The live columns of table r, read into r (allocated in cxt). */
static void read_columns(MemoryContext cxt, seen_rel *r)
{
    CatCList *list = SearchSysCacheList1(ATTNUM, ObjectIdGetDatum(r->oid));
    MemoryContext old = MemoryContextSwitchTo(cxt);
    r->columns = palloc(sizeof(seen_column) * Max(list->n_members, 1));
    r->ncolumns = 0;
    for (int i = 0; i < list->n_members; i++) {
        Form_pg_attribute a = (Form_pg_attribute)GETSTRUCT(&list->members[i]->tuple);
        if (a->attnum <= 0 || a->attisdropped)
            continue;
        seen_column *c = &r->columns[r->ncolumns++];
        c->attnum = a->attnum;
        c->name = pstrdup(NameStr(a->attname));
        /* format_type(atttypid, atttypmod), as SQL calls it */
        c->type = r->kind == RELKIND_MATVIEW
                      ? NULL
                      : format_type_extended(a->atttypid, a->atttypmod,
                                             FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_ALLOW_INVALID);
    }
    MemoryContextSwitchTo(old);
    ReleaseSysCacheList(list);
    qsort(r->columns, r->ncolumns, sizeof *r->columns, compare_columns);
}

/* Relation oid as the catalogs show it now, into *out (in cxt); false: gone, or not watched. */
static bool read_rel(MemoryContext cxt, Oid oid, seen_rel *out)
{
    HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(oid));
    if (!HeapTupleIsValid(tup))
        return false;
    Form_pg_class c = (Form_pg_class)GETSTRUCT(tup);
    char *nsp = watched_kind(c->relkind) ? user_namespace(c->relnamespace) : NULL;
    if (nsp) {
        MemoryContext old = MemoryContextSwitchTo(cxt);
        *out = (seen_rel){.oid = oid,
                          .kind = c->relkind,
                          .name = quote_qualified_identifier(nsp, NameStr(c->relname)),
                          .filenode = c->relfilenode};
        MemoryContextSwitchTo(old);
    }
    ReleaseSysCache(tup);
    if (nsp && table_kind(out->kind))
        read_columns(cxt, out);
    return nsp != NULL;
}

/* Free what a relation read holds (not the struct). */
static void rel_free(seen_rel *r)
{
    for (int i = 0; i < r->ncolumns; i++) {
        pfree(r->columns[i].name);
        if (r->columns[i].type)
            pfree(r->columns[i].type);
    }
    if (r->columns)
        pfree(r->columns);
    pfree(r->name);
}

/* Order of two OIDs. */
static int compare_oids(const void *a, const void *b)
{
    Oid x = *(const Oid *)a, y = *(const Oid *)b;
    return x < y ? -1 : x > y;
}

/* The OIDs to read again, sorted: the set, or every relation known or in pg_class. */
static Oid *take_dirty(check_look *look, int *count)
{
    int n = 0, cap = 16;
    Oid *oids;
    if (!look->loaded || dirty.all) {
        cap = (int)hash_get_num_entries(look->rels) + 256;
        oids = palloc(sizeof(Oid) * cap);
        HASH_SEQ_STATUS seq;
        seen_rel *r;
        hash_seq_init(&seq, look->rels);
        while ((r = hash_seq_search(&seq)) != NULL)
            oids[n++] = r->oid;
        dirty_clear(); /* before reading: what arrives meanwhile is for the next look */
        Relation rel = table_open(RelationRelationId, AccessShareLock);
        SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
        HeapTuple tup;
        while (HeapTupleIsValid(tup = systable_getnext(scan))) {
            Form_pg_class c = (Form_pg_class)GETSTRUCT(tup);
            if (!watched_kind(c->relkind))
                continue;
            if (n == cap)
                oids = repalloc(oids, sizeof(Oid) * (cap *= 2));
            oids[n++] = c->oid;
        }
        systable_endscan(scan);
        table_close(rel, AccessShareLock);
        /* OIDs wrapped around once: a relation from before may be above the counter */
        for (int i = 0; !look->loaded && i < n; i++)
            if (oids[i] >= look->first_new)
                look->first_new = InvalidOid;
        look->loaded = true;
    } else {
        oids = palloc(sizeof(Oid) * Max(dirty.count, 1));
        memcpy(oids, dirty.ids, sizeof(Oid) * dirty.count);
        n = dirty.count;
        dirty_clear();
    }
    qsort(oids, n, sizeof *oids, compare_oids);
    int unique = 0;
    for (int i = 0; i < n; i++)
        if (!unique || oids[unique - 1] != oids[i])
            oids[unique++] = oids[i];
    *count = unique;
    return oids;
}

/* One relation a look read again: as it was (a copy; NULL: new) and as it is (NULL: gone). */
typedef struct rel_change {
    Oid oid;
    seen_rel *was;
    seen_rel *now;
} rel_change;

typedef struct refresh_job {
    check_look *look;
    bool keep; /* keep the changes (observe_after), else free what was */
    rel_change *changes;
    int nchanges;
} refresh_job;

/* Read the invalidated relations again, under the pinned search_path (format_type's names). */
static void refresh_body(void *arg)
{
    refresh_job *job = arg;
    check_look *look = job->look;
    int n;
    Oid *oids = take_dirty(look, &n);
    job->changes = palloc(sizeof(rel_change) * Max(n, 1));
    job->nchanges = 0;
    for (int i = 0; i < n; i++) {
        seen_rel *entry = hash_search(look->rels, &oids[i], HASH_FIND, NULL);
        seen_rel fresh;
        bool exists = read_rel(look->cxt, oids[i], &fresh);
        if (!entry && !exists)
            continue;
        rel_change c = {oids[i], NULL, NULL};
        if (entry) {
            c.was = MemoryContextAlloc(look->cxt, sizeof *c.was);
            *c.was = *entry;
            if (entry->kind == RELKIND_SEQUENCE)
                look->sequences--;
        }
        if (exists) {
            entry = hash_search(look->rels, &oids[i], HASH_ENTER, NULL);
            *entry = fresh;
            c.now = entry;
            if (fresh.kind == RELKIND_SEQUENCE)
                look->sequences++;
        } else {
            hash_search(look->rels, &oids[i], HASH_REMOVE, NULL);
        }
        if (job->keep)
            job->changes[job->nchanges++] = c;
        else if (c.was) {
            rel_free(c.was);
            pfree(c.was);
        }
    }
    pfree(oids);
}

/* Bring the look up to date; with keep, what changed since the last look goes to *job. */
static void refresh(check_look *look, bool keep, refresh_job *job)
{
    *job = (refresh_job){look, keep, NULL, 0};
    if (look->loaded && !dirty.all && !dirty.count)
        return; /* nothing changed */
    pg_engine_with_pinned_search_path(refresh_body, job);
}

/* The change read for oid, or NULL when the look found it unchanged. */
static const rel_change *change_of(const refresh_job *job, Oid oid)
{
    int lo = 0, hi = job->nchanges;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (job->changes[mid].oid < oid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < job->nchanges && job->changes[lo].oid == oid ? &job->changes[lo] : NULL;
}

/* --- this backend's strong locks ---------------------------------------------------------- */

/* The modes reported, weakest first. */
static const LOCKMODE strong_modes[] = {ShareLock, ShareRowExclusiveLock, ExclusiveLock,
                                        AccessExclusiveLock};

typedef struct held_lock {
    Oid relid;
    int rank; /* in strong_modes */
} held_lock;

/* Order of two locks: by relation, then strength. */
static int compare_locks(const void *a, const void *b)
{
    const held_lock *x = a, *y = b;
    if (x->relid != y->relid)
        return x->relid < y->relid ? -1 : 1;
    return x->rank - y->rank;
}

/*
 * Add the strong modes proclock holds on a relation of this database that existed when the call
 * began. One created since holds no finding: the rehearsal created it under ACCESS EXCLUSIVE,
 * which it keeps (or another session did, after the rehearsal had begun).
 */
static void add_proclock(lock_set *set, int *cap, Oid first_new, const PROCLOCK *proclock)
{
    const LOCKTAG *tag = &proclock->tag.myLock->tag;
    if (tag->locktag_type != LOCKTAG_RELATION || tag->locktag_field1 != MyDatabaseId ||
        (OidIsValid(first_new) && tag->locktag_field2 >= first_new))
        return;
    for (int m = 0; m < (int)lengthof(strong_modes); m++) {
        if (!(proclock->holdMask & LOCKBIT_ON(strong_modes[m])))
            continue;
        if (set->count == *cap)
            set->locks = repalloc(set->locks, sizeof(held_lock) * (*cap *= 2));
        set->locks[set->count++] = (held_lock){tag->locktag_field2, m};
    }
}

/*
 * The relation locks of the four strong modes this backend holds in this database, sorted:
 * pg_locks' granted rows for its pid, read from its own list of the shared lock table's entries
 * under each partition's lock (another backend may add to the list, moving a fast-path lock).
 */
static lock_set strong_locks(Oid first_new)
{
    int cap = 64;
    if (OidIsValid(first_new) && next_oid() < first_new)
        first_new = InvalidOid; /* the counter wrapped around during the call */
    lock_set set = {palloc(sizeof(held_lock) * cap), 0};
    for (int p = 0; p < NUM_LOCK_PARTITIONS; p++) {
        LWLock *partition = LockHashPartitionLockByIndex(p);
        LWLockAcquire(partition, LW_SHARED);
#if PG_VERSION_NUM >= 160000
        dlist_iter iter;
        dlist_foreach(iter, &MyProc->myProcLocks[p])
            add_proclock(&set, &cap, first_new, dlist_container(PROCLOCK, procLink, iter.cur));
#else
        SHM_QUEUE *head = &MyProc->myProcLocks[p];
        for (PROCLOCK *pl = (PROCLOCK *)SHMQueueNext(head, head, offsetof(PROCLOCK, procLink)); pl;
             pl = (PROCLOCK *)SHMQueueNext(head, &pl->procLink, offsetof(PROCLOCK, procLink)))
            add_proclock(&set, &cap, first_new, pl);
#endif
        LWLockRelease(partition);
    }
    qsort(set.locks, set.count, sizeof *set.locks, compare_locks);
    return set;
}

/* Whether set holds that mode on that relation. */
static bool lock_held(const lock_set *set, Oid relid, int rank)
{
    held_lock key = {relid, rank};
    return bsearch(&key, set->locks, set->count, sizeof key, compare_locks) != NULL;
}

/* A lock mode as the DBA reads it, and what waits on it. */
static const char *lock_words(int rank, const char **blocks)
{
    static const char *const words[] = {"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE",
                                        "ACCESS EXCLUSIVE"};
    *blocks = strong_modes[rank] == AccessExclusiveLock ? "reads and writes wait" : "writes wait";
    return words[rank];
}

/* --- sequences -------------------------------------------------------------------------- */

typedef struct seq_value {
    Oid oid;
    char *value; /* pg_sequence_last_value as text; "" when NULL or not readable */
} seq_value;

/* Order of two sequence values: by OID. */
static int compare_seq_values(const void *a, const void *b)
{
    return compare_oids(&((const seq_value *)a)->oid, &((const seq_value *)b)->oid);
}

/*
 * The last value of sequence seq as the SQL the rehearsal ran before read it: NULL (here "")
 * without SELECT or USAGE on it (has_sequence_privilege), else pg_sequence_last_value.
 */
static char *sequence_value(Oid seq)
{
    if (pg_class_aclcheck(seq, GetUserId(), ACL_SELECT | ACL_USAGE) != ACLCHECK_OK)
        return "";
    LOCAL_FCINFO(fcinfo, 1);
    InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
    fcinfo->args[0].value = ObjectIdGetDatum(seq);
    fcinfo->args[0].isnull = false;
    Datum last = pg_sequence_last_value(fcinfo);
    return fcinfo->isnull ? "" : psprintf(INT64_FORMAT, DatumGetInt64(last));
}

/* The last values of every sequence the look knows, by OID. */
static seq_value *sequence_values(check_look *look, int *count)
{
    seq_value *out = palloc(sizeof(seq_value) * Max(look->sequences, 1));
    int n = 0;
    if (look->sequences) {
        HASH_SEQ_STATUS seq;
        seen_rel *r;
        hash_seq_init(&seq, look->rels);
        while ((r = hash_seq_search(&seq)) != NULL)
            if (r->kind == RELKIND_SEQUENCE && n < look->sequences)
                out[n++] = (seq_value){r->oid, NULL};
        for (int i = 0; i < n; i++)
            out[i].value = sequence_value(out[i].oid);
        qsort(out, n, sizeof *out, compare_seq_values);
    }
    *count = n;
    return out;
}

/* --- the observe hooks -------------------------------------------------------------------- */

typedef struct lost_column {
    const seen_rel *table; /* as it was */
    const seen_column *column;
} lost_column;

typedef struct retyped_column {
    const seen_rel *table; /* as it was */
    const char *column, *was, *now;
} retyped_column;

/* One migration's look before, and what the look after found lost. */
typedef struct step_state {
    MemoryContext cxt;
    lock_set locks_before;
    seq_value *seqs_before;
    int nseqs_before;
    refresh_job after; /* the relations the migration changed */
    const seen_rel **lost_tables;
    int nlost_tables;
    lost_column *lost_columns;
    int nlost_columns;
    retyped_column *retyped;
    int nretyped;
} step_state;

/* rehearse.observe_before: the look brought up to date; the locks and sequence values now. */
int pg_check_observe_before(void *h, void **state, mig_error *err)
{
    pg_engine *pe = h;
    (void)err;
    if (!the_look)
        pg_check_look_begin(pe);
    check_look *look = the_look;
    refresh_job job;
    refresh(look, false, &job);
    MemoryContext cxt =
        AllocSetContextCreate(look->cxt, "migrate_check migration", ALLOCSET_SMALL_SIZES);
    MemoryContext old = MemoryContextSwitchTo(cxt);
    step_state *s = palloc0(sizeof *s);
    s->cxt = cxt;
    if (look->kept) { /* as the look after the last migration saw them */
        s->locks_before = look->locks;
        s->seqs_before = look->seqs;
        s->nseqs_before = look->nseqs;
    } else {
        s->locks_before = strong_locks(look->first_new);
        s->seqs_before = sequence_values(look, &s->nseqs_before);
    }
    MemoryContextSwitchTo(old);
    *state = s;
    return MIG_OK;
}

/* Whether relation relid was a table (or materialized view) before the migration. */
static bool table_before(const check_look *look, const refresh_job *after, Oid relid)
{
    const rel_change *c = change_of(after, relid);
    if (c)
        return c->was && table_kind(c->was->kind);
    seen_rel *r = hash_search(look->rels, &relid, HASH_FIND, NULL);
    return r && table_kind(r->kind);
}

/* The lock findings: strong locks new on tables that existed before, the strongest per table. */
static void find_locks(check_look *look, step_state *s, mig_buf *out)
{
    lock_set now = strong_locks(look->first_new);
    for (int i = 0; i < now.count; i++) {
        const held_lock *l = &now.locks[i];
        if (i + 1 < now.count && now.locks[i + 1].relid == l->relid)
            continue; /* a stronger one is held: sorted by strength within a relation */
        seen_rel *t = hash_search(look->rels, &l->relid, HASH_FIND, NULL);
        if (!t || !table_kind(t->kind) || !table_before(look, &s->after, l->relid) ||
            lock_held(&s->locks_before, l->relid, l->rank))
            continue; /* a table it created, or a lock held already */
        const char *blocks, *mode = lock_words(l->rank, &blocks);
        mig_buf_printf(out, "lock: %s on %s: %s until the migration commits\n", mode, t->name,
                       blocks);
    }
    /* the locks before the next migration, unless something is undone first */
    if (look->locks.locks)
        pfree(look->locks.locks);
    look->locks.locks = MemoryContextAlloc(look->cxt, sizeof(held_lock) * Max(now.count, 1));
    memcpy(look->locks.locks, now.locks, sizeof(held_lock) * now.count);
    look->locks.count = now.count;
}

/* A savepoint of the rehearsal was rolled back: the locks it took are gone. */
void pg_check_look_undone(void)
{
    if (the_look)
        the_look->kept = false;
}

/* The column of r numbered attnum, or NULL. */
static const seen_column *column_by_number(const seen_rel *r, int16 attnum)
{
    for (int i = 0; i < r->ncolumns; i++)
        if (r->columns[i].attnum == attnum)
            return &r->columns[i];
    return NULL;
}

/* Whether r has a column of that name. */
static bool has_column_named(const seen_rel *r, const char *name)
{
    for (int i = 0; i < r->ncolumns; i++)
        if (strcmp(r->columns[i].name, name) == 0)
            return true;
    return false;
}

/* Compare one changed relation's two reads: rewrites to out; losses and type changes kept. */
static void compare_rel(step_state *s, const rel_change *c, mig_buf *out)
{
    const seen_rel *was = c->was, *now = c->now;
    if (!was || !table_kind(was->kind))
        return;
    if (!now || !table_kind(now->kind)) {
        s->lost_tables[s->nlost_tables++] = was;
        return;
    }
    if (was->filenode != now->filenode)
        mig_buf_printf(out,
                       "rewrite: table %s is rewritten (a new relfilenode): its time "
                       "and disk space grow with its size\n",
                       was->name);
    for (int i = 0; i < was->ncolumns; i++) {
        const seen_column *col = &was->columns[i];
        if (!has_column_named(now, col->name))
            s->lost_columns[s->nlost_columns++] = (lost_column){was, col};
        if (!col->type)
            continue;
        const seen_column *then = column_by_number(now, col->attnum);
        if (then && then->type && strcmp(then->type, col->type) != 0)
            s->retyped[s->nretyped++] = (retyped_column){was, col->name, col->type, then->type};
    }
}

/* rehearse.observe_after: what the migration changed, against the look before. */
int pg_check_observe_after(void *h, void *state, mig_buf *out, bool *count_before, mig_error *err)
{
    step_state *s = state;
    check_look *look = the_look;
    (void)h, (void)err;
    MemoryContext old = MemoryContextSwitchTo(s->cxt);
    refresh(look, true, &s->after);
    int columns = 0;
    for (int i = 0; i < s->after.nchanges; i++)
        if (s->after.changes[i].was)
            columns += s->after.changes[i].was->ncolumns;
    s->lost_tables = palloc(sizeof(seen_rel *) * Max(s->after.nchanges, 1));
    s->lost_columns = palloc(sizeof(lost_column) * Max(columns, 1));
    s->retyped = palloc(sizeof(retyped_column) * Max(columns, 1));
    find_locks(look, s, out);
    for (int i = 0; i < s->after.nchanges; i++)
        compare_rel(s, &s->after.changes[i], out);
    int nseqs;
    seq_value *seqs = sequence_values(look, &nseqs);
    for (int i = 0; i < nseqs; i++) {
        const seq_value *was = bsearch(&seqs[i], s->seqs_before, s->nseqs_before,
                                       sizeof *s->seqs_before, compare_seq_values);
        if (!was || strcmp(was->value, seqs[i].value) == 0)
            continue;
        seen_rel *q = hash_search(look->rels, &seqs[i].oid, HASH_FIND, NULL);
        mig_buf_printf(out,
                       "sequence: %s advanced by nextval (last value %s, now %s); the "
                       "rollback does not undo it\n",
                       q->name, *was->value ? was->value : "none", seqs[i].value);
    }
    /* the values before the next migration, unless something is undone first */
    for (int i = 0; i < look->nseqs; i++)
        if (*look->seqs[i].value)
            pfree(look->seqs[i].value);
    if (look->seqs)
        pfree(look->seqs);
    look->seqs = MemoryContextAlloc(look->cxt, sizeof(seq_value) * Max(nseqs, 1));
    for (int i = 0; i < nseqs; i++)
        look->seqs[i] = (seq_value){
            seqs[i].oid, *seqs[i].value ? MemoryContextStrdup(look->cxt, seqs[i].value) : ""};
    look->nseqs = nseqs;
    look->kept = true;
    s->locks_before = (lock_set){NULL, 0};
    s->seqs_before = NULL;
    s->nseqs_before = 0;
    MemoryContextSwitchTo(old);
    *count_before = s->nlost_tables || s->nlost_columns || s->nretyped;
    return MIG_OK;
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
static int count_retyped(void *h, const retyped_column *c, mig_buf *out, mig_error *err)
{
    const char *col = quote_identifier(c->column);
    count_job job = {h,
                     psprintf("SELECT pg_catalog.count(*) FROM %s WHERE %s IS NOT NULL AND "
                              "CAST(CAST(%s AS %s) AS %s) IS DISTINCT FROM %s",
                              c->table->name, col, col, c->now, c->was, col),
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
                       c->table->name, col, c->was, c->now, job.n, job.n == 1 ? "" : "s");
    return MIG_OK;
}

/* rehearse.count_losses: in the state before the migration. */
int pg_check_count_losses(void *h, void *state, mig_buf *out, mig_error *err)
{
    step_state *s = state;
    int rc = MIG_OK;
    for (int i = 0; rc == MIG_OK && i < s->nlost_tables; i++) {
        const seen_rel *t = s->lost_tables[i];
        long long n = 0;
        char *sql = psprintf("SELECT pg_catalog.count(*) FROM %s", t->name);
        rc = pg_engine_query(h, sql, 0, NULL, on_count, &n, err);
        if (rc == MIG_OK)
            mig_buf_printf(out, "data loss: table %s dropped with %lld row%s\n", t->name, n,
                           n == 1 ? "" : "s");
    }
    for (int i = 0; rc == MIG_OK && i < s->nlost_columns; i++) {
        const lost_column *c = &s->lost_columns[i];
        const char *col = quote_identifier(c->column->name);
        long long n = 0;
        char *sql = psprintf("SELECT pg_catalog.count(%s) FROM %s", col, c->table->name);
        rc = pg_engine_query(h, sql, 0, NULL, on_count, &n, err);
        if (rc == MIG_OK)
            mig_buf_printf(out, "data loss: column %s.%s dropped with %lld non-NULL value%s\n",
                           c->table->name, col, n, n == 1 ? "" : "s");
    }
    for (int i = 0; rc == MIG_OK && i < s->nretyped; i++)
        rc = count_retyped(h, &s->retyped[i], out, err);
    return rc;
}

/* rehearse.observe_free: the step's memory, and the reads of the relations it changed. */
void pg_check_observe_free(void *h, void *state)
{
    step_state *s = state;
    (void)h;
    if (!s)
        return;
    for (int i = 0; i < s->after.nchanges; i++)
        if (s->after.changes[i].was) {
            rel_free(s->after.changes[i].was);
            pfree(s->after.changes[i].was);
        }
    MemoryContextDelete(s->cxt);
}
