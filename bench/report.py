#!/usr/bin/env python3
"""Tables (Markdown, on stdout) and the plot (bench/time_vs_events.png) from bench/results/results.json.

    target/bench-venv/bin/python bench/report.py [results.json] [--plot out.png]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from run import QUERIES  # noqa: E402


def med(xs):
    return statistics.median(xs) if xs else None


def fmt(x, spec=".1f"):
    return "–" if x is None else format(x, spec)


def ingest_table(results: dict) -> str:
    rows = ["| events | NDJSON | engine | runs | median wall | MB/s | docs/s | median processor time | "
            "MB per processor-second | peak RSS | output |",
            "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    names = {"saker_fsync": "Saker `ingest`, WAL fsync on",
             "saker_fsync_one_core": "Saker `ingest`, WAL fsync on, one core (`taskset -c 0`)",
             "saker_nofsync": "Saker `ingest --no-fsync`",
             "duckdb": "DuckDB `read_ndjson_auto` → Parquet"}

    def line(size, res, mode, runs):
        wall = med([r["wall_s"] for r in runs])
        cpu = med([r["cpu_s"] for r in runs if r.get("cpu_s")])
        mb = res["ndjson_bytes"] / 1e6
        return (f"| {int(size):,} | {mb:,.0f} MB | {names[mode]} | {len(runs)} | {wall:.1f} s | "
                f"{mb / wall:.1f} | {res['docs'] / wall:,.0f} | {fmt(cpu)} s | "
                f"{fmt(mb / cpu if cpu else None)} | {med([r['rss_mb'] for r in runs]):,.0f} MB | "
                f"{med([r['out_bytes'] for r in runs]) / 1e6:,.0f} MB |")

    for size, res in sorted(results.get("ingest", {}).items(), key=lambda kv: int(kv[0])):
        for mode in ("saker_fsync", "saker_fsync_one_core", "saker_nofsync", "duckdb"):
            if res.get(mode):
                rows.append(line(size, res, mode, res[mode]))
    for size, res in sorted(results.get("sizes", {}).items(), key=lambda kv: int(kv[0])):
        if res.get("ingest_saker_fsync"):
            rows.append(line(size, res, "saker_fsync", [res["ingest_saker_fsync"]]).replace(
                "WAL fsync on", "WAL fsync on (building the query store)"))
    return "\n".join(rows)


def query_table(results: dict, size: str) -> str:
    res = results["sizes"][size]
    rows = [f"| query ({int(size):,} events) | rows | Saker median | Saker first | DuckDB median | DuckDB first | "
            "Saker/DuckDB | Saker peak RSS | DuckDB peak RSS | same rows |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for qid, *_ in QUERIES:
        e = res.get("queries", {}).get(qid)
        if not e:
            continue
        s, d = e.get("saker"), e.get("duckdb")
        sm = med(s["runs_ms"]) if s else None
        dm = med(d["runs_ms"]) if d else None
        ratio = sm / dm if sm and dm else None
        same = {True: "yes", False: "**no**", None: "–"}[e.get("same_result")]
        nrows = s["rows"] if s else (d["rows"] if d else "–")
        rows.append(f"| {qid} | {nrows} | {fmt(sm)} ms | {fmt(s and s['runs_ms'][0])} ms | {fmt(dm)} ms | "
                    f"{fmt(d and d['runs_ms'][0])} ms | {fmt(ratio, '.2f')}× | {fmt(s and s['rss_mb'], '.0f')} MB | "
                    f"{fmt(d and d['rss_mb'], '.0f')} MB | {same} |")
    total_s = sum(med(e["saker"]["runs_ms"]) for q, e in res.get("queries", {}).items() if q != "flagship" and "saker" in e)
    total_d = sum(med(e["duckdb"]["runs_ms"]) for q, e in res.get("queries", {}).items() if q != "flagship" and "duckdb" in e)
    if total_d:
        rows.append(f"| **ten rules, sum of medians** | | {total_s:.1f} ms | | {total_d:.1f} ms | | "
                    f"{total_s / total_d:.2f}× | | | |")
    ratios = [med(e["saker"]["runs_ms"]) / med(e["duckdb"]["runs_ms"])
              for q, e in res.get("queries", {}).items() if q != "flagship" and "saker" in e and "duckdb" in e]
    if ratios:
        rows.append(f"| **ten rules, median of the ratios** | | | | | | {med(ratios):.2f}× | | | |")
    return "\n".join(rows)


def plot(results: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted((int(k) for k, v in results["sizes"].items() if v.get("queries")))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, (title, pick) in zip(axes, [
        ("Flagship rule", lambda q: q == "flagship"),
        ("Ten Elastic ES|QL rules (sum of medians)", lambda q: q != "flagship"),
    ]):
        for eng, style in (("saker", "o-"), ("duckdb", "s--")):
            xs, ys = [], []
            for n in sizes:
                qs = results["sizes"][str(n)]["queries"]
                vals = [med(e[eng]["runs_ms"]) for q, e in qs.items() if pick(q) and eng in e]
                if vals:
                    xs.append(results["sizes"][str(n)]["docs"])
                    ys.append(sum(vals))
            ax.plot(xs, ys, style, label={"saker": "Saker (ES|QL)", "duckdb": "DuckDB (SQL, same Parquet)"}[eng])
            for x, y in zip(xs, ys):
                ax.annotate(f"{y:,.0f} ms", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax.margins(0.15)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("events in the rule window")
        ax.set_ylabel("median query time (ms)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    m = results.get("machine", {})
    fig.suptitle(f"Query time vs events — {m.get('cores')} cores, {m.get('cpu')}, DuckDB {m.get('duckdb')}",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("results", nargs="?", default=str(BENCH / "results" / "results.json"))
    p.add_argument("--plot", default=str(BENCH / "time_vs_events.png"))
    args = p.parse_args()
    results = json.loads(Path(args.results).read_text())
    print("## Ingest\n")
    print(ingest_table(results))
    for size in sorted(results["sizes"], key=int):
        if results["sizes"][size].get("queries"):
            print(f"\n## Queries, {int(size):,} events\n")
            print(query_table(results, size))
    plot(results, Path(args.plot))
    print(f"\n(plot: {args.plot})")


if __name__ == "__main__":
    main()
