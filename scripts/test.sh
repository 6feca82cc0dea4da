#!/usr/bin/env bash
# Runs every test tier and prints a closing line "N passed, N failed". Exits non-zero on any failure.
#   (d) cargo fmt --check, cargo clippy -D warnings (native crates, and the app for wasm32)
#   (a) native cargo test of the pure crates
#   (b) wasm-bindgen-test of the app crate in headless Chromium
#   (c) Playwright (playwright-core + Debian Chromium) against the release build of dist/, served by a
#       plain static server at the root and under a subpath, with the demo EHR and the share host
# Set-up (tools, npm packages, demo data) runs first and is skipped where already done.
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

"$ROOT/scripts/setup.sh" || { echo; echo "0 passed, 1 failed (set-up failed: see above)"; exit 1; }

# Keep the disk footprint small (a CI disk once ran out): test builds carry no debug info and keep no
# incremental state (with them, target/ grew to ~10 GB: each debug wasm test binary was ~460 MB, and
# wasm-bindgen-test-runner writes another copy to $TMPDIR). Panics still name file and line.
export CARGO_INCREMENTAL=0 CARGO_PROFILE_DEV_DEBUG=0
# Chromedriver leaves a ~100 MB browser profile in $TMPDIR for each browser test binary and never
# removes it; keep all temporary files of the run under target/ and clear them before and after.
TEST_TMP="$ROOT/target/test-tmp"
rm -rf "$TEST_TMP"; mkdir -p "$TEST_TMP"
export TMPDIR="$TEST_TMP"

PASSED=0
FAILED=0
FAILED_TIERS=()
LOGS="$ROOT/target/test-logs"
mkdir -p "$LOGS"

# Counts "test result: ok. N passed; M failed" lines (cargo and wasm-bindgen-test) in a log.
count_cargo() {
  local log=$1 p f
  p=$(grep -E '^test result:' "$log" | sed -E 's/.* ([0-9]+) passed.*/\1/' | awk '{s+=$1} END {print s+0}')
  f=$(grep -E '^test result:' "$log" | sed -E 's/.* ([0-9]+) failed.*/\1/' | awk '{s+=$1} END {print s+0}')
  echo "$p $f"
}
# Counts node:test summary lines ("ℹ pass N", "ℹ fail N").
count_node() {
  local log=$1 p f
  p=$(grep -E '^ℹ pass [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')
  f=$(grep -E '^ℹ (fail|cancelled) [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')
  echo "$p $f"
}

# tier NAME KIND COMMAND...: runs a tier, tees its log, adds its counts. KIND is cargo, node or check.
tier() {
  local name=$1 kind=$2; shift 2
  local log="$LOGS/$name.log" status p f
  step "$name"
  "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  case $kind in
    cargo) read -r p f < <(count_cargo "$log") ;;
    node) read -r p f < <(count_node "$log") ;;
    check) if [ "$status" -eq 0 ]; then p=1; f=0; else p=0; f=1; fi ;;
  esac
  # A tier that failed without reporting a failing test (e.g. it did not compile) counts as one failure.
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
  [ "$f" -eq 0 ] || FAILED_TIERS+=("$name")
  echo "-- $name: $p passed, $f failed"
}

PURE=()
for d in crates/*/; do PURE+=(-p "$(basename "$d")"); done

tier "fmt" check cargo fmt --all -- --check
tier "clippy-native" check cargo clippy --locked "${PURE[@]}" --all-targets -- -D warnings
tier "clippy-wasm" check cargo clippy --locked -p phr-app --target wasm32-unknown-unknown --all-targets -- -D warnings
tier "native-tests" cargo cargo test --locked "${PURE[@]}"
# The vault's test vectors, checked against docs/vault-format.md by another implementation of every
# primitive (libargon2, OpenSSL), so the format is not only what our own code reads back.
tier "vault-vectors" check .tools/venv-vectors/bin/python crates/phr-vault/tests/vectors/verify.py
tier "browser-tests" cargo env CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=120 \
  cargo test --locked -p phr-app --target wasm32-unknown-unknown

step "release build (trunk)"
if trunk build --release 2>&1 | tee "$LOGS/trunk.log" | tail -n 5 && [ -f dist/index.html ]; then
  "$ROOT/scripts/lib/e2e-servers.sh" start || { FAILED=$((FAILED + 1)); FAILED_TIERS+=("e2e-servers"); }
  E2E=('e2e/**/*.test.mjs')
  [ -d sandbox/test ] && E2E+=('sandbox/test/*.test.mjs')
  tier "e2e" node node --test --test-reporter=spec --test-concurrency=1 "${E2E[@]}"
  "$ROOT/scripts/lib/e2e-servers.sh" stop
else
  echo "trunk build failed (see $LOGS/trunk.log)"
  FAILED=$((FAILED + 1)); FAILED_TIERS+=("trunk-build")
fi

rm -rf "$TEST_TMP"

echo
[ ${#FAILED_TIERS[@]} -eq 0 ] || echo "failed tiers: ${FAILED_TIERS[*]} (logs in target/test-logs/)"
echo "(all tiers in $(( $(date +%s) - T0 )) s)"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
