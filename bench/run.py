#!/usr/bin/env python3
"""Saker's benchmarks beside DuckDB, on data from `saker gen` (see BENCHMARKS.md).

    python3 bench/run.py                         # 1 M and 10 M events, release binary
    python3 bench/run.py --events 20000 --saker target/debug/saker --runs 1 --repeat 2   # a smoke test

For each size: generate NDJSON (8 hours of Entra ID, M365, IDS, firewall and SSH events), ingest it
into a fresh store with `saker ingest` (WAL fsync on; the same confined to one core with `taskset -c 0`;
and with `--no-fsync`) beside DuckDB reading the same NDJSON and writing Parquet; promote
the IDS alerts with the External Alerts rule (`saker rules run`) into `.alerts-security.*`; then
run the flagship rule and ten of Elastic's ES|QL rules with `saker query` over the store, and the
same queries written as SQL with DuckDB over the store's own Parquet segments, checking both give
the same rows. Each measurement is its own process under /usr/bin/time -v (peak RSS). Results go
to bench/results/results.json (merged with earlier sizes), and bench/report.py turns them into
tables and the plot.

Creates target/bench-venv (DuckDB, matplotlib; bench/requirements.txt) on first use. Never run by
`cargo test`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
VENV = REPO / "target" / "bench-venv"

START = "2025-01-01T00:00:00Z"
DURATION = "8h"
WINDOW_END = "2025-01-01T08:05:00Z"  # the rules' window and NOW(): the 8 hours of data, and then some


def ensure_venv() -> None:
    """Re-runs this script with the venv's Python, creating the venv first if needed."""
    py = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "-r", str(BENCH / "requirements.txt")], check=True)
    os.execv(str(py), [str(py), *sys.argv])


def shared_rules() -> Path:
    base = Path(os.environ.get("SAKER_SHARED", REPO.parent / "shared"))
    return base / "rules" / "esql"


# id, rule file, SQL file, what it exercises
QUERIES = [
    ("flagship", "FLAGSHIP", "flagship.sql",
     "3 indices, CIDR_MATCH, CASE, STATS COUNT_DISTINCT/VALUES by address"),
    ("port_scan", "discovery_potential_port_scan_detected.toml", "port_scan.sql",
     "MV_EXPAND, DATE_TRUNC, CIDR_MATCH, STATS … WHERE, VALUES by minute/dst/src"),
    ("suspicious_signin", "credential_access_entra_id_suspicious_signin.toml", "suspicious_signin.sql",
     "NOW() - 1 hour, TO_LOWER, KEEP, CASE, COUNT_DISTINCT by identity"),
    ("password_spraying", "credential_access_potential_password_spraying_attack.toml", "password_spraying.sql",
     "DATE_TRUNC, MV_EXPAND, multi-valued comparison, STATS by bucket/address"),
    ("account_lockouts", "credential_access_identity_user_account_lockouts.toml", "account_lockouts.sql",
     "MV_EXPAND, DATE_TRUNC, RLIKE, TO_LOWER, DATE_DIFF"),
    ("inbox_rule", "defense_evasion_exchange_inbox_rule_obfuscated_name.toml", "inbox_rule.sql",
     "GROK, RLIKE, KEEP (non-aggregating, METADATA)"),
    ("suricata_new_alert", "newly_observed_suricata_alert.toml", "suricata_new_alert.sql",
     "LIKE, STATS by rule, DATE_DIFF with NOW(), MV_FIRST"),
    ("m365_repeat_source", "credential_access_entra_signin_brute_force_microsoft_365_repeat_source.toml",
     "m365_repeat_source.sql", "TO_LOWER + RLIKE, COUNT_DISTINCT by address"),
    ("panos_new_alert", "newly_observed_panos_alert.toml", "panos_new_alert.sql",
     "TO_INTEGER, STATS by 5 keys (one multi-valued), MV_FIRST"),
    ("onedrive_downloads", "collection_onedrive_excessive_file_downloads.toml", "onedrive_downloads.sql",
     "COALESCE, DATE_TRUNC 3 min, MV_SUM(VALUES()), ROUND"),
    ("postgres_rce", "initial_access_splunk_postgres_backup_restore_rce_sequence.toml", "postgres_rce.sql",
     "LIKE, SUM/MIN/MAX, DATE_DIFF"),
]


