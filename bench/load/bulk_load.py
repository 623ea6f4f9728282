#!/usr/bin/env python3
"""HTTP bulk load test of `saker serve`: K concurrent `_bulk` clients for a bounded time, then a
check that every acknowledged document is searchable exactly once.

For each concurrency level (``--clients 4,16``) the script

1. starts ``saker serve`` on a free loopback port over a new temporary data folder (or uses the
   server given by ``--url``),
2. runs K client threads, each with one keep-alive HTTP connection, sending ``_bulk`` requests of
   ``--bulk-docs`` ECS documents (written by ``saker gen``, cycled) for ``--duration`` seconds.
   Every document is a ``create`` into its data stream, namespace ``load<K>``, and carries a
   unique ``event.id`` = ``<run>-<client>-<seq>``. Items answered 201 are counted as acknowledged,
   other items as failed (by error type); a request that fails as a whole counts its documents as
   unknown (they may or may not have been written),
3. refreshes, then checks with ES|QL: per client, the number of documents, the smallest and
   largest sequence number; no ``event.id`` twice; none of the failed ids present. With no
   unknowns, this proves the searchable set is exactly the acknowledged set,
4. prints sustained docs/s and MB/s (uncompressed request bodies), bulk latency percentiles, the
   server's peak memory and its data folder size.

Loopback only: ``--url`` must name 127.0.0.1, ::1 or localhost. Run time and concurrency are
bounded (at most 600 s and 64 clients a level). Python standard library only.

    python3 bench/load/bulk_load.py --clients 4,16 --duration 60
    python3 bench/load/bulk_load.py --saker target/debug/saker --clients 2 --duration 5 --events 2000
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_DURATION = 600.0
MAX_CLIENTS = 64
ID_PLACEHOLDER = "\u0000load-id\u0000"


# ---------------------------------------------------------------------------------------------
# Documents


def load_templates(saker: Path, events: int, workdir: Path, namespace: str) -> list[tuple[str, str, str]]:
    """Writes `events` generated ECS documents with `saker gen` and returns, for each, the action
    line and the source split around the place of its `event.id`."""
    out = workdir / "gen"
    if not out.exists():
        subprocess.run(
            [str(saker), "gen", "--quiet", "--out", str(out), "--events", str(events), "--seed", "7"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    templates = []
    for path in sorted(out.glob("*.ndjson")):
        with path.open() as f:
            for line in f:
                if not line.strip():
                    continue
                doc = json.loads(line)
                stream = doc.setdefault("data_stream", {})
                stream.setdefault("type", "logs")
                stream.setdefault("dataset", "generic")
                stream["namespace"] = namespace
                doc.setdefault("event", {})["id"] = ID_PLACEHOLDER
                index = f"{stream['type']}-{stream['dataset']}-{namespace}"
                action = json.dumps({"create": {"_index": index}}, separators=(",", ":"))
                source = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
                before, after = source.split(json.dumps(ID_PLACEHOLDER), 1)
                templates.append((action + "\n" + before + '"', '"' + after + "\n"))
    if not templates:
        raise SystemExit(f"saker gen wrote no documents into {out}")
    # Interleave the data streams, as a shipper with several inputs would.
    random.Random(7).shuffle(templates)
    return templates


# ---------------------------------------------------------------------------------------------
# HTTP


class Server:
    """`saker serve` started by the script over its own data folder, or a given URL."""

    def __init__(self, url: str | None, saker: Path, data: Path | None):
        self.proc = None
        self.data = data
        self.log = None
        if url is None:
            port = free_port()
            self.log = open(data.parent / f"{data.name}.log", "wb")
            self.proc = subprocess.Popen(
                [str(saker), "serve", "--quiet", "--data", str(data), "--listen", f"127.0.0.1:{port}"],
                stdout=subprocess.DEVNULL,
                stderr=self.log,
            )
            url = f"http://127.0.0.1:{port}"
        parsed = urllib.parse.urlsplit(url)
        if parsed.hostname not in ("127.0.0.1", "::1", "localhost"):
            raise SystemExit(f"--url must be a loopback address, not {parsed.hostname}")
        self.host = parsed.hostname
        self.port = parsed.port or 9200
        self.wait_ready()

    def wait_ready(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise SystemExit(f"saker serve exited with {self.proc.returncode}")
            try:
                status, _ = request(self.connect(), "GET", "/")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit("saker serve did not answer within 30 s")

    def connect(self, timeout: float = 120.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def peak_rss_mib(self) -> float | None:
        if self.proc is None:
            return None
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024)
        except OSError:
            return None
        return None

    def cpu_seconds(self) -> float | None:
        """User and system CPU time of the server so far."""
        if self.proc is None:
            return None
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return None

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        if self.log is not None:
            self.log.close()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(conn, method, path, body: bytes | None = None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response.status, response.read()


def esql(server: Server, query: str) -> list[list]:
    conn = server.connect(timeout=600)
    try:
        status, body = request(
            conn, "POST", "/_query", json.dumps({"query": query}).encode(), {"Content-Type": "application/json"}
        )
    finally:
        conn.close()
    if status != 200:
        raise SystemExit(f"POST /_query [{query}] answered {status}: {body[:2000].decode(errors='replace')}")
    return json.loads(body)["values"]


# ---------------------------------------------------------------------------------------------
# Load


class Client(threading.Thread):
    """One bulk client: a keep-alive connection, bulks sent back to back until the deadline."""

    def __init__(self, number, server, run, templates, bulk_docs, deadline, use_gzip):
        super().__init__(name=f"client-{number}", daemon=True)
        self.number = number
        self.server = server
        self.prefix = f"{run}-{number:02d}-"
        self.templates = templates
        self.bulk_docs = bulk_docs
        self.deadline = deadline
        self.use_gzip = use_gzip
        self.sent = 0  # documents sent (sequence numbers 0..sent-1)
        self.acked = 0
        self.unknown = 0
        self.failed_ids: list[str] = []
        self.failures: Counter = Counter()
        self.request_errors: Counter = Counter()
        self.bytes = 0
        self.latencies: list[float] = []
        self.first_send = None
        self.last_answer = None

    def body(self) -> tuple[bytes, list[str]]:
        parts = []
        ids = []
        n = len(self.templates)
        # Each client starts at another place of the templates.
        offset = self.number * 7919
        for _ in range(self.bulk_docs):
            seq = self.sent + len(ids)
            doc_id = f"{self.prefix}{seq:09d}"
            head, tail = self.templates[(offset + seq) % n]
            parts.append(head)
            parts.append(doc_id)
            parts.append(tail)
            ids.append(doc_id)
        return "".join(parts).encode(), ids

    def run(self):
        conn = self.server.connect()
        headers = {"Content-Type": "application/x-ndjson"}
        if self.use_gzip:
            headers["Content-Encoding"] = "gzip"
        while time.monotonic() < self.deadline:
            body, ids = self.body()
            self.sent += len(ids)
            self.bytes += len(body)
            payload = gzip.compress(body, compresslevel=1) if self.use_gzip else body
            started = time.monotonic()
            if self.first_send is None:
                self.first_send = started
            try:
                status, answer = request(conn, "POST", "/_bulk", payload, headers)
            except (OSError, http.client.HTTPException) as e:
                self.unknown += len(ids)
                self.request_errors[type(e).__name__] += 1
                conn.close()
                conn = self.server.connect()
                continue
            finished = time.monotonic()
            self.last_answer = finished
            self.latencies.append(finished - started)
            if status != 200:
                # The request was refused as a whole: no item was written.
                self.request_errors[f"http {status}"] += 1
                self.failed_ids.extend(ids)
                continue
            items = json.loads(answer)["items"]
            if len(items) != len(ids):
                raise SystemExit(f"bulk answered {len(items)} items for {len(ids)} documents")
            for doc_id, item in zip(ids, items):
                (result,) = item.values()
                if result.get("status") == 201:
                    self.acked += 1
                else:
                    self.failed_ids.append(doc_id)
                    error = result.get("error") or {}
                    self.failures[f"{result.get('status')} {error.get('type', '?')}"] += 1
        conn.close()


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def verify(server: Server, clients: list[Client], namespace: str, run: str) -> list[str]:
    """Checks the searchable documents against the clients' acknowledgements; returns problems."""
    problems = []
    conn = server.connect(timeout=600)
    try:
        status, body = request(conn, "POST", "/_refresh")
    finally:
        conn.close()
    if status != 200:
        problems.append(f"POST /_refresh answered {status}: {body[:500]!r}")
    source = f"FROM logs-*-{namespace}"
    rows = esql(
        server,
        f"{source} | DISSECT event.id \"%{{run}}-%{{client}}-%{{seq}}\" | EVAL seq = TO_LONG(seq)"
        " | STATS n = COUNT(*), lo = MIN(seq), hi = MAX(seq) BY run, client | SORT client | LIMIT 1000",
    )
    found = {}
    for n, lo, hi, run_found, client in rows:
        if run_found != run:
            problems.append(f"{n} documents of another run ({run_found}) in {source}")
            continue
        found[int(client)] = (n, lo, hi)
    for c in clients:
        n, lo, hi = found.pop(c.number, (0, None, None))
        if c.unknown == 0 and n != c.acked:
            problems.append(f"client {c.number}: {c.acked} acknowledged, {n} searchable")
        if c.unknown and not c.acked <= n <= c.acked + c.unknown:
            problems.append(f"client {c.number}: {c.acked} acknowledged + {c.unknown} unknown, {n} searchable")
        if n and (lo < 0 or hi >= c.sent):
            problems.append(f"client {c.number}: sequence numbers {lo}..{hi} outside the {c.sent} sent")
    for client, (n, _, _) in found.items():
        problems.append(f"{n} documents of unknown client {client}")
    doubled = esql(server, f"{source} | STATS c = COUNT(*) BY event.id | WHERE c > 1 | STATS ids = COUNT(*), docs = SUM(c)")
    if doubled and doubled[0][0]:
        problems.append(f"{doubled[0][0]} ids present more than once ({doubled[0][1]} documents)")
    failed = [i for c in clients for i in c.failed_ids]
    for start in range(0, len(failed), 500):
        chunk = failed[start : start + 500]
        listed = ", ".join(json.dumps(i) for i in chunk)
        present = esql(server, f"{source} | WHERE event.id IN ({listed}) | STATS c = COUNT(*)")
        if present and present[0][0]:
            problems.append(f"{present[0][0]} documents answered as failed are searchable")
    return problems


