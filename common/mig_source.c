/*
 * The source of migrations: a folder, or the migrate_scripts table. A folder's entries are
 * listed in name order, classified by name (mig_name) and read into pieces (an up or down
 * half, or a file with sections); pieces are sorted by version and joined into migrations,
 * each with its checksums. migrate_scripts rows become the same pieces, so both sources share
 * the version rules, ordering, duplicate handling and errors. Every error names the file.
 */
#include "mig_source.h"

#include "mig_alloc.h"
#include "mig_buf.h"
#include "mig_name.h"
#include "mig_sha256.h"
#include "mig_vec.h"
#include "mig_version.h"
#include "mig_script.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* One script file found in the folder, before up and down halves are joined. */
typedef struct piece {
    mig_name_kind kind; /* UP, DOWN or SECTIONED (a folder yields an UP and maybe a DOWN) */
    char *version;
    char *name;
    char *path; /* relative to the folder */
    char *up_text;
    char *down_text;
    mig_span up, down;
} piece;

typedef struct piece_list {
    piece *items;
    size_t count, cap;
} piece_list;

static void piece_free(piece *p)
{
    mig_free(p->version);
    mig_free(p->name);
    mig_free(p->path);
    mig_free(p->up_text);
    mig_free(p->down_text);
}

/* Normalise in place: drop a UTF-8 BOM, read CRLF as LF. */
size_t mig_text_normalize(char *text, size_t len)
{
    size_t r = 0, w = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        r = 3;
    for (; r < len; r++) {
        if (text[r] == '\r' && r + 1 < len && text[r + 1] == '\n')
            continue;
        text[w++] = text[r];
    }
    text[w] = '\0';
    return w;
}