def rule_path(name: str) -> Path:
    if name == "FLAGSHIP":
        return REPO / "rules" / "flagship" / "microsoft_365_or_entra_id_signin_from_alerted_source.toml"
    return shared_rules() / name


def timed(cmd: list[str], work: Path, env: dict | None = None, stdin=None) -> dict:
    """Runs `cmd` under /usr/bin/time -v: exit code, stdout, stderr, wall seconds, peak RSS (MB)."""
    tfile = work / ".time.txt"
    began = time.perf_counter()
    p = subprocess.run(
        ["/usr/bin/time", "-v", "-o", str(tfile), *cmd], capture_output=True, text=True, env=env, stdin=stdin
    )
    wall = time.perf_counter() - began
    tv = tfile.read_text() if tfile.exists() else ""
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", tv)
    user = re.search(r"User time \(seconds\): ([\d.]+)", tv)
    system = re.search(r"System time \(seconds\): ([\d.]+)", tv)
    return {
        "rc": p.returncode,
        "stdout": p.stdout,
        "stderr": p.stderr,
        "wall_s": wall,
        "rss_mb": int(m.group(1)) / 1024 if m else None,
        # processor time of every thread: wall time on one core would be this
        "cpu_s": float(user.group(1)) + float(system.group(1)) if user and system else None,
    }


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def ndjson_files(d: Path) -> list[Path]:
    return sorted(d.glob("logs-*.ndjson"))


