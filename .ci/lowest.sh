#!/usr/bin/env bash
# The lowest versions pyproject.toml allows (uv --resolution lowest-direct), in a throwaway venv,
# run the spine tests: a floor that is too low (mss>=9 while the code needs mss.MSS from 10.2)
# fails here, not on a user's machine. Usage: bash .ci/lowest.sh [python]
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-python3}"
VENV="$(mktemp -d)/lowest"
trap 'rm -rf "$(dirname "$VENV")"' EXIT
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q uv
start=$(date +%s)
"$VENV/bin/uv" pip install -q --python "$VENV/bin/python" --resolution lowest-direct -e ".[test]"
"$VENV/bin/uv" pip list --python "$VENV/bin/python" 2>/dev/null | grep -iE '^(mss|pynput|av|pydantic|numpy|hydra-core|pysdl2|protobuf|pyarrow|msgpack) ' || true
"$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/spine
echo "lowest-direct: $(( $(date +%s) - start )) s"