/* Read a whole file as normalised script text; rel names it in errors. */
static int read_script(const char *full, const char *rel, char **out, size_t *outlen,
                       mig_error *err)
{
    /* non-blocking, so a FIFO is refused by fstat below instead of hanging the open */
    int fd = open(full, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return mig_fail(err, mig_errno_code(errno), "%s: cannot be read: %s", rel, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return mig_fail(err, MIG_ERR_ARGUMENT, "%s: is not a regular file", rel);
    }
    if ((unsigned long long)st.st_size > MIG_MAX_SCRIPT_BYTES) {
        close(fd);
        return mig_fail(err, MIG_ERR_LIMIT, "%s: is %lld bytes; scripts over %u MiB are refused",
                        rel, (long long)st.st_size, MIG_MAX_SCRIPT_BYTES >> 20);
    }
    size_t cap = (size_t)st.st_size, len = 0;
    char *text = mig_malloc(cap + 2); /* one byte to notice growth, one for the terminator */
    if (!text) {
        close(fd);
        return mig_fail_nomem(err);
    }
    int rc = MIG_OK;
    for (;;) {
        ssize_t n = read(fd, text + len, cap + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = mig_fail(err, mig_errno_code(errno), "%s: cannot be read: %s", rel,
                          strerror(errno));
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > cap) {
            rc = mig_fail(err, MIG_ERR_STATE, "%s: changed while it was being read", rel);
            break;
        }
    }
    close(fd);
    if (rc == MIG_OK) /* quotes are checked by the engine's rules when the source is loaded */
        rc = mig_script_check_text(text, len, rel, err);
    if (rc != MIG_OK) {
        mig_free(text);
        return rc;
    }
    *outlen = mig_text_normalize(text, len);
    *out = text;
    return MIG_OK;
}

/* Add a piece, taking ownership of its strings. */
static int pieces_push(piece_list *list, piece *p, mig_error *err)
{
    if (mig_grow((void **)&list->items, &list->cap, list->count + 1, sizeof *list->items) !=
        MIG_OK) {
        piece_free(p);
        return mig_fail_nomem(err);
    }
    list->items[list->count++] = *p;
    return MIG_OK;
}

/* Read one script file into a piece of the given kind. */
static int read_piece(const char *dir, const char *rel, mig_name_kind kind, const char *version,
                      const char *name, piece_list *list, mig_error *err)
{
    piece p = {.kind = kind};
    char *full = mig_printf("%s/%s", dir, rel);
    p.version = mig_strdup(version);
    p.name = mig_strdup(name);
    p.path = mig_strdup(rel);
    if (!full || !p.version || !p.name || !p.path) {
        mig_free(full);
        piece_free(&p);
        return mig_fail_nomem(err);
    }
    char *text = NULL;
    size_t len = 0;
    int rc = read_script(full, rel, &text, &len, err);
    mig_free(full);
    if (rc != MIG_OK) {
        piece_free(&p);
        return rc;
    }
    if (kind == MIG_NAME_SECTIONED) {
        mig_sections sec;
        rc = mig_sections_parse(text, len, rel, &sec, err);
        if (rc == MIG_OK) {
            p.up = sec.up;
            p.down = sec.down;
            p.up_text = mig_strndup(text + sec.up.offset, sec.up.len);
            if (sec.down.present)
                p.down_text = mig_strndup(text + sec.down.offset, sec.down.len);
            if (!p.up_text || (sec.down.present && !p.down_text))
                rc = mig_fail_nomem(err);
        }
        mig_free(text);
    } else {
        mig_span *span = kind == MIG_NAME_DOWN ? &p.down : &p.up;
        *span = (mig_span){0, len, 1, false, true};
        mig_script_directives(text, len, span);
        if (kind == MIG_NAME_DOWN)
            p.down_text = text;
        else
            p.up_text = text;
    }
    if (rc != MIG_OK) {
        piece_free(&p);
        return rc;
    }
    return pieces_push(list, &p, err);
}

/* Read a <version>_<name>/ folder: up.sql is required, down.sql optional. */
static int read_folder_migration(const char *dir, const char *entry, const mig_name_info *info,
                                 piece_list *list, mig_error *err)
{
    const char *halves[2] = {"up.sql", "down.sql"};
    for (int i = 0; i < 2; i++) {
        char *rel = mig_printf("%s/%s", entry, halves[i]);
        char *full = rel ? mig_printf("%s/%s", dir, rel) : NULL;
        if (!full) {
            mig_free(rel);
            return mig_fail_nomem(err);
        }
        struct stat st;
        int found = stat(full, &st) == 0;
        int rc = MIG_OK;
        if (!found && i == 0)
            rc = mig_fail(err, MIG_ERR_NO_FILE, "%s/: a migration folder needs an up.sql", entry);
        else if (found)
            rc = read_piece(dir, rel, i == 0 ? MIG_NAME_UP : MIG_NAME_DOWN, info->version,
                            info->name, list, err);
        mig_free(rel);
        mig_free(full);
        if (rc != MIG_OK)
            return rc;
    }
    return MIG_OK;
}

/* One name of a folder, with what readdir said it is (DT_UNKNOWN when it did not say). */
typedef struct folder_entry {
    char *name;
    unsigned char type;
} folder_entry;

static int compare_entries(const void *a, const void *b)
{
    return strcmp(((const folder_entry *)a)->name, ((const folder_entry *)b)->name);
}

static void entries_free(folder_entry *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mig_free(list[i].name);
    mig_free(list);
}

/* Order pieces by version, then up before down, then by path so errors are stable. */
static int compare_pieces(const void *a, const void *b)
{
    const piece *x = a, *y = b;
    int c = mig_version_compare(x->version, y->version);
    if (c)
        return c;
    if ((x->kind == MIG_NAME_DOWN) != (y->kind == MIG_NAME_DOWN))
        return x->kind == MIG_NAME_DOWN ? 1 : -1;
    return strcmp(x->path, y->path);
}

/* The folder as messages name it, with the directory a relative path was resolved against. */
char *mig_source_folder_label(const char *dir)
{
    if (dir[0] == '/')
        return mig_printf("\"%s\"", dir);
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
        return mig_printf("\"%s\" (a relative path)", dir);
    return mig_printf("\"%s\" (relative to the working directory \"%s\")", dir, cwd);
}

/* Fail naming the folder (with what a relative path meant) and why it cannot be read. */
static int folder_error(const char *dir, int code, const char *why, mig_error *err)
{
    char *where = mig_source_folder_label(dir);
    int rc = mig_fail(err, code, "migrations folder %s %s", where ? where : dir, why);
    mig_free(where);
    return rc;
}

/* List the folder's entries, sorted by name. */
static int list_entries(const char *dir, folder_entry **entries, size_t *count, mig_error *err)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT)
            return folder_error(dir, MIG_ERR_NO_FILE, "does not exist", err);
        return mig_fail(err, mig_errno_code(errno), "migrations folder \"%s\" cannot be opened: %s",
                        dir, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return folder_error(dir, MIG_ERR_ARGUMENT, "is not a folder", err);
    DIR *d = opendir(dir);
    if (!d)
        return mig_fail(err, mig_errno_code(errno), "migrations folder \"%s\" cannot be opened: %s",
                        dir, strerror(errno));
    size_t n = 0, cap = 0;
    folder_entry *list = NULL;
    struct dirent *e;
    int rc = MIG_OK;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* ., .., .gitkeep, editors' lock and swap files, hidden folders */
        if (mig_grow((void **)&list, &cap, n + 1, sizeof *list) != MIG_OK) {
            rc = mig_fail_nomem(err);
            break;
        }
        if (!(list[n].name = mig_strdup(e->d_name))) {
            rc = mig_fail_nomem(err);
            break;
        }
        list[n++].type = e->d_type;
    }
    closedir(d);
    if (rc != MIG_OK) {
        entries_free(list, n);
        return rc;
    }
    if (n)
        qsort(list, n, sizeof *list, compare_entries);
    *entries = list;
    *count = n;
    return MIG_OK;
}

