#!/usr/bin/env bash
# Acceptance test with a real log shipper: Debian's rsyslog and its omelasticsearch output send
# syslog messages to `saker serve`, and ES|QL (`POST /_query`) must find every one of them with its
# ECS fields.
#
# 1. Installs rsyslog and rsyslog-elasticsearch from Debian's packages when missing (needs root).
# 2. Builds saker, starts `saker serve` on a free loopback port over a temporary data folder.
# 3. Starts rsyslogd in the foreground with its own configuration (rsyslog.conf.in), pid file and
#    work folder: TCP syslog on a loopback port, omelasticsearch in bulk mode into the data stream
#    logs-syslog-default.
# 4. Sends MESSAGES messages with `logger` and checks them: count, no duplicates, field values.
# 5. Stops saker, sends OUTAGE_MESSAGES more while it is down, starts it again over the same data
#    folder: rsyslog retries until saker answers, and all of them arrive exactly once.
#
# Fails with the logs of saker and rsyslog on any error; every process started is stopped on exit.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
messages="${MESSAGES:-500}"
outage_messages="${OUTAGE_MESSAGES:-100}"
wait_seconds="${WAIT_SECONDS:-30}"

command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is required" >&2; exit 1; }
command -v logger >/dev/null || { echo "logger (util-linux) is required" >&2; exit 1; }

installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}
if ! installed rsyslog || ! installed rsyslog-elasticsearch; then
  if [ "$(id -u)" != 0 ]; then
    echo "rsyslog and rsyslog-elasticsearch are missing; install them as root:" >&2
    echo "  apt-get install -y rsyslog rsyslog-elasticsearch" >&2
    exit 1
  fi
  echo "installing rsyslog and rsyslog-elasticsearch from Debian's packages" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rsyslog rsyslog-elasticsearch >/dev/null
fi
rsyslogd="$(command -v rsyslogd || echo /usr/sbin/rsyslogd)"

(cd "$root" && cargo build --quiet --locked -p saker)
saker="$target/debug/saker"

work="$(mktemp -d)"
mkdir -p "$work/spool"
data="$work/data"
server=""
shipper=""
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
saker_port="$(free_port)"
syslog_port="$(free_port)"
url="http://127.0.0.1:$saker_port"

show_logs() {
  for f in saker.log rsyslogd.out rsyslogd.log bulk-errors.json; do
    if [ -s "$work/$f" ]; then
      echo "--- $f ---" >&2
      tail -n 60 "$work/$f" >&2
    fi
  done
  if [ -s "$work/stats.json" ]; then
    echo "--- omelasticsearch counters ---" >&2
    grep '"origin": "omelasticsearch"' "$work/stats.json" | tail -n 2 >&2 || true
  fi
}
fail() {
  echo "rsyslog test FAILED: $*" >&2
  show_logs
  exit 1
}
stop_saker() {
  if [ -n "$server" ]; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=""
  fi
}
cleanup() {
  if [ -n "$shipper" ]; then
    kill -TERM "$shipper" 2>/dev/null || true
    wait "$shipper" 2>/dev/null || true
  fi
  stop_saker
  rm -rf "$work"
}
trap cleanup EXIT

start_saker() {
  SAKER_LOG=info "$saker" serve --data "$data" --listen "127.0.0.1:$saker_port" 2>>"$work/saker.log" &
  server=$!
  for _ in $(seq 1 100); do
    kill -0 "$server" 2>/dev/null || fail "saker serve exited"
    if curl -sf -o /dev/null "$url/"; then
      return 0
    fi
    sleep 0.1
  done
  fail "saker serve did not answer on $url"
}

# Runs an ES|QL query and prints its `values` as JSON (one row a line); fails on an error answer.
esql() {
  local body response status
  body="$(python3 -c 'import json, sys; print(json.dumps({"query": sys.argv[1]}))' "$1")"
  response="$(curl -s -w '\n%{http_code}' -H 'Content-Type: application/json' -X POST "$url/_query" -d "$body")"
  status="${response##*$'\n'}"
  response="${response%$'\n'*}"
  if [ "$status" != 200 ]; then
    echo "POST /_query [$1] answered $status: $response" >&2
    return 1
  fi
  python3 -c 'import json, sys; [print(json.dumps(row)) for row in json.loads(sys.argv[1])["values"]]' "$response"
}

# Waits until the data stream holds `want` documents (or more); prints how many it holds.
wait_for_count() {
  local want="$1" have=0 deadline=$((SECONDS + wait_seconds))
  while [ "$SECONDS" -lt "$deadline" ]; do
    have="$(esql 'FROM logs-syslog-* | STATS c = COUNT(*)' 2>/dev/null | python3 -c 'import json, sys; print(json.loads(sys.stdin.read() or "[0]")[0])' || echo 0)"
    if [ "$have" -ge "$want" ]; then
      break
    fi
    sleep 0.2
  done
  echo "$have"
}

