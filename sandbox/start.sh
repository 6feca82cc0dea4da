#!/usr/bin/env bash
# Starts the demo EHR sandbox in the background and waits until both providers answer.
# Idempotent: if it already runs (pid file), says so and exits 0.
# Env: SANDBOX_GENERAL_PORT (4001), SANDBOX_CLINIC_PORT (4002), SANDBOX_ADMIN_PORT (4000),
#      SANDBOX_RUN_DIR (.run/sandbox: pid file and log), and every variable server.mjs reads
#      (SANDBOX_REDIRECT_URIS, SANDBOX_APP_ORIGINS, SANDBOX_CLIENT_ID, SANDBOX_PUBLIC_HOST,
#      SANDBOX_DATA_DIR, ...; see sandbox/README.md). Extra arguments go to server.mjs.
set -euo pipefail
SANDBOX_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$SANDBOX_DIR")
source "$SANDBOX_DIR/lib/ports.sh"
PORTS_LABEL=sandbox
NODE=${NODE:-$ROOT/node_modules/.bin/node}
RUN_DIR=${SANDBOX_RUN_DIR:-$ROOT/.run/sandbox}
PID_FILE=$RUN_DIR/sandbox.pid
LOG=$RUN_DIR/sandbox.log
GENERAL_PORT=${SANDBOX_GENERAL_PORT:-4001}
CLINIC_PORT=${SANDBOX_CLINIC_PORT:-4002}
ADMIN_PORT=${SANDBOX_ADMIN_PORT:-4000}
TIMEOUT=${SANDBOX_START_TIMEOUT:-90}

die() { echo "sandbox: error: $*" >&2; exit 1; }

[ -x "$NODE" ] || die "Node 22 not found at $NODE (run npm ci at the repo root, or set NODE)"
mkdir -p "$RUN_DIR"

pid=$(cat "$PID_FILE" 2>/dev/null || true)
if pid_is "$pid" "sandbox/server.mjs"; then
  echo "sandbox: already running (pid $pid); log: $LOG"
  exit 0
fi
rm -f "$PID_FILE"

if [ -z "${SANDBOX_DATA_DIR:-}" ]; then
  "$SANDBOX_DIR/generate-data.sh"
elif [ ! -s "$SANDBOX_DATA_DIR/general.ndjson" ]; then
  die "no sandbox data in SANDBOX_DATA_DIR=$SANDBOX_DATA_DIR (run sandbox/generate-data.sh with the same SANDBOX_DATA_DIR)"
fi

require_free_port "$GENERAL_PORT" SANDBOX_GENERAL_PORT || exit 1
require_free_port "$CLINIC_PORT" SANDBOX_CLINIC_PORT || exit 1
require_free_port "$ADMIN_PORT" SANDBOX_ADMIN_PORT || exit 1

# setsid: a Ctrl-C in the calling terminal does not reach the server; stop.sh stops it.
SANDBOX_GENERAL_PORT=$GENERAL_PORT SANDBOX_CLINIC_PORT=$CLINIC_PORT SANDBOX_ADMIN_PORT=$ADMIN_PORT \
  setsid "$NODE" "$SANDBOX_DIR/server.mjs" "$@" > "$LOG" 2>&1 < /dev/null &
pid=$!
echo "$pid" > "$PID_FILE"

for _ in $(seq 1 $((TIMEOUT * 5))); do
  if ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$PID_FILE"
    echo "sandbox: the server stopped during start-up; its log ($LOG):" >&2
    tail -n 20 "$LOG" >&2
    exit 1
  fi
  if grep -q '^SANDBOX_READY ' "$LOG"; then
    grep '^SANDBOX_READY ' "$LOG" | sed 's/^SANDBOX_READY //' | "$NODE" -e '
      const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
      console.log(`sandbox: running (pid ${process.argv[1]}), started in ${r.startupMs} ms`);
      for (const k of ["general", "clinic"]) console.log(`  ${r[k].name.padEnd(31)} FHIR ${r[k].fhirBase}`);
      console.log(`  admin API                       ${r.admin.url}`);
      console.log(`  client id ${r.clientId}, redirect URIs ${r.redirectUris.join(" ")}`);' "$pid"
    exit 0
  fi
  sleep 0.2
done
echo "sandbox: not ready after ${TIMEOUT}s; stopping it. Log ($LOG):" >&2
tail -n 20 "$LOG" >&2
kill "$pid" 2>/dev/null || true
rm -f "$PID_FILE"
exit 1