/* True when name ends with .sql, in any case. */
static bool sql_name(const char *name)
{
    size_t len = strlen(name);
    return len >= 4 && strcasecmp(name + len - 4, ".sql") == 0;
}

/* What an entry of the folder is to the reader. */
typedef enum entry_class {
    ENTRY_SCRIPT,     /* named .sql and not a folder: read as a script */
    ENTRY_FOLDER,     /* a folder: a <version>_<name>/ migration, or ignored by its name */
    ENTRY_IGNORED,    /* cannot be a migration */
    ENTRY_UNREADABLE, /* err says why */
} entry_class;

/*
 * Classify an entry. Only what could be a migration is looked at: a plain file not named .sql
 * is ignored unseen, and an entry that vanished or dangles while the folder is read (an
 * editor's or uploader's temporary file) is ignored unless it is named like a migration.
 */
static entry_class classify_entry(const char *dir, const folder_entry *e, mig_error *err)
{
    bool script = sql_name(e->name);
    if (e->type == DT_REG)
        return script ? ENTRY_SCRIPT : ENTRY_IGNORED;
    if (e->type == DT_DIR && !script)
        return ENTRY_FOLDER;
    /* readdir did not say, or said a link or a folder named .sql: ask stat */
    char *full = mig_printf("%s/%s", dir, e->name);
    if (!full) {
        mig_fail_nomem(err);
        return ENTRY_UNREADABLE;
    }
    struct stat st;
    int failed = stat(full, &st) != 0 ? errno : 0;
    mig_free(full);
    if (!failed && S_ISDIR(st.st_mode))
        return ENTRY_FOLDER;
    if (!failed)
        return script ? ENTRY_SCRIPT : ENTRY_IGNORED;
    /* a folder named <version>_<name> is a migration too */
    bool could_be = script || mig_version_prefix(e->name, strlen(e->name), NULL) > 0;
    if (!could_be && (failed == ENOENT || failed == ELOOP))
        return ENTRY_IGNORED;
    if (failed == ELOOP)
        mig_fail(err, MIG_ERR_ARGUMENT, "%s: is a symbolic link loop", e->name);
    else if (failed == ENOENT)
        mig_fail(err, MIG_ERR_NO_FILE,
                 "%s: is a dangling symbolic link, or was removed while the folder was read",
                 e->name);
    else
        mig_fail(err, mig_errno_code(failed), "%s: cannot be read: %s", e->name, strerror(failed));
    return ENTRY_UNREADABLE;
}

