# Shared helpers for the project's scripts. Source it; don't run it.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"
export CARGO_TERM_COLOR=never
export TRUNK_SKIP_VERSION_CHECK=true
RUN_DIR="$ROOT/.run"
mkdir -p "$RUN_DIR"

TRUNK_VERSION=0.21.14     # 0.22 needs rustc >= 1.96.1
MIN_RUST=1.95.0
NODE_MAJOR_MIN=22         # Medplum 5 (the demo EHR's FHIR server) needs Node >= 22
WASM_OPT_VERSION=132      # npm binaryen; Debian's binaryen 108 emits broken wasm

T0=${T0:-$(date +%s)}
export T0
step() { printf '\n== [%ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
die() { printf '\nERROR: %s\n' "$*" >&2; exit 1; }

# version_ge A B: true when version A >= version B (dotted numbers).
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

# The wasm-bindgen version pinned by Cargo.lock (the CLI must match it exactly).
lock_wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

# port_free PORT NAME ENVVAR: fail with a clear message when something listens on PORT.
port_free() {
  local port=$1 name=$2 var=$3
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    local who=""
    command -v ss >/dev/null && who=$(ss -ltnpH "sport = :$port" 2>/dev/null | sed -n 's/.*users:((\("[^"]*"\).*/\1/p' | head -n1)
    die "port $port (for $name) is already in use${who:+ by $who}. Stop that program, or choose another port with $var=<port>."
  fi
}

# wait_http URL SECONDS: wait until URL answers (any HTTP status).
wait_http() {
  local url=$1 secs=${2:-30} i
  for i in $(seq $((secs * 5))); do
    curl -s -o /dev/null --max-time 2 "$url" && return 0
    sleep 0.2
  done
  return 1
}

# Addresses used by the test command, all derived from one base port (distinct from the run
# command's, so both can run at once; set E2E_PORT_BASE to run two test suites side by side).
E2E_PORT_BASE=${E2E_PORT_BASE:-18000}
export E2E_ROOT_PORT=$((E2E_PORT_BASE + 80))
export E2E_SUBPATH_PORT=$((E2E_PORT_BASE + 81))
export E2E_SHAREHOST_PORT=$((E2E_PORT_BASE + 90))
export E2E_SANDBOX_ADMIN_PORT=$((E2E_PORT_BASE + 100))
export E2E_SANDBOX_GENERAL_PORT=$((E2E_PORT_BASE + 101))
export E2E_SANDBOX_CLINIC_PORT=$((E2E_PORT_BASE + 102))
export APP_URL=http://127.0.0.1:$E2E_ROOT_PORT/
export APP_SUBPATH_URL=http://127.0.0.1:$E2E_SUBPATH_PORT/apps/phr/
export SANDBOX_ADMIN_URL=http://127.0.0.1:$E2E_SANDBOX_ADMIN_PORT/_sandbox
export SANDBOX_GENERAL_FHIR=http://127.0.0.1:$E2E_SANDBOX_GENERAL_PORT/fhir
export SANDBOX_CLINIC_FHIR=http://127.0.0.1:$E2E_SANDBOX_CLINIC_PORT/fhir
export SHARE_HOST_URL=http://127.0.0.1:$E2E_SHAREHOST_PORT/shl/
