#!/usr/bin/env bash
# Starts (or stops) what the e2e tests talk to: the built app on a plain static file server, at the
# root and under a subpath, each with a provider directory that points at the test demo EHR.
#   e2e-servers.sh start | stop
set -uo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"
E2E_DIR="$RUN_DIR/e2e"

stop() {
  for f in "$E2E_DIR"/*.pid; do
    [ -f "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
}

start() {
  stop
  port_free "$E2E_ROOT_PORT" "the e2e static server" E2E_ROOT_PORT
  port_free "$E2E_SUBPATH_PORT" "the e2e subpath static server" E2E_SUBPATH_PORT
  rm -rf "$E2E_DIR" && mkdir -p "$E2E_DIR/sub/apps"
  # Served copies of dist/ (the test provider directory must not leak into dist/).
  cp -r dist "$E2E_DIR/root"
  cp -r dist "$E2E_DIR/sub/apps/phr"
  python3 -m http.server "$E2E_ROOT_PORT" --bind 127.0.0.1 --directory "$E2E_DIR/root" \
    >"$E2E_DIR/root.log" 2>&1 & echo $! > "$E2E_DIR/root.pid"
  python3 -m http.server "$E2E_SUBPATH_PORT" --bind 127.0.0.1 --directory "$E2E_DIR/sub" \
    >"$E2E_DIR/sub.log" 2>&1 & echo $! > "$E2E_DIR/sub.pid"
  wait_http "$APP_URL" 20 || { echo "the static server at $APP_URL did not start"; return 1; }
  wait_http "$APP_SUBPATH_URL" 20 || { echo "the static server at $APP_SUBPATH_URL did not start"; return 1; }
  echo "static app: $APP_URL and $APP_SUBPATH_URL"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