/* Classify and read every entry of the folder into pieces. */
static int collect_pieces(const char *dir, piece_list *list, mig_error *err)
{
    folder_entry *entries = NULL;
    size_t count = 0;
    int rc = list_entries(dir, &entries, &count, err);
    for (size_t i = 0; rc == MIG_OK && i < count; i++) {
        const char *name = entries[i].name;
        entry_class class = classify_entry(dir, &entries[i], err);
        if (class == ENTRY_UNREADABLE) {
            rc = err->code;
            break;
        }
        if (class == ENTRY_IGNORED)
            continue;
        mig_name_info info;
        rc = mig_name_parse(name, class == ENTRY_FOLDER, &info, err);
        if (rc == MIG_OK && info.kind != MIG_NAME_IGNORED &&
            !mig_text_is_utf8(name, strlen(name))) {
            char *shown = mig_escape_utf8(name);
            rc = mig_fail(err, MIG_ERR_ARGUMENT,
                          "%s: the name is not valid UTF-8; rename the file (history keeps "
                          "names as text)",
                          shown ? shown : "?");
            mig_free(shown);
        }
        if (rc == MIG_OK && info.kind == MIG_NAME_FOLDER)
            rc = read_folder_migration(dir, name, &info, list, err);
        else if (rc == MIG_OK && info.kind != MIG_NAME_IGNORED)
            rc = read_piece(dir, name, info.kind, info.version, info.name, list, err);
        mig_name_info_free(&info);
    }
    entries_free(entries, count);
    return rc;
}

/* Fill m's checksums from its texts. */
static void checksum_migration(mig_migration *m)
{
    mig_checksum(m->up_text, strlen(m->up_text), m->checksum);
    if (m->down_text)
        mig_checksum(m->down_text, strlen(m->down_text), m->down_checksum);
    else
        m->down_checksum[0] = '\0';
}

/* Move an up piece (and the down piece paired with it) into migration m. */
static int take_migration(mig_migration *m, piece *up, piece *down, mig_error *err)
{
    m->version = up->version, up->version = NULL;
    m->name = up->name, up->name = NULL;
    m->script = up->path, up->path = NULL;
    m->up_text = up->up_text, up->up_text = NULL;
    m->up = up->up;
    if (down) {
        m->down_script = down->path, down->path = NULL;
        m->down_text = down->down_text, down->down_text = NULL;
        m->down = down->down;
    } else if (up->down_text) { /* a file with sections holds its own down script */
        m->down_script = mig_strdup(m->script);
        m->down_text = up->down_text, up->down_text = NULL;
        m->down = up->down;
        if (!m->down_script)
            return mig_fail_nomem(err);
    }
    checksum_migration(m);
    return MIG_OK;
}

/*
 * Join sorted pieces into migrations, one run of equal versions at a time: the first up piece
 * is the migration, a .down.sql of the same name its down half, and anything else in the run
 * a duplicate. With dups, duplicates are described there and skipped instead of failing.
 */
static int join_pieces(piece_list *list, mig_set *out, mig_buf *dups, mig_error *err)
{
    out->items = mig_calloc(list->count ? list->count : 1, sizeof *out->items);
    if (!out->items)
        return mig_fail_nomem(err);
    for (size_t i = 0; i < list->count;) {
        size_t end = i + 1;
        while (end < list->count &&
               mig_version_compare(list->items[i].version, list->items[end].version) == 0)
            end++;
        piece *up = list->items[i].kind != MIG_NAME_DOWN ? &list->items[i] : NULL;
        if (!up)
            return mig_fail(err, MIG_ERR_NO_FILE, "%s: down script of version %s has no up script",
                            list->items[i].path, list->items[i].version);
        piece *down = NULL;
        for (size_t k = i + 1; k < end && up->kind == MIG_NAME_UP; k++)
            if (list->items[k].kind == MIG_NAME_DOWN && !down &&
                strcmp(list->items[k].name, up->name) == 0)
                down = &list->items[k];
        for (size_t k = i + 1; k < end; k++) {
            piece *p = &list->items[k];
            if (p == down)
                continue;
            if (!dups)
                return mig_fail(err, MIG_ERR_CONFLICT, "duplicate version %s: %s and %s",
                                up->version, up->path, p->path);
            mig_buf_printf(dups, "%sduplicate version %s: %s and %s", dups->len ? "\n" : "",
                           up->version, up->path, p->path);
        }
        int rc = take_migration(&out->items[out->count++], up, down, err);
        if (rc != MIG_OK)
            return rc;
        i = end;
    }
    return MIG_OK;
}

