"""One DuckDB measurement in its own process (so /usr/bin/time sees its peak memory alone).

    duck_worker.py query STORE SQL_FILE --start T --end T --now T --repeat N
        views over the store's segments, then the query N times; prints JSON with the time to set
        up the views, each run's time, and the canonical result of the last run.
    duck_worker.py ingest OUT_DIR NDJSON_FILE…
        each NDJSON file read with read_ndjson_auto and written as one zstd Parquet file.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
import compare  # noqa: E402
import duck  # noqa: E402


def query(args) -> None:
    began = time.perf_counter()
    con = duckdb.connect()
    store = duck.Store(Path(args.store))
    store.create_views(con)
    sql = duck.expand(Path(args.sql).read_text(), store, args.start, args.end, args.now)
    open_ms = (time.perf_counter() - began) * 1e3
    runs, rows = [], []
    for _ in range(args.repeat):
        t = time.perf_counter()
        rows = con.execute(sql).fetchall()
        runs.append((time.perf_counter() - t) * 1e3)
    print(json.dumps({"open_ms": open_ms, "runs_ms": runs, "rows": compare.duck_rows(rows)}, default=list))


def ingest(args) -> None:
    con = duckdb.connect()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    targets = []
    for f in args.files:
        target = out / (Path(f).stem + ".parquet")
        con.execute(
            f"COPY (SELECT * FROM read_ndjson_auto({duck.lit(f)})) TO {duck.lit(str(target))} "
            "(FORMAT parquet, COMPRESSION zstd)"
        )
        targets.append(target)
    seconds = time.perf_counter() - began
    rows = sum(con.execute(f"SELECT count(*) FROM read_parquet({duck.lit(str(t))})").fetchone()[0] for t in targets)
    size = sum(t.stat().st_size for t in targets)
    print(json.dumps({"seconds": seconds, "rows": rows, "parquet_bytes": size}))


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    qp = sub.add_parser("query")
    qp.add_argument("store")
    qp.add_argument("sql")
    qp.add_argument("--start", required=True)
    qp.add_argument("--end", required=True)
    qp.add_argument("--now", required=True)
    qp.add_argument("--repeat", type=int, default=5)
    ip = sub.add_parser("ingest")
    ip.add_argument("out")
    ip.add_argument("files", nargs="+")
    args = p.parse_args()
    query(args) if args.cmd == "query" else ingest(args)


if __name__ == "__main__":
    main()