def run_level(args, saker: Path, templates_by_ns, workdir: Path, k: int) -> dict:
    namespace = f"load{k}"
    templates = templates_by_ns(namespace)
    data = workdir / f"data-{k}"
    server = Server(args.url, saker, None if args.url else data)
    try:
        run = os.urandom(4).hex()
        deadline = time.monotonic() + args.duration
        clients = [
            Client(i, server, run, templates, args.bulk_docs, deadline, args.gzip) for i in range(k)
        ]
        cpu_before = os.times()
        server_cpu_before = server.cpu_seconds()
        load_before = os.getloadavg()[0]
        for c in clients:
            c.start()
        for c in clients:
            c.join()
        cpu_after = os.times()
        server_cpu_after = server.cpu_seconds()
        started = min(c.first_send for c in clients if c.first_send is not None)
        ended = max(c.last_answer for c in clients if c.last_answer is not None)
        elapsed = ended - started
        acked = sum(c.acked for c in clients)
        sent = sum(c.sent for c in clients)
        body_bytes = sum(c.bytes for c in clients)
        latencies = sorted(x for c in clients for x in c.latencies)
        failures = sum((c.failures for c in clients), Counter())
        errors = sum((c.request_errors for c in clients), Counter())
        unknown = sum(c.unknown for c in clients)
        verify_started = time.monotonic()
        problems = verify(server, clients, namespace, run)
        verify_seconds = time.monotonic() - verify_started
        result = {
            "clients": k,
            "bulk_docs": args.bulk_docs,
            "gzip": args.gzip,
            "seconds": round(elapsed, 1),
            "requests": len(latencies),
            "sent": sent,
            "acked": acked,
            "failed_items": dict(failures),
            "request_errors": dict(errors),
            "unknown": unknown,
            "docs_per_s": round(acked / elapsed),
            "mb_per_s": round(body_bytes / elapsed / 1e6, 2),
            "avg_doc_bytes": round(body_bytes / max(sent, 1)),
            "latency_ms": {
                "p50": round(percentile(latencies, 50) * 1000, 1),
                "p99": round(percentile(latencies, 99) * 1000, 1),
                "max": round(latencies[-1] * 1000, 1) if latencies else None,
            },
            "client_cpu_s": round(
                (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system), 1
            ),
            "server_cpu_s": None
            if server_cpu_before is None or server_cpu_after is None
            else round(server_cpu_after - server_cpu_before, 1),
            "load_avg_before": round(load_before, 2),
            "server_peak_rss_mib": server.peak_rss_mib(),
            "verify_s": round(verify_seconds, 1),
            "verified": not problems,
            "problems": problems,
        }
    finally:
        server.stop()
    if not args.url:
        result["data_mib"] = round(sum(f.stat().st_size for f in data.rglob("*") if f.is_file()) / 2**20, 1)
        if not args.keep:
            shutil.rmtree(data, ignore_errors=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="4,16", help="concurrency levels, comma-separated (default 4,16)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load a level (default 60)")
    parser.add_argument("--bulk-docs", type=int, default=1000, help="documents a bulk request (default 1000)")
    parser.add_argument("--events", type=int, default=20000, help="distinct generated documents (default 20000)")
    parser.add_argument("--gzip", action="store_true", help="send bodies gzip-compressed (level 1, as Beats)")
    parser.add_argument("--saker", type=Path, help="the saker binary (default target/release/saker, else debug)")
    parser.add_argument("--url", help="use this running server instead of starting one (loopback only)")
    parser.add_argument("--keep", action="store_true", help="keep the data folders")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    args = parser.parse_args()

    levels = [int(x) for x in args.clients.split(",") if x.strip()]
    if not levels or any(not 1 <= k <= MAX_CLIENTS for k in levels):
        parser.error(f"--clients takes levels from 1 to {MAX_CLIENTS}")
    if not 0 < args.duration <= MAX_DURATION:
        parser.error(f"--duration takes 0 to {MAX_DURATION:.0f} seconds")
    if not 1 <= args.bulk_docs <= 100_000:
        parser.error("--bulk-docs takes 1 to 100000")
    saker = args.saker
    if saker is None:
        target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
        saker = next((p for p in (target / "release/saker", target / "debug/saker") if p.exists()), None)
        if saker is None:
            parser.error("no saker binary: build it (cargo build --release -p saker) or pass --saker")
    saker = saker.resolve()

    workdir = Path(tempfile.mkdtemp(prefix="saker-load-"))
    results = []
    try:
        cache: dict[str, list] = {}

        def templates_by_ns(namespace):
            if namespace not in cache:
                cache[namespace] = load_templates(saker, args.events, workdir, namespace)
            return cache[namespace]

        print(
            f"saker {saker} | {cpu_model()}, {os.cpu_count()} cores | {args.duration:.0f} s a level,"
            f" {args.bulk_docs} docs a bulk{' gzip' if args.gzip else ''}",
            flush=True,
        )
        for k in levels:
            result = run_level(args, saker, templates_by_ns, workdir, k)
            results.append(result)
            lat = result["latency_ms"]
            print(
                f"clients={k:<3} docs/s={result['docs_per_s']:<8} MB/s={result['mb_per_s']:<7}"
                f" p50={lat['p50']}ms p99={lat['p99']}ms max={lat['max']}ms"
                f" acked={result['acked']} failed={sum(result['failed_items'].values())}"
                f" unknown={result['unknown']} rss={result['server_peak_rss_mib']}MiB"
                f" data={result.get('data_mib')}MiB server_cpu={result['server_cpu_s']}s"
                f" client_cpu={result['client_cpu_s']}s load1={result['load_avg_before']}"
                f" verified={'yes' if result['verified'] else 'NO'}",
                flush=True,
            )
            for problem in result["problems"]:
                print(f"  problem: {problem}", flush=True)
            if result["failed_items"] or result["request_errors"]:
                print(f"  failed items {result['failed_items']}, request errors {result['request_errors']}")
    finally:
        if args.keep:
            print(f"data kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(r["verified"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