/*
 * Order and join what was collected (when rc says collecting went well), then release the
 * pieces; on failure out is left empty.
 */
static int finish_pieces(piece_list *list, int rc, mig_set *out, mig_buf *dups, mig_error *err)
{
    if (rc == MIG_OK) {
        if (list->count)
            qsort(list->items, list->count, sizeof *list->items, compare_pieces);
        rc = join_pieces(list, out, dups, err);
    }
    for (size_t i = 0; i < list->count; i++)
        piece_free(&list->items[i]);
    mig_free(list->items);
    if (rc != MIG_OK)
        mig_set_free(out);
    return rc;
}

/* Read and order the migrations of dir; dups (may be NULL) collects duplicate versions. */
static int read_folder(const char *dir, mig_set *out, mig_buf *dups, mig_error *err)
{
    memset(out, 0, sizeof *out);
    if (!dir || !*dir)
        return mig_fail(err, MIG_ERR_NULL, "no migrations folder given");
    piece_list list = {0};
    int rc = collect_pieces(dir, &list, err);
    return finish_pieces(&list, rc, out, dups, err);
}

/* Read and order every migration of dir; a duplicate version is an error. */
int mig_source_read(const char *dir, mig_set *out, mig_error *err)
{
    return read_folder(dir, out, NULL, err);
}

/* Read every migration of dir, describing duplicate versions instead of failing on them. */
int mig_source_read_all(const char *dir, mig_set *out, char **duplicates, mig_error *err)
{
    mig_buf dups = {0};
    int rc = read_folder(dir, out, &dups, err);
    *duplicates = NULL;
    if (rc == MIG_OK && dups.len && !(*duplicates = mig_buf_take(&dups))) {
        mig_set_free(out);
        rc = mig_fail_nomem(err);
    }
    mig_buf_free(&dups);
    return rc;
}

/* Copy a stored script as script text: checked as a file would be, CRLF read as LF. */
static int copy_stored(const char *text, const char *label, char **out, mig_error *err)
{
    size_t len = strlen(text);
    if (len > MIG_MAX_SCRIPT_BYTES)
        return mig_fail(err, MIG_ERR_LIMIT, "%s: is %zu bytes; scripts over %u MiB are refused",
                        label, len, MIG_MAX_SCRIPT_BYTES / (1024u * 1024u));
    int rc = mig_script_check_text(text, len, label, err);
    if (rc != MIG_OK)
        return rc;
    if (!(*out = mig_strndup(text, len)))
        return mig_fail_nomem(err);
    mig_text_normalize(*out, len);
    return MIG_OK;
}

/* One migrate_scripts row as a piece holding its own down script, like a file with sections. */
static int row_piece(const mig_source_row *row, piece_list *list, mig_error *err)
{
    if (!row->version || !mig_version_valid(row->version))
        return mig_fail(err, MIG_ERR_ARGUMENT,
                        "migrate_scripts: version \"%s\" is not a version (expected digits "
                        "joined by '.', '_' or '-', such as 20240101 or 2.15.0)",
                        row->version ? row->version : "(null)");
    piece p = {.kind = MIG_NAME_SECTIONED};
    p.path = mig_printf("migrate_scripts:%s", row->version);
    size_t digits;
    size_t vlen = mig_version_prefix(row->version, strlen(row->version), &digits);
    p.version = mig_strndup(row->version + digits, vlen - digits); /* without the leading v */
    p.name = mig_strdup(row->name ? row->name : "");
    if (!p.path || !p.version || !p.name) {
        piece_free(&p);
        return mig_fail_nomem(err);
    }
    int rc = MIG_OK;
    if (!row->up_sql)
        rc = mig_fail(err, MIG_ERR_ARGUMENT, "%s: up_sql is NULL", p.path);
    if (rc == MIG_OK)
        rc = copy_stored(row->up_sql, p.path, &p.up_text, err);
    if (rc == MIG_OK && row->down_sql)
        rc = copy_stored(row->down_sql, p.path, &p.down_text, err);
    if (rc != MIG_OK) {
        piece_free(&p);
        return rc;
    }
    p.up = (mig_span){0, strlen(p.up_text), 1, false, true};
    mig_script_directives(p.up_text, p.up.len, &p.up);
    if (p.down_text)
        p.down = (mig_span){0, strlen(p.down_text), 1, false, true};
    return pieces_push(list, &p, err);
}

