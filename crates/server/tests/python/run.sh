#!/usr/bin/env bash
# Acceptance test of the HTTP API with Elastic's official Python client (pinned in
# requirements.txt): builds saker, installs the client in a virtual environment under target/,
# starts `saker serve` on a free loopback port over a temporary data folder with authentication on
# (a users file made with `saker users add`), and runs pytest.
#
# Needs python3 with venv and PyPI; nothing else from the network. Exit status is pytest's.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/python-client"
shared="${SAKER_SHARED:-$(cd "$root/.." && pwd)/shared}"
export SAKER_SHARED_DATA="${SAKER_SHARED_DATA:-$shared/data}"

command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 1; }
[ -d "$SAKER_SHARED_DATA" ] || { echo "shared data not found at $SAKER_SHARED_DATA" >&2; exit 1; }

# The virtual environment is rebuilt when the pins change.
stamp="$venv/requirements.txt"
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$here/requirements.txt" "$stamp"; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$stamp"
fi

(cd "$root" && cargo build --quiet --locked -p saker)
saker="$target/debug/saker"

data="$(mktemp -d)"
log="$data.log"
users="$data.users.toml"
export SAKER_USER=admin SAKER_PASSWORD="$("$venv/bin/python" -c 'import secrets; print(secrets.token_urlsafe(16))')"
printf '%s\n' "$SAKER_PASSWORD" | "$saker" --quiet users add --file "$users" --name "$SAKER_USER" --role superuser
port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
SAKER_LOG=info "$saker" serve --data "$data" --listen "127.0.0.1:$port" --users "$users" 2>"$log" &
server=$!
stop() {
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$data" "$log" "$users"
}
trap stop EXIT

export SAKER_URL="http://127.0.0.1:$port"
ready=0
for _ in $(seq 1 100); do
  if ! kill -0 "$server" 2>/dev/null; then
    break
  fi
  # any HTTP answer (401 without credentials) means the server is up
  if "$venv/bin/python" -c "
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass" "$SAKER_URL/" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.1
done
if [ "$ready" != 1 ]; then
  echo "saker serve did not start; its log:" >&2
  cat "$log" >&2
  exit 1
fi

status=0
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$here/test_client.py" || status=$?
if [ "$status" != 0 ]; then
  echo "--- saker serve log ---" >&2
  cat "$log" >&2
fi
exit "$status"