# Sends `count` messages numbered from `first` through rsyslog's TCP input, one TCP connection.
send() {
  local first="$1" count="$2" run="$3"
  python3 -c '
import sys
first, count, run = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for i in range(first, first + count):
    print(f"saker rsyslog test run={run} seq={i:06d} text=\"quoted\" and a backslash \\ here")
' "$first" "$count" "$run" >"$work/lines.txt"
  logger --server 127.0.0.1 --port "$syslog_port" --tcp --octet-count --rfc5424 \
    --tag sakertest --id=4242 --msgid TEST -p local3.warning --file "$work/lines.txt" \
    || fail "logger could not send to rsyslog on port $syslog_port"
}

# Every message of the run exactly once, and the fields rsyslog's template maps to ECS.
check() {
  local want="$1" run="$2" started="$3" have rows
  have="$(wait_for_count "$want")"
  [ "$have" = "$want" ] || fail "expected $want documents in logs-syslog-*, found $have"
  rows="$(esql "FROM logs-syslog-* | WHERE message LIKE \"saker rsyslog test run=$run *\"
    | STATS c = COUNT(*) BY message | STATS messages = COUNT(*), most = MAX(c), least = MIN(c)")" \
    || fail "ES|QL query failed"
  [ "$rows" = "[$want, 1, 1]" ] || fail "expected $want distinct messages once each, got [messages, most, least] = $rows"
  rows="$(esql 'FROM logs-syslog-* | STATS c = COUNT(*) BY host.name, process.name, log.syslog.appname,
      log.syslog.procid, log.syslog.msgid, log.syslog.version, log.syslog.priority,
      log.syslog.facility.code, log.syslog.facility.name, log.syslog.severity.code, log.syslog.severity.name,
      data_stream.type, data_stream.dataset, data_stream.namespace')" || fail "ES|QL query failed"
  local expected
  expected="[$want, \"$(hostname)\", \"sakertest\", \"sakertest\", \"4242\", \"TEST\", \"1\", 156, 19, \"local3\", 4, \"warning\", \"logs\", \"syslog\", \"default\"]"
  [ "$rows" = "$expected" ] || fail "ECS fields: expected $expected, got $rows"
  rows="$(esql "FROM logs-syslog-* | WHERE message == \"saker rsyslog test run=$run seq=000000 text=\\\"quoted\\\" and a backslash \\\\ here\"
      | KEEP message")" || fail "ES|QL query failed"
  [ -n "$rows" ] || fail "the first message, with its quotes and backslash, is not found by exact value"
  rows="$(esql "FROM logs-syslog-* | STATS earliest = MIN(@timestamp), latest = MAX(@timestamp)
      | EVAL ok = earliest >= TO_DATETIME(\"$started\") AND latest <= NOW() | KEEP ok")" || fail "ES|QL query failed"
  [ "$rows" = "[true]" ] || fail "@timestamp outside the time of the test"
}

start_saker

sed -e "s|@WORK@|$work|g" -e "s|@SYSLOG_PORT@|$syslog_port|g" -e "s|@SAKER_PORT@|$saker_port|g" \
  "$here/rsyslog.conf.in" >"$work/rsyslog.conf"
"$rsyslogd" -N1 -f "$work/rsyslog.conf" >"$work/rsyslogd.out" 2>&1 || fail "rsyslogd refused its configuration"
"$rsyslogd" -n -f "$work/rsyslog.conf" -i "$work/rsyslogd.pid" >>"$work/rsyslogd.out" 2>&1 &
shipper=$!
for _ in $(seq 1 100); do
  kill -0 "$shipper" 2>/dev/null || fail "rsyslogd exited"
  if python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$syslog_port" 2>/dev/null; then
    break
  fi
  sleep 0.1
done

run="$(python3 -c 'import uuid; print(uuid.uuid4().hex[:12])')"
started="$(date -u +%Y-%m-%dT%H:%M:%S.000Z)"
send 0 "$messages" "$run"
check "$messages" "$run" "$started"
echo "rsyslog: $messages messages shipped by omelasticsearch, all found by ES|QL with their ECS fields"

# The server goes away; rsyslog keeps the messages, retries, and delivers them once it is back.
stop_saker
send "$messages" "$outage_messages" "$run"
sleep 2
start_saker
check "$((messages + outage_messages))" "$run" "$started"
echo "rsyslog: $outage_messages messages sent while saker was down delivered once after its restart"

[ ! -s "$work/bulk-errors.json" ] || fail "omelasticsearch wrote bulk errors"
sleep 1.5
counters="$(grep '"origin": "omelasticsearch"' "$work/stats.json" | tail -n 1)"
echo "rsyslog: omelasticsearch counters ${counters#*: }"
echo "rsyslog test passed"
