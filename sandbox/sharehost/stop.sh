#!/usr/bin/env bash
# Stops the share host started by sandbox/sharehost/start.sh. Idempotent. Stored files are kept.
# Env: SHAREHOST_RUN_DIR (.run/sharehost).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$(dirname "$HERE")")
source "$HERE/../lib/ports.sh"
RUN_DIR=${SHAREHOST_RUN_DIR:-$ROOT/.run/sharehost}
PID_FILE=$RUN_DIR/nginx.pid

pid=$(cat "$PID_FILE" 2>/dev/null || true)
if ! pid_is "$pid" "nginx"; then
  rm -f "$PID_FILE"
  echo "sharehost: not running"
  exit 0
fi
kill -QUIT "$pid"  # graceful: finish current requests
for _ in $(seq 1 50); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
  kill -TERM "$pid" 2>/dev/null || true
  sleep 0.5
fi
rm -f "$PID_FILE"
echo "sharehost: stopped (pid $pid)"