/* Order, pair and check rows as a folder's files are. */
int mig_source_from_rows(const mig_source_row *rows, size_t count, mig_set *out, char **duplicates,
                         mig_error *err)
{
    memset(out, 0, sizeof *out);
    if (duplicates)
        *duplicates = NULL;
    piece_list list = {0};
    mig_buf dups = {0};
    int rc = MIG_OK;
    for (size_t i = 0; rc == MIG_OK && i < count; i++)
        rc = row_piece(&rows[i], &list, err);
    rc = finish_pieces(&list, rc, out, duplicates ? &dups : NULL, err);
    if (rc == MIG_OK && duplicates && dups.len && !(*duplicates = mig_buf_take(&dups))) {
        mig_set_free(out);
        rc = mig_fail_nomem(err);
    }
    mig_buf_free(&dups);
    return rc;
}

/* migrate_scripts rows as the engine returned them, before they become a set. */
typedef struct table_rows {
    mig_source_row *rows;
    size_t count, cap;
} table_rows;

/* Copy one migrate_scripts row. */
static int on_script_row(void *ctx, int ncols, const char *const *v)
{
    table_rows *st = ctx;
    if (ncols != 4)
        return MIG_ERR_STATE;
    if (mig_grow((void **)&st->rows, &st->cap, st->count + 1, sizeof *st->rows) != MIG_OK)
        return MIG_NOMEM;
    mig_source_row *r = &st->rows[st->count++];
    memset(r, 0, sizeof *r);
    const char **fields[4] = {&r->version, &r->name, &r->up_sql, &r->down_sql};
    for (int i = 0; i < 4; i++)
        if (v[i] && !(*fields[i] = mig_strdup(v[i])))
            return MIG_NOMEM;
    return MIG_OK;
}

/* Release the copied rows. */
static void table_rows_free(table_rows *st)
{
    for (size_t i = 0; i < st->count; i++) {
        mig_free((char *)st->rows[i].version);
        mig_free((char *)st->rows[i].name);
        mig_free((char *)st->rows[i].up_sql);
        mig_free((char *)st->rows[i].down_sql);
    }
    mig_free(st->rows);
}

/* Read the migrations held in migrate_scripts. */
int mig_source_read_table(const mig_engine *eng, mig_set *out, char **duplicates, mig_error *err)
{
    memset(out, 0, sizeof *out);
    if (!eng->scripts_table)
        return mig_fail(err, MIG_ERR_NULL, "no migrations folder given");
    int rc = eng->scripts_prepare ? eng->scripts_prepare(eng->handle, err) : MIG_OK;
    if (rc != MIG_OK)
        return rc;
    char *sql = mig_printf("SELECT version, name, up_sql, down_sql FROM %s", eng->scripts_table);
    if (!sql)
        return mig_fail_nomem(err);
    table_rows st = {0};
    rc = eng->query(eng->handle, sql, 0, NULL, on_script_row, &st, err);
    mig_free(sql);
    if (rc == MIG_NOMEM)
        rc = mig_fail_nomem(err);
    if (rc == MIG_OK)
        rc = mig_source_from_rows(st.rows, st.count, out, duplicates, err);
    table_rows_free(&st);
    return rc;
}

/* Release a set and everything it holds. */
void mig_set_free(mig_set *set)
{
    for (size_t i = 0; i < set->count; i++) {
        mig_migration *m = &set->items[i];
        mig_free(m->version);
        mig_free(m->name);
        mig_free(m->script);
        mig_free(m->down_script);
        mig_free(m->up_text);
        mig_free(m->down_text);
    }
    mig_free(set->items);
    memset(set, 0, sizeof *set);
}
