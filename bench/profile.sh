#!/usr/bin/env bash
# Where Saker spends its time: perf's flat profiles (self time per symbol) of the flagship query
# and of `saker ingest`, on data from `saker gen`. The release binary keeps its symbols but no debug
# information and no frame pointers, so the profiles are flat (no call graphs).
#
#   bash bench/profile.sh NDJSON_DIR STORE [WORK]
#
# NDJSON_DIR: a folder written by `saker gen` (ingested into a fresh store under WORK);
# STORE: a store with External Alerts' alerts, as `bench/run.py --keep` leaves (/tmp/bench/e1000000/store).
# Needs perf (linux-perf).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
ndjson="$1"
store="$2"
work="${3:-/tmp/bench/profile}"
saker="${SAKER:-$repo/target/release/saker}"
mkdir -p "$work"

# ingest: the whole folder into a fresh store
rm -rf "$work/store"
perf record -F 499 -o "$work/ingest.perf" -- "$saker" -q ingest --data "$work/store" "$ndjson"/logs-*.ndjson
perf report -i "$work/ingest.perf" --stdio --no-children --sort dso,symbol --percent-limit 1 2>/dev/null \
  | grep -v '^$' | head -60 > "$work/ingest.txt"

# the flagship query, as the executor runs it over the whole window, five times in one process
python3 - "$repo" "$work/flagship.esql" <<'EOF'
import sys
from pathlib import Path
sys.path.insert(0, str(Path(sys.argv[1]) / "bench"))
import esql_rules
rule = esql_rules.load_rule(Path(sys.argv[1]) / "rules/flagship/microsoft_365_or_entra_id_signin_from_alerted_source.toml")
Path(sys.argv[2]).write_text(esql_rules.executor_query(rule, "2025-01-01T00:00:00Z", "2025-01-01T08:05:00Z", 10000))
EOF
rm -rf "$work/store"
perf record -F 499 -o "$work/flagship.perf" -- "$saker" -q query --data "$store" --format json \
  --now 2025-01-01T08:05:00Z --repeat 5 --timing --file "$work/flagship.esql" >/dev/null
perf report -i "$work/flagship.perf" --stdio --no-children --sort dso,symbol --percent-limit 1 2>/dev/null \
  | grep -v '^$' | head -60 > "$work/flagship.txt"

echo "profiles: $work/ingest.txt $work/flagship.txt"
