#!/usr/bin/env bash
# The benchmark command: builds the release app, starts the demo EHR and a static server, and prints
# a table of sizes, latencies and ratios against the browser's own primitives (headless Chromium).
set -euo pipefail
export E2E_PORT_BASE=${E2E_PORT_BASE:-19000}
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh" >/dev/null
step "release build"
trunk build --release >/dev/null
"$ROOT/scripts/lib/e2e-servers.sh" start >/dev/null
trap '"$ROOT/scripts/lib/e2e-servers.sh" stop' EXIT
step "benchmark (BENCH_RUNS=${BENCH_RUNS:-5})"
node e2e/bench/bench.mjs
