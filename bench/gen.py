#!/usr/bin/env python3
"""Deterministic generator of N realistic small migrations for the apply benchmark.

Usage: bench/gen.py N OUTDIR

The same SQL runs unchanged on SQLite and PostgreSQL. Each migration is one of:
  - create a table with a primary key, an index and three rows;
  - add a column (with a default) to an earlier table;
  - now and then an index on such a column, or an UPDATE over an earlier table's rows.
Every migration has a down script that undoes it.

OUTDIR receives one layout per tool (all from the same list, byte for byte the same SQL):
  migrate/                 <v>_<name>.up.sql + <v>_<name>.down.sql
  dbmate/db/migrations/    <v>_<name>.sql with -- migrate:up / -- migrate:down
  sqitch/                  sqitch.conf, sqitch.plan, deploy/ revert/ verify/ <name>.sql
  postgrator/              <v>.do.<name>.sql + <v>.undo.<name>.sql
  nodepgm/                 <v>_<name>.sql with -- Up Migration / -- Down Migration
  floor/one_tx.sql         every up script in one transaction
  floor/one_query.psql     PostgreSQL: every up script sent as one query (server reads the file)
  floor/per_tx.sql         one transaction per migration, each with an INSERT into a
                           tracking table (bench_migrations), created first
  floor/files.txt          the migrate/ files, one per line (for sha256sum)
"""
import datetime
import os
import random
import sys

FIRST_NAMES = ["ada", "alan", "grace", "edsger", "barbara", "ken", "dennis", "linus", "margaret",
               "donald", "john", "frances", "leslie", "niklaus", "tony", "radia"]
WORDS = ["account", "invoice", "project", "team", "order", "payment", "product", "ticket",
         "comment", "session", "device", "report", "message", "address", "shipment", "review"]
COLUMN_KINDS = [("INTEGER", "0"), ("TEXT", "''"), ("BOOLEAN", "FALSE"), ("VARCHAR(64)", "'new'")]


