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
  if [ -x sandbox/stop.sh ]; then
    SANDBOX_RUN_DIR="$RUN_DIR/e2e-sandbox" sandbox/stop.sh >/dev/null 2>&1 || true
  fi
  if [ -x sandbox/sharehost/stop.sh ]; then
    SHAREHOST_RUN_DIR="$RUN_DIR/e2e-sharehost" sandbox/sharehost/stop.sh >/dev/null 2>&1 || true
  fi
}

# The provider directory served to the e2e app: the test demo EHR.
test_directory() {
  cat <<JSON
{
  "providers": [
    { "id": "demo-general", "name": "Demo General Hospital", "fhir_base": "$SANDBOX_GENERAL_FHIR", "client_id": "phr-app" },
    { "id": "demo-clinic", "name": "Demo Behavioral Health Clinic", "fhir_base": "$SANDBOX_CLINIC_FHIR", "client_id": "phr-app", "part2_program": true }
  ]
}
JSON
}

start() {
  stop
  port_free "$E2E_ROOT_PORT" "the e2e static server" E2E_ROOT_PORT
  port_free "$E2E_SUBPATH_PORT" "the e2e subpath static server" E2E_SUBPATH_PORT
  rm -rf "$E2E_DIR" && mkdir -p "$E2E_DIR/sub/apps"
  # Served copies of dist/ (the test provider directory must not leak into dist/).
  cp -r dist "$E2E_DIR/root"
  cp -r dist "$E2E_DIR/sub/apps/phr"
  test_directory > "$E2E_DIR/root/providers.json"
  test_directory > "$E2E_DIR/sub/apps/phr/providers.json"
  for d in "$E2E_DIR/root" "$E2E_DIR/sub/apps/phr"; do
    printf '{ "share_host": "%s" }\n' "$SHARE_HOST_URL" > "$d/config.json"
  done
  python3 -m http.server "$E2E_ROOT_PORT" --bind 127.0.0.1 --directory "$E2E_DIR/root" \
    >"$E2E_DIR/root.log" 2>&1 & echo $! > "$E2E_DIR/root.pid"
  python3 -m http.server "$E2E_SUBPATH_PORT" --bind 127.0.0.1 --directory "$E2E_DIR/sub" \
    >"$E2E_DIR/sub.log" 2>&1 & echo $! > "$E2E_DIR/sub.pid"
  wait_http "$APP_URL" 20 || { echo "the static server at $APP_URL did not start"; return 1; }
  wait_http "$APP_SUBPATH_URL" 20 || { echo "the static server at $APP_SUBPATH_URL did not start"; return 1; }
  echo "static app: $APP_URL and $APP_SUBPATH_URL"

  local origins="http://127.0.0.1:$E2E_ROOT_PORT,http://127.0.0.1:$E2E_SUBPATH_PORT"
  if [ -x sandbox/start.sh ]; then
    SANDBOX_RUN_DIR="$RUN_DIR/e2e-sandbox" \
      SANDBOX_GENERAL_PORT=$E2E_SANDBOX_GENERAL_PORT SANDBOX_CLINIC_PORT=$E2E_SANDBOX_CLINIC_PORT \
      SANDBOX_ADMIN_PORT=$E2E_SANDBOX_ADMIN_PORT SANDBOX_PUBLIC_HOST=127.0.0.1 \
      SANDBOX_REDIRECT_URIS="$APP_URL,$APP_SUBPATH_URL" \
      sandbox/start.sh || { echo "the demo EHR did not start"; return 1; }
  fi
  if [ -x sandbox/sharehost/start.sh ]; then
    SHAREHOST_RUN_DIR="$RUN_DIR/e2e-sharehost" SHAREHOST_PORT=$E2E_SHAREHOST_PORT \
      SHAREHOST_APP_ORIGINS="$origins" \
      sandbox/sharehost/start.sh || { echo "the share host did not start"; return 1; }
  fi
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
