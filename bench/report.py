#!/usr/bin/env python3
"""Turn bench/run.sh's raw results into results.md, results.csv and gnuplot charts.

Usage: bench/report.py WORKDIR OUTDIR
WORKDIR holds cases.tsv, mem.tsv, meta.tsv and the hyperfine JSON files run.sh wrote.
"""
import csv
import json
import os
import shutil
import subprocess
import sys

ENGINES = [("sqlite", "SQLite"), ("postgresql", "PostgreSQL")]
TOOLS = ["floor-1tx", "floor-1query", "floor-per-tx", "migrate", "dbmate", "sqitch", "postgrator", "node-pg-migrate"]
TOOL_LABEL = {
    "floor-1tx": "floor: one transaction",
    "floor-per-tx": "floor: a transaction per migration + tracking INSERT",
    "floor-1query": "floor: one transaction sent as one query",
    "migrate": "**migrate**",
    "dbmate": "dbmate",
    "sqitch": "sqitch",
    "postgrator": "postgrator-cli",
    "node-pg-migrate": "node-pg-migrate",
    "connect": "floor: connect and one query",
    "sha256sum": "floor: sha256sum of the files",
}
COMMAND = {
    ("sqlite", "floor-1tx"): "`sqlite3 db < one_tx.sql` (BEGIN; every up script; COMMIT)",
    ("sqlite", "floor-per-tx"): "`sqlite3 db < per_tx.sql` (BEGIN; script; INSERT; COMMIT per migration)",
    ("sqlite", "migrate"): "`sqlite3 db '.load migrate' \"SELECT migrate_apply('dir')\"`",
    ("postgresql", "floor-1tx"): "`psql -f one_tx.sql`",
    ("postgresql", "floor-per-tx"): "`psql -f per_tx.sql`",
    ("postgresql", "migrate"): "`psql -c \"SELECT migrate_apply('dir')\"` (database created with the extension beforehand)",
}
CHART_LABEL = {"floor-1tx": "floor, one transaction", "floor-per-tx": "floor, tx per migration",
               "floor-1query": "floor, one query"}
KINDS = [("apply", "Apply N migrations to a fresh database"),
         ("status", "Status with all N applied"),
         ("noop", "No-op apply with all N applied (nothing pending)")]