def generate(n):
    """The list of migrations: dicts with version, name, up, down, verify."""
    rng = random.Random(20240101)
    start = datetime.datetime(2024, 1, 1, 9, 0, 0)
    tables = []   # [{"name": ..., "columns": [(name, type, indexed)]}]
    out = []
    for i in range(n):
        version = (start + datetime.timedelta(minutes=17 * i)).strftime("%Y%m%d%H%M%S")
        roll = rng.random()
        if not tables or roll < 0.45:
            word = WORDS[len(tables) % len(WORDS)]
            t = "%s_%d" % (word, len(tables) + 1)
            rows = []
            for r in range(1, 4):
                who = FIRST_NAMES[rng.randrange(len(FIRST_NAMES))]
                rows.append("    (%d, '%s %s %d', '%s%d@example.com', %d)"
                            % (r, word, who, r, who, i * 10 + r, rng.randrange(1000)))
            up = ("-- A table of %ss.\n"
                  "CREATE TABLE %s (\n"
                  "    id         INTEGER PRIMARY KEY,\n"
                  "    title      TEXT NOT NULL,\n"
                  "    email      VARCHAR(255),\n"
                  "    amount     INTEGER NOT NULL DEFAULT 0,\n"
                  "    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n"
                  ");\n\n"
                  "CREATE INDEX %s_email_idx ON %s (email);\n\n"
                  "INSERT INTO %s (id, title, email, amount) VALUES\n%s;\n"
                  % (word, t, t, t, t, ",\n".join(rows)))
            down = "DROP INDEX %s_email_idx;\nDROP TABLE %s;\n" % (t, t)
            verify = "SELECT id, title, email, amount, created_at FROM %s WHERE 1 = 0;\n" % t
            name = "create_%s" % t
            tables.append({"name": t, "columns": []})
        elif roll < 0.80 or not any(t["columns"] for t in tables):
            t = tables[rng.randrange(len(tables))]
            ctype, default = COLUMN_KINDS[rng.randrange(len(COLUMN_KINDS))]
            c = "c%d" % (i + 1)
            up = ("-- Remember one more thing per row.\n"
                  "ALTER TABLE %s ADD COLUMN %s %s DEFAULT %s;\n" % (t["name"], c, ctype, default))
            down = "ALTER TABLE %s DROP COLUMN %s;\n" % (t["name"], c)
            verify = "SELECT %s FROM %s WHERE 1 = 0;\n" % (c, t["name"])
            name = "add_%s_%s" % (t["name"], c)
            t["columns"].append([c, ctype, False])
        else:
            with_cols = [t for t in tables if t["columns"]]
            t = with_cols[rng.randrange(len(with_cols))]
            col = t["columns"][rng.randrange(len(t["columns"]))]
            unindexed = [c for c in t["columns"] if not c[2]]
            if roll < 0.90 and unindexed:
                col = unindexed[rng.randrange(len(unindexed))]
                idx = "%s_%s_idx" % (t["name"], col[0])
                up = "CREATE INDEX %s ON %s (%s);\n" % (idx, t["name"], col[0])
                down = "DROP INDEX %s;\n" % idx
                verify = "SELECT %s FROM %s WHERE %s IS NULL AND 1 = 0;\n" % (col[0], t["name"], col[0])
                name = "index_%s_%s" % (t["name"], col[0])
                col[2] = True
            else:
                up = ("-- Backfill %d: amounts are now in cents.\n"
                      "UPDATE %s SET amount = amount * 100 WHERE amount < 100000;\n"
                      % (i + 1, t["name"]))
                down = "UPDATE %s SET amount = amount / 100 WHERE amount < 10000000;\n" % t["name"]
                verify = "SELECT amount FROM %s WHERE 1 = 0;\n" % t["name"]
                name = "backfill_%s_amount_%d" % (t["name"], i + 1)
        out.append({"version": version, "name": name, "up": up, "down": down, "verify": verify})
    return out


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen.py N OUTDIR")
    n = int(sys.argv[1])
    root = sys.argv[2]
    migs = generate(n)
    files = []
    plan = ["%syntax-version=1.0.0", "%project=bench", ""]
    floor_one = ["BEGIN;"]
    floor_per = ["CREATE TABLE bench_migrations (version VARCHAR(32) PRIMARY KEY, "
                 "applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);"]
    for m in migs:
        v, name, up, down = m["version"], m["name"], m["up"], m["down"]
        base = "%s_%s" % (v, name)
        write(os.path.join(root, "migrate", base + ".up.sql"), up)
        write(os.path.join(root, "migrate", base + ".down.sql"), down)
        files += [os.path.join(root, "migrate", base + ".up.sql"),
                  os.path.join(root, "migrate", base + ".down.sql")]
        write(os.path.join(root, "dbmate", "db", "migrations", base + ".sql"),
              "-- migrate:up\n%s\n-- migrate:down\n%s" % (up, down))
        # sqitch runs each script with the engine's client; its templates wrap it in a transaction
        write(os.path.join(root, "sqitch", "deploy", name + ".sql"), "BEGIN;\n\n%s\nCOMMIT;\n" % up)
        write(os.path.join(root, "sqitch", "revert", name + ".sql"), "BEGIN;\n\n%s\nCOMMIT;\n" % down)
        write(os.path.join(root, "sqitch", "verify", name + ".sql"), m["verify"])
        ts = datetime.datetime.strptime(v, "%Y%m%d%H%M%S").strftime("%Y-%m-%dT%H:%M:%SZ")
        plan.append("%s %s bench <bench@example.com> # %s" % (name, ts, name.replace("_", " ")))
        write(os.path.join(root, "postgrator", "%s.do.%s.sql" % (v, name)), up)
        write(os.path.join(root, "postgrator", "%s.undo.%s.sql" % (v, name)), down)
        write(os.path.join(root, "nodepgm", base + ".sql"),
              "-- Up Migration\n%s\n-- Down Migration\n%s" % (up, down))
        floor_one.append(up)
        floor_per.append("BEGIN;\n%s\nINSERT INTO bench_migrations (version) VALUES ('%s');\nCOMMIT;"
                         % (up, v))
    floor_one.append("COMMIT;")
    write(os.path.join(root, "sqitch", "sqitch.plan"), "\n".join(plan) + "\n")
    write(os.path.join(root, "sqitch", "sqitch.conf"),
          "[core]\n\tengine = pg\n\tplan_file = sqitch.plan\n\ttop_dir = .\n")
    write(os.path.join(root, "floor", "one_tx.sql"), "\n".join(floor_one) + "\n")
    # PostgreSQL: the same scripts as ONE query message (an implicit transaction), as a client
    # library sends a file; psql -f sends statement by statement, one round trip each.
    write(os.path.join(root, "floor", "one_query.sql"), "\n".join(floor_one[1:-1]) + "\n")
    write(os.path.join(root, "floor", "one_query.psql"),
          "SELECT pg_read_file('%s') \\gexec\n"
          % os.path.abspath(os.path.join(root, "floor", "one_query.sql")).replace("'", "''"))
    write(os.path.join(root, "floor", "per_tx.sql"), "\n".join(floor_per) + "\n")
    write(os.path.join(root, "floor", "files.txt"), "\n".join(files) + "\n")


if __name__ == "__main__":
    main()
