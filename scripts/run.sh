#!/usr/bin/env bash
# Runs the app with the demo EHR: builds dist/ (release), then serves it at http://localhost:8080/
# together with the demo EHR (two SMART providers) and the share host for SMART Health Links.
# Set-up (tools, packages, demo data) runs first and is skipped where already done. Ctrl-C stops all.
#   APP_PORT (8080) — the demo EHR's registered redirect URI is http://localhost:8080/, so keep it
#   unless you also start the sandbox with SANDBOX_REDIRECT_URIS (see sandbox/README.md).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"
APP_PORT=${APP_PORT:-8080}

"$ROOT/scripts/setup.sh"

step "checking ports"
port_free "$APP_PORT" "the app" APP_PORT
# The sandbox and share host scripts check their own ports and say which variable to set.

step "building the app (trunk build --release)"
trunk build --release

cleanup() {
  trap - EXIT INT TERM
  step "stopping"
  [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null || true
  sandbox/stop.sh >/dev/null 2>&1 || true
  sandbox/sharehost/stop.sh >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM

step "starting the demo EHR"
sandbox/start.sh
step "starting the share host"
sandbox/sharehost/start.sh

step "serving dist/"
python3 -m http.server "$APP_PORT" --bind 127.0.0.1 --directory dist >"$RUN_DIR/app-server.log" 2>&1 &
SERVER_PID=$!
wait_http "http://127.0.0.1:$APP_PORT/" 20 || die "the static server did not start; see $RUN_DIR/app-server.log"

cat <<TXT

  My Health Record is running:   http://localhost:$APP_PORT/

  Try it: create a vault, then Import → Connect "Demo General Hospital", and sign in at the demo EHR
  as a synthetic patient (for example Stefan Haley). Then connect "Demo Behavioral Health Clinic".

  Demo EHR:     http://localhost:4001/fhir (hospital), http://localhost:4002/fhir (clinic)
  Share host:   http://127.0.0.1:8090/shl/
  Press Ctrl-C to stop everything.
TXT
wait "$SERVER_PID"