def load(work):
    meta = []
    with open(os.path.join(work, "meta.tsv")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            meta.append((k, v))
    cases = {}
    with open(os.path.join(work, "cases.tsv")) as f:
        for line in f:
            engine, tool, kind, n, runs, status, path, note = line.rstrip("\n").split("\t")
            c = {"engine": engine, "tool": tool, "kind": kind, "n": int(n), "runs": int(runs),
                 "status": status, "note": note}
            if status == "ok":
                r = json.load(open(path))["results"][0]
                c.update(median=r["median"], min=r["min"], max=r["max"], times=r["times"],
                         cpu=r.get("user", 0.0) + r.get("system", 0.0))
            cases[(engine, tool, kind, int(n))] = c
    mem = {}
    if os.path.exists(os.path.join(work, "mem.tsv")):
        with open(os.path.join(work, "mem.tsv")) as f:
            for line in f:
                engine, tool, n, client, server = line.rstrip("\n").split("\t")
                mem[(engine, tool, int(n))] = (int(client) if client else None,
                                               int(server) if server else None)
    return meta, cases, mem


def med(cases, *key):
    c = cases.get(key)
    return c["median"] if c and c["status"] == "ok" else None


def fmt_s(x):
    if x is None:
        return ""
    return "%.3f" % x if x < 10 else "%.2f" % x if x < 100 else "%.1f" % x


def ratio(a, b):
    return "%.2fx" % (a / b) if a is not None and b else ""


def mib(kb):
    return "%.1f MiB" % (kb / 1024.0) if kb else ""


def floor_of(cases, engine, kind, n):
    """What a case is compared with: the one-transaction floor for apply; for status and
    no-op, reading the files (sha256sum) plus connecting and running one query."""
    if kind == "apply":
        return med(cases, engine, "floor-1tx", "apply", n)
    sha = med(cases, "any", "sha256sum", "status", n)
    conn = med(cases, engine, "connect", "status", n)
    return sha + conn if sha is not None and conn is not None else None


def fmt_n(n):
    return "{:,}".format(n)


def aims_table(cases, ns):
    """The table of the performance aims (issue 21): migrate against its reference, side by side
    from this one run (medians; the compared cases ran interleaved)."""
    md = ["## Aims: apply against the floor, status and no-op against dbmate and sha256sum\n",
          "Medians of this run. Apply: against the same scripts with no tool (SQLite: one "
          "transaction in the sqlite3 shell; PostgreSQL: the floor sent as one query). Status "
          "and no-op: against dbmate's, which verifies no checksum, and against sha256sum over "
          "the files plus a connection running one query. Figures to read, not assertions.\n",
          "| case | migrate | reference | ratio | aim |", "|---|---|---|---|---|"]
    for engine, label, floor, floor_label in (
            ("sqlite", "SQLite", "floor-1tx", "floor"),
            ("postgresql", "PostgreSQL", "floor-1query", "floor sent as one query")):
        for n in ns:
            m = med(cases, engine, "migrate", "apply", n)
            f = med(cases, engine, floor, "apply", n)
            if m is None or f is None:
                continue
            md.append("| %s apply, N = %s | %s s | %s %s s | %s | ≤ 1.10x |"
                      % (label, fmt_n(n), fmt_s(m), floor_label, fmt_s(f), ratio(m, f)))
    n = max(ns)
    sha = med(cases, "any", "sha256sum", "status", n)
    for engine, label in ENGINES:
        conn = med(cases, engine, "connect", "status", n)
        fl = sha + conn if sha is not None and conn is not None else None
        for kind, what in (("status", "status"), ("noop", "no-op apply")):
            m = med(cases, engine, "migrate", kind, n)
            d = med(cases, engine, "dbmate", kind, n)
            if m is None:
                continue
            refs, ratios = [], []
            if d is not None:
                refs.append("dbmate %s %s s" % ("status" if kind == "status" else "no-op", fmt_s(d)))
                ratios.append("%s dbmate" % ratio(m, d))
            if fl is not None:
                refs.append("sha256sum + connect %s s" % fmt_s(fl))
                ratios.append("%s floor" % ratio(m, fl))
            md.append("| %s %s, N = %s | %s s | %s | %s | ≤ 1.0x dbmate, ≤ 1.2x floor |"
                      % (label, what, fmt_n(n), fmt_s(m), "; ".join(refs), ", ".join(ratios)))
    md.append("")
    return md


def build(work, out):
    meta, cases, mem = load(work)
    mdict = {}
    for k, v in meta:
        mdict.setdefault(k, []).append(v)
    ns = sorted({c["n"] for c in cases.values()})
    max_n = max(ns)
    rows = []  # for CSV
    md = []
    md.append("# Apply benchmark results\n")
    md.append("Generated by `bench/run.sh%s` (figures, not pass/fail). Times are whole commands "
              "(process start and connection included) timed with hyperfine: median and min–max "
              "over the runs shown; each apply starts from a fresh database.\n"
              % (" --quick" if mdict.get("quick", ["0"])[0] == "1" else ""))
    md.append("| | |\n|---|---|")
    labels = [("machine", "machine"), ("disk", "scratch disk"), ("load_start", "load average at start"),
              ("load_end", "load average at end"), ("migrate", "migrate (git)"),
              ("sqlite", "SQLite"), ("sqlite_settings", "SQLite settings"),
              ("postgresql", "PostgreSQL"), ("pg_settings", "PostgreSQL settings"),
              ("dbmate", "dbmate"), ("sqitch", "sqitch"), ("postgrator", "postgrator"),
              ("node_pg_migrate", "node-pg-migrate"), ("node", "node"), ("hyperfine", "hyperfine")]
    for key, label in labels:
        for v in mdict.get(key, []):
            md.append("| %s | %s |" % (label, v.replace("|", "\\|")))
    for v in mdict.get("unavailable", []):
        tool, _, why = v.partition("\t")
        md.append("| **%s not available** | %s |" % (tool, why))
    md.append("")

    for kind, title in KINDS:
        md.append("## %s\n" % title)
        if kind == "apply":
            md.append("Ratio to the floor: to the one-transaction floor of the same engine and N. "
                      "Peak RSS (at N = %d): the client process tree (GNU time); on PostgreSQL also "
                      "the largest VmHWM of the server backends serving the run (sampled every "
                      "50 ms; it includes the shared buffers the backend touched).\n" % max_n)
            md.append("Client CPU: user + system time of the command's process tree (mean over "
                      "the runs). On SQLite the client does all the work, so on a busy machine its "
                      "CPU time is the steadier figure; on PostgreSQL the work is in the server.\n")
            md.append("| engine | tool | N | runs | median s | min–max s | ms per migration "
                      "| ratio to floor | ratio to migrate | client CPU s | peak RSS client "
                      "| peak RSS server |")
            md.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
        else:
            md.append("Ratio to the floor: to (sha256sum over the N up and N down files) + "
                      "(connecting with the engine's shell and running one query on the same "
                      "database), both measured below.\n")
            md.append("| engine | tool | N | runs | median s | min–max s | ratio to floor "
                      "| ratio to migrate |")
            md.append("|---|---|---|---|---|---|---|---|")
        for engine, elabel in ENGINES + [("any", "any")]:
            for n in ns:
                if kind == "apply":
                    tools = TOOLS
                elif kind == "status":
                    tools = (["sha256sum"] if engine == "any" else
                             ["connect"] + [t for t in TOOLS if not t.startswith("floor")])
                else:
                    tools = [] if engine == "any" else [t for t in TOOLS if not t.startswith("floor")]
                for tool in tools:
                    c = cases.get((engine, tool, kind, n))
                    if c is None:
                        if kind != "apply" and cases.get((engine, tool, "apply", n)) is not None:
                            continue  # shown in the apply table as not run
                        continue
                    fl = floor_of(cases, engine, kind, n)
                    mig = med(cases, engine, "migrate", kind, n)
                    label = TOOL_LABEL.get(tool, tool)
                    if c["status"] != "ok":
                        text = "not run: %s" % c["note"] if c["status"] == "not-run" else c["note"]
                        if kind == "apply":
                            md.append("| %s | %s | %d | | %s | | | | | | | |" % (elabel, label, n, text))
                        else:
                            md.append("| %s | %s | %d | | %s | | | |" % (elabel, label, n, text))
                        rows.append([engine, tool, kind, n, 0, "", "", "", "", "", "", "", "", "", text])
                        continue
                    m = c["median"]
                    rf = ratio(m, fl) if tool not in ("floor-1tx", "connect", "sha256sum") else ""
                    if tool == "floor-1tx":
                        rf = "1.00x"
                    rm = ratio(m, mig) if tool != "migrate" else "1.00x"
                    if tool in ("connect", "sha256sum"):
                        rm = ""
                    span = "%s–%s" % (fmt_s(c["min"]), fmt_s(c["max"]))
                    client, server = mem.get((engine, tool, n), (None, None))
                    if kind == "apply":
                        md.append("| %s | %s | %d | %d | %s | %s | %.2f | %s | %s | %s | %s | %s |"
                                  % (elabel, label, n, c["runs"], fmt_s(m), span, 1000.0 * m / n,
                                     rf, rm, fmt_s(c["cpu"]), mib(client), mib(server)))
                    else:
                        md.append("| %s | %s | %d | %d | %s | %s | %s | %s |"
                                  % (elabel, label, n, c["runs"], fmt_s(m), span, rf, rm))
                    rows.append([engine, tool, kind, n, c["runs"], "%.6f" % m, "%.6f" % c["min"],
                                 "%.6f" % c["max"], "%.4f" % (1000.0 * m / n),
                                 "%.4f" % (m / fl) if fl else "", "%.4f" % (m / mig) if mig else "",
                                 "%.4f" % c["cpu"], client or "", server or "", c["note"]])
        md.append("")

    md.extend(aims_table(cases, ns))

    # Aims: figures to read, not assertions.
    md.append("## Aims (read from the tables above; not asserted)\n")
    md.append("| aim | engine | measured |")
    md.append("|---|---|---|")
    for engine, elabel in ENGINES:
        n = 1000 if 1000 in ns else max_n
        m = med(cases, engine, "migrate", "apply", n)
        f = med(cases, engine, "floor-1tx", "apply", n)
        if m is not None and f:
            md.append("| migrate_apply of %d migrations at most 1.10x the one-transaction floor "
                      "| %s | %.2fx |" % (n, elabel, m / f))
            cm = cases[(engine, "migrate", "apply", n)]["cpu"]
            cf = cases[(engine, "floor-1tx", "apply", n)]["cpu"]
            if engine == "sqlite" and cf:
                md.append("| ... the same in client CPU time (SQLite: all the work is in the "
                          "client) | %s | %.2fx |" % (elabel, cm / cf))
            others = [(t, med(cases, engine, t, "apply", n)) for t in TOOLS
                      if not t.startswith("floor") and t != "migrate"]
            others = [(t, x) for t, x in others if x is not None]
            if others:
                md.append("| ... and ahead of every other tool at N = %d | %s | %s |"
                          % (n, elabel, ", ".join("%s %.2fx migrate's time" % (t, x / m)
                                                 for t, x in others)))
        for nn in sorted({n, max_n}):
            q = med(cases, engine, "floor-1query", "apply", nn)
            mm = med(cases, engine, "migrate", "apply", nn)
            if q and mm is not None:
                md.append("| (for reference) migrate_apply against the floor sent as one query, "
                          "N = %d | %s | %.2fx |" % (nn, elabel, mm / q))
        s = med(cases, engine, "migrate", "status", max_n)
        sha = med(cases, "any", "sha256sum", "status", max_n)
        conn = med(cases, engine, "connect", "status", max_n)
        if s is not None and sha is not None and conn is not None:
            md.append("| migrations_status over %d applied at most 3x (sha256sum + connect) "
                      "| %s | %.3f s = %.2fx (%.3f + %.3f s) |"
                      % (max_n, elabel, s, s / (sha + conn), sha, conn))
        lo, hi = min(ns), max_n
        a = med(cases, engine, "migrate", "apply", lo)
        fa = med(cases, engine, "floor-1tx", "apply", lo)
        b = med(cases, engine, "migrate", "apply", hi)
        fb = med(cases, engine, "floor-1tx", "apply", hi)
        if None not in (a, fa, b, fb) and lo != hi:
            md.append("| ratio to the floor at N = %d no worse than at N = %d | %s | %.2fx at %d, %.2fx at %d |"
                      % (hi, lo, elabel, b / fb, hi, a / fa, lo))
            if engine == "sqlite":
                ca = cases[(engine, "migrate", "apply", lo)]["cpu"] / cases[(engine, "floor-1tx", "apply", lo)]["cpu"]
                cb = cases[(engine, "migrate", "apply", hi)]["cpu"] / cases[(engine, "floor-1tx", "apply", hi)]["cpu"]
                md.append("| ... the same in client CPU time | %s | %.2fx at %d, %.2fx at %d |"
                          % (elabel, cb, hi, ca, lo))
    md.append("")
    md.append("Charts: `apply.png` (both engines), `apply-sqlite.png`, `apply-postgresql.png`: "
              "milliseconds per migration (median / N) against N, one line per tool.\n")

    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["engine", "tool", "case", "n", "runs", "median_s", "min_s", "max_s",
                    "ms_per_migration", "ratio_to_floor", "ratio_to_migrate", "client_cpu_s",
                    "peak_rss_client_kib", "peak_rss_server_kib", "note"])
        w.writerows(rows)
    chart(cases, ns, out, work)


