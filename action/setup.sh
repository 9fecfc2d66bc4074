#!/usr/bin/env bash
# Set up the gate for a composite action of test-gate (the gate, or the merge): find a Python
# 3.10+, install the gate's two pinned, hashed dependencies into a folder of their own, and
# give the step outputs `python` and `lib`. Nothing is built, and nothing of the gate enters
# the test environment. INPUT_PYTHON: the interpreter the user named, tried first.
set -euo pipefail
started=$SECONDS
is_310() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1; }
base=""
# The tests may run on an older Python (3.9, ...): the gate takes any 3.10+ it finds.
for candidate in "$INPUT_PYTHON" python3 python python3.14 python3.13 python3.12 \
    python3.11 python3.10 /usr/bin/python3 /usr/local/bin/python3 py; do
  if [ -n "$candidate" ] && command -v -- "$candidate" >/dev/null 2>&1 \
      && is_310 "$candidate"; then
    base=$(command -v -- "$candidate")
    break
  fi
done
if [ -z "$base" ]; then
  echo "::error title=test-gate: no Python::test-gate needs Python 3.10 or newer on PATH"
  exit 1
fi
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
requirements="$here/requirements.txt"
# One folder per job and pinned set: a second use of the action in the job reuses it.
key=$(cat "$requirements" - <<< "$base" | cksum | cut -d' ' -f1)
temp="${RUNNER_TEMP//\\//}"  # one kind of separator, on Windows too
lib="$temp/test-gate-lib-$key"
if [ -f "$lib/test-gate-ready" ]; then
  echo "Reusing the gate's dependencies in $lib"
elif command -v uv >/dev/null 2>&1; then
  echo "Gate dependencies with $(uv --version), Python $base"
  uv pip install --quiet --python "$base" --target "$lib" --no-deps --require-hashes \
    -r "$requirements"
else
  echo "Gate dependencies with pip, Python $base"
  "$base" -m pip install --quiet --disable-pip-version-check --no-deps \
    --require-hashes --target "$lib" -r "$requirements"
fi
touch "$lib/test-gate-ready"
# a PostgreSQL history (INPUT_POSTGRESQL=true): psycopg, pinned and hashed, into the same folder
if [ "${INPUT_POSTGRESQL:-false}" = "true" ] && [ ! -f "$lib/test-gate-postgresql" ]; then
  extra="$here/requirements-postgresql.txt"
  if command -v uv >/dev/null 2>&1; then
    uv pip install --quiet --python "$base" --target "$lib" --no-deps --require-hashes -r "$extra"
  else
    "$base" -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes \
      --target "$lib" -r "$extra"
  fi
  touch "$lib/test-gate-postgresql"
fi
"$base" "$here/gate.py" "$lib" --version
{
  echo "python=$base"
  echo "lib=$lib"
} >> "$GITHUB_OUTPUT"
echo "Gate set up in $((SECONDS - started))s"