class Bench:
    def __init__(self, args):
        self.args = args
        self.saker = str(Path(args.saker).resolve())
        self.work = Path(args.work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.out = Path(args.out)
        self.results = json.loads(self.out.read_text()) if self.out.exists() else {}
        self.results["machine"] = machine_info(self.saker)

    def save(self) -> None:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.out.write_text(json.dumps(self.results, indent=1, sort_keys=True) + "\n")

    def log(self, msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    def chunk(self, k: int) -> Path:
        """The k-th chunk of generated data (seed k, every chunk covering the same 8 hours),
        generated if missing. `saker gen` holds a whole chunk in memory (about 9 GB for 1 M
        events), so larger sizes are unions of chunks."""
        nd = self.work / "gen" / f"seed{k}"
        if not (nd / "docs.json").exists():
            self.log(f"generating chunk {k}: {self.args.chunk_events} events")
            shutil.rmtree(nd, ignore_errors=True)
            r = timed([self.saker, "-q", "gen", "--out", str(nd), "--events", str(self.args.chunk_events),
                       "--start", START, "--duration", DURATION, "--seed", str(k)], self.work)
            if r["rc"]:
                raise SystemExit(f"saker gen failed: {r['stderr']}")
            docs = {line.split("\t")[0]: int(line.split("\t")[1]) for line in r["stdout"].splitlines() if "\t" in line}
            (nd / "docs.json").write_text(json.dumps({"docs": docs, "gen_s": r["wall_s"], "gen_rss_mb": r["rss_mb"]}))
        return nd

    def chunks(self, events: int) -> list[Path]:
        n = max(1, events // self.args.chunk_events)
        return [self.chunk(k) for k in range(1, n + 1)]

    def data_info(self, chunks: list[Path]) -> dict:
        files = [f for c in chunks for f in ndjson_files(c)]
        metas = [json.loads((c / "docs.json").read_text()) for c in chunks]
        truth = sorted({ip for c in chunks for ip in json.loads((c / "ground_truth.json").read_text())["alert_source_ips"]})
        return {
            "files": [str(f) for f in files],
            "docs": sum(sum(m["docs"].values()) for m in metas),
            "ndjson_bytes": sum(f.stat().st_size for f in files),
            "gen_s": [m["gen_s"] for m in metas],
            "gen_rss_mb": [m["gen_rss_mb"] for m in metas],
            "ground_truth": truth,
        }

    def ingest_once(self, mode: str, files: list[str], target: Path, ndjson_bytes: int) -> dict:
        shutil.rmtree(target, ignore_errors=True)
        if mode == "duckdb":
            r = timed([sys.executable, str(BENCH / "duck_worker.py"), "ingest", str(target), *files], self.work)
            info = json.loads(r["stdout"]) if r["rc"] == 0 else {}
        else:
            cmd = [self.saker, "-q", "ingest", "--data", str(target), *files]
            if mode == "saker_nofsync":
                cmd.insert(3, "--no-fsync")
            if mode == "saker_fsync_one_core":
                # confined to one processor: the throughput of one core
                cmd = ["taskset", "-c", "0", *cmd]
            r = timed(cmd, self.work)
            info = {"summary": r["stdout"].strip()}
        if r["rc"]:
            raise SystemExit(f"ingest {mode} failed: {r['stderr'][-2000:]}")
        info.update(wall_s=r["wall_s"], cpu_s=r["cpu_s"], rss_mb=r["rss_mb"], out_bytes=folder_bytes(target),
                    binary=self.saker, load=os.getloadavg()[0])
        self.log(f"  {mode}: {r['wall_s']:.1f} s ({r['cpu_s']:.1f} s of processor time), "
                 f"{ndjson_bytes / 1e6 / r['wall_s']:.1f} MB/s, peak {r['rss_mb']:.0f} MB")
        return info

    def ingest_bench(self, events: int) -> None:
        """Ingest measured --runs times per engine and mode, runs interleaved."""
        res = self.results.setdefault("ingest", {}).setdefault(str(events), {})
        info = self.data_info(self.chunks(events))
        res.update(docs=info["docs"], ndjson_bytes=info["ndjson_bytes"])
        modes = ["saker_fsync", "saker_fsync_one_core", "saker_nofsync", "duckdb"]
        for mode in modes:
            res[mode] = []
        for i in range(self.args.runs):
            self.log(f"ingest benchmark, {events} events, run {i + 1}/{self.args.runs}")
            for mode in modes:
                target = self.work / f"ingest-{mode}"
                res[mode].append(self.ingest_once(mode, info["files"], target, info["ndjson_bytes"]))
                shutil.rmtree(target, ignore_errors=True)
                self.save()

    def prepare(self, events: int, res: dict, store: Path) -> None:
        """Ingests the data into a fresh store (one measured run) and adds External Alerts' alerts."""
        info = self.data_info(self.chunks(events))
        res.update(docs=info["docs"], ndjson_bytes=info["ndjson_bytes"], gen_s=info["gen_s"],
                   gen_rss_mb=info["gen_rss_mb"], ground_truth=info["ground_truth"])
        self.log(f"{res['docs']} documents, {res['ndjson_bytes'] / 1e6:.0f} MB of NDJSON: building the store")
        res["ingest_saker_fsync"] = self.ingest_once("saker_fsync", info["files"], store, info["ndjson_bytes"])
        self.save()
        self.promote_alerts(res, store, info["files"])

    def promote_alerts(self, res: dict, store: Path, files: list[str]) -> None:
        """External Alerts' alerts into `.alerts-security.alerts-default`: the rule replayed every
        minute over the IDS alerts with `saker rules run`, one hour of alerts (by `event.ingested`)
        per data folder, since the rule run reads its whole folder, alerts included, at each
        execution."""
        self.log("promoting IDS alerts with the External Alerts rule")
        root = store.parent / "alerts"
        shutil.rmtree(root, ignore_errors=True)
        hours: dict[str, list[str]] = {}
        for f in files:
            if Path(f).name == "logs-suricata.eve-default.ndjson":
                with open(f) as src:
                    for line in src:
                        if '"kind":"alert"' in line:
                            m = re.search(r'"ingested":"(\d{4}-\d\d-\d\dT\d\d)', line)
                            hours.setdefault(m.group(1), []).append(line)
        began = time.perf_counter()
        alerts = []
        for hour, lines in sorted(hours.items()):
            d = root / hour.replace(":", "")
            d.mkdir(parents=True)
            (d / "logs-suricata.eve-default.ndjson").write_text("".join(lines))
            frm = hour + ":00:00Z"
            to = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(
                time.mktime(time.strptime(frm, "%Y-%m-%dT%H:%M:%SZ")) + 3720 - time.timezone))
            r = timed([self.saker, "-q", "rules", "run", "--data", str(d), "--rules",
                       str(REPO / "rules" / "flagship" / "external_alerts.toml"), "--from", frm, "--to", to], self.work)
            if r["rc"]:
                raise SystemExit(f"rules run failed: {r['stderr'][-2000:]}")
            alerts.append(str(d / ".alerts-security.alerts-default.ndjson"))
        res["rules_run_s"] = time.perf_counter() - began
        r = timed([self.saker, "-q", "ingest", "--data", str(store), "--index", ".alerts-security.alerts-default",
                   *alerts], self.work)
        if r["rc"]:
            raise SystemExit(f"ingesting the alerts failed: {r['stderr'][-2000:]}")
        res["alerts"] = sum(sum(1 for _ in open(a)) for a in alerts)
        res["ids_alerts"] = sum(len(v) for v in hours.values())
        self.save()

    def run_size(self, events: int) -> None:
        res = self.results.setdefault("sizes", {}).setdefault(str(events), {})
        d = self.work / f"e{events}"
        store = d / "store"
        if self.args.skip_ingest and (store / "store.json").exists():
            self.log(f"reusing {store}")
            if not (store / "indices" / ".alerts-security.alerts-default").exists():
                self.promote_alerts(res, store, self.data_info(self.chunks(events))["files"])
        else:
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir(parents=True)
            self.prepare(events, res, store)
        res["store_bytes"] = folder_bytes(store)
        res["parquet_bytes"] = sum(f.stat().st_size for f in store.rglob("*.parquet"))
        res["segments"] = sum(1 for _ in store.rglob("*.parquet"))
        res["store_docs"] = {
            line.split()[0]: int(line.split()[1])
            for line in subprocess.run([self.saker, "indices", "--data", str(store)], capture_output=True,
                                       text=True).stdout.splitlines()[1:]
        }
        # 4. queries
        qdir = d / "queries"
        qdir.mkdir(exist_ok=True)
        qres = res.setdefault("queries", {})
        sys.path.insert(0, str(BENCH))
        import compare
        import esql_rules

        for qid, rule_file, sql_file, _ in QUERIES:
            if self.args.queries and qid not in self.args.queries:
                continue
            rule = esql_rules.load_rule(rule_path(rule_file))
            text = esql_rules.executor_query(rule, START, WINDOW_END, limit=10000)
            qfile = qdir / f"{qid}.esql"
            qfile.write_text(text)
            entry = {}
            self.log(f"query {qid}")
            r = timed([self.saker, "-q", "query", "--data", str(store), "--format", "json", "--now", WINDOW_END,
                       "--unmapped-fields", "nullify", "--repeat", str(self.args.repeat), "--timing", "--file",
                       str(qfile)], self.work)
            if r["rc"]:
                entry["saker_error"] = r["stderr"][-1500:]
                self.log(f"  saker failed: {r['stderr'][-300:]}")
                saker_rows = None
            else:
                runs = [float(m) for m in re.findall(r"timing: run \d+/\d+ ([\d.]+) ms", r["stderr"])]
                opened = re.search(r"timing: open ([\d.]+) ms", r["stderr"])
                saker_rows = compare.saker_rows(json.loads(r["stdout"]))
                entry["saker"] = {"binary": self.saker, "runs_ms": runs, "open_ms": float(opened.group(1)) if opened else None,
                                  "wall_s": r["wall_s"], "rss_mb": r["rss_mb"], "rows": len(saker_rows)}
            r = timed([sys.executable, str(BENCH / "duck_worker.py"), "query", str(store), str(BENCH / "sql" / sql_file),
                       "--start", START, "--end", WINDOW_END, "--now", WINDOW_END, "--repeat", str(self.args.repeat)],
                      self.work)
            if r["rc"]:
                entry["duckdb_error"] = r["stderr"][-1500:]
                self.log(f"  duckdb failed: {r['stderr'][-300:]}")
                duck_rows = None
            else:
                out = json.loads(r["stdout"])
                duck_rows = [tuple(tuple(c) if isinstance(c, list) else c for c in row) for row in out["rows"]]
                entry["duckdb"] = {"runs_ms": out["runs_ms"], "open_ms": out["open_ms"], "wall_s": r["wall_s"],
                                   "rss_mb": r["rss_mb"], "rows": len(duck_rows)}
            if saker_rows is not None and duck_rows is not None:
                problem = compare.diff(saker_rows, sorted(duck_rows, key=repr))
                entry["same_result"] = problem is None
                if problem:
                    entry["difference"] = problem
                    self.log(f"  RESULTS DIFFER: {problem[:400]}")
                if qid == "flagship":
                    found = sorted(row[-1] for row in saker_rows)
                    entry["matches_ground_truth"] = found == sorted(res.get("ground_truth", []))
            for eng in ("saker", "duckdb"):
                if eng in entry:
                    e = entry[eng]
                    self.log(f"  {eng}: median {statistics.median(e['runs_ms']):.1f} ms, first "
                             f"{e['runs_ms'][0]:.1f} ms, peak {e['rss_mb']:.0f} MB, {e['rows']} rows")
            qres[qid] = entry
            self.save()


def machine_info(saker: str) -> dict:
    import duckdb

    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    version = subprocess.run([saker, "--version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(int(mem) / 1024 / 1024, 1),
        "kernel": platform.release(),
        "saker": version,
        "saker_binary": saker,
        "commit": commit,
        "duckdb": duckdb.__version__,
        "python": platform.python_version(),
    }


def main() -> None:
    ensure_venv()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--saker", default=str(REPO / "target" / "release" / "saker"))
    p.add_argument("--work", default="/tmp/bench", help="where data and stores go (deleted as they are done)")
    p.add_argument("--events", default="1000000,10000000", help="query benchmark sizes, comma-separated")
    p.add_argument("--chunk-events", type=int, default=1000000, help="events per `saker gen` run")
    p.add_argument("--ingest-events", type=int, default=1000000,
                   help="size of the ingest benchmark (0: none); every size's store is also built once")
    p.add_argument("--runs", type=int, default=3, help="ingest runs per engine")
    p.add_argument("--repeat", type=int, default=5, help="runs of each query, in one process per engine")
    p.add_argument("--queries", default="", help="only these query ids, comma-separated")
    p.add_argument("--skip-ingest", action="store_true", help="reuse a store left by an earlier run")
    p.add_argument("--keep", action="store_true", help="keep the generated NDJSON and the stores")
    p.add_argument("--out", default=str(BENCH / "results" / "results.json"))
    args = p.parse_args()
    args.queries = [x for x in args.queries.split(",") if x]
    if not Path(args.saker).exists():
        raise SystemExit(f"{args.saker} does not exist: cargo build --release -p saker")
    bench = Bench(args)
    if args.ingest_events:
        bench.ingest_bench(args.ingest_events)
    for n in [int(x) for x in args.events.split(",") if x]:
        bench.run_size(n)
        if not args.keep:
            shutil.rmtree(bench.work / f"e{n}", ignore_errors=True)
    if not args.keep:
        shutil.rmtree(bench.work / "gen", ignore_errors=True)
    bench.save()
    print(f"results in {args.out}; python3 bench/report.py for the tables and the plot")


if __name__ == "__main__":
    main()