def chart(cases, ns, out, work):
    if not shutil.which("gnuplot"):
        print("gnuplot is not installed: no charts", file=sys.stderr)
        return
    dat = os.path.join(work, "apply.dat")
    series = []  # (engine, tool, index in dat)
    with open(dat, "w") as f:
        for engine, _ in ENGINES:
            for tool in TOOLS:
                pts = [(n, 1000.0 * cases[(engine, tool, "apply", n)]["median"] / n) for n in ns
                       if cases.get((engine, tool, "apply", n), {}).get("status") == "ok"]
                if not pts:
                    continue
                f.write("# %s %s\n" % (engine, tool))
                for n, ms in pts:
                    f.write("%d %.6f\n" % (n, ms))
                f.write("\n\n")
                series.append((engine, tool, len(series)))
    style = {"floor-1tx": "lc rgb '#555555' dt 2 pt 6", "floor-per-tx": "lc rgb '#999999' dt 3 pt 8",
             "floor-1query": "lc rgb '#000000' dt 4 pt 4",
             "migrate": "lc rgb '#d62728' lw 3 pt 7", "dbmate": "lc rgb '#1f77b4' pt 5",
             "sqitch": "lc rgb '#2ca02c' pt 9", "postgrator": "lc rgb '#9467bd' pt 11",
             "node-pg-migrate": "lc rgb '#ff7f0e' pt 13"}

    def plot_cmd(engine):
        parts = ["'%s' index %d using 1:2 with linespoints %s title '%s'"
                 % (dat, i, style.get(t, ""), CHART_LABEL.get(t, t))
                 for e, t, i in series if e == engine]
        return "plot " + ", \\\n  ".join(parts) if parts else None

    common = ("set logscale xy\nset grid\nset key outside right top\n"
              "set xrange [%g:%g]\n" % (min(ns) / 1.6, max(ns) * 1.6) +
              "set xlabel 'migrations applied (N)'\nset ylabel 'ms per migration (median / N)'\n"
              "set xtics (%s)\n" % ", ".join("'%d' %d" % (n, n) for n in ns))
    script = []
    for engine, label in ENGINES:
        p = plot_cmd(engine)
        if not p:
            continue
        script.append("set terminal pngcairo size 1000,560 font 'sans,10'\nset output '%s'\n%s"
                      "set title 'Applying N migrations to a fresh %s database'\n%s\nunset output\n"
                      % (os.path.join(out, "apply-%s.png" % engine), common, label, p))
    both = [(e, l, plot_cmd(e)) for e, l in ENGINES if plot_cmd(e)]
    if both:
        s = ("set terminal pngcairo size 1000,%d font 'sans,10'\nset output '%s'\n"
             "set multiplot layout %d,1\n%s" % (520 * len(both), os.path.join(out, "apply.png"),
                                                len(both), common))
        for e, l, p in both:
            s += "set title 'Applying N migrations to a fresh %s database'\n%s\n" % (l, p)
        s += "unset multiplot\nunset output\n"
        script.append(s)
    gp = os.path.join(work, "apply.gp")
    with open(gp, "w") as f:
        f.write("\n".join(script))
    subprocess.run(["gnuplot", gp], check=False)


if __name__ == "__main__":
    build(sys.argv[1], sys.argv[2])
