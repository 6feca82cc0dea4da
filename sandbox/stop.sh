#!/usr/bin/env bash
# Stops the sandbox started by sandbox/start.sh. Idempotent: "not running" is not an error.
# Env: SANDBOX_RUN_DIR (.run/sandbox).
set -euo pipefail
SANDBOX_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$SANDBOX_DIR")
source "$SANDBOX_DIR/lib/ports.sh"
PORTS_LABEL=sandbox
RUN_DIR=${SANDBOX_RUN_DIR:-$ROOT/.run/sandbox}
PID_FILE=$RUN_DIR/sandbox.pid

pid=$(cat "$PID_FILE" 2>/dev/null || true)
if ! pid_is "$pid" "sandbox/server.mjs"; then
  rm -f "$PID_FILE"
  echo "sandbox: not running"
  exit 0
fi
kill -TERM "$pid"
for _ in $(seq 1 50); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
if kill -0 "$pid" 2>/dev/null; then
  echo "sandbox: pid $pid did not stop in 10 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
fi
rm -f "$PID_FILE"
echo "sandbox: stopped (pid $pid)"
