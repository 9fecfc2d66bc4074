#!/usr/bin/env bash
# The history in the Actions cache, with no run lost to another run of the same branch.
#
# An entry is never overwritten, and its key is numbered: PREFIX-s1, PREFIX-s2, ... A run
# saves its history as the number after the one it restored, then reads that entry back.
# When another run took the number first, the entry read back lacks this run: the history
# read back takes this run's runs (`test-gate history --merge-from`), and is saved as the
# next number. Two runs that restored the same entry thus end in one entry that holds both.
#
#   history_cache.sh keys        MATCHED (the key restored), PREFIX -> outputs key-1..key-3
#   history_cache.sh set-aside   HISTORY: this run's history, moved aside to HISTORY.ours
#   history_cache.sh merge       HISTORY (read back, if any), KEY, KEEP_RUNS, GATE_PYTHON,
#                                GATE_LIB -> output again=true when KEY lacked this run
set -euo pipefail
here="$(cd -- "$(dirname -- "$0")" && pwd)"

case "${1:-}" in
  keys)
    own="${PREFIX:?}-s"
    matched="${MATCHED:-}"
    rest="${matched#"$own"}"
    n=0
    if [[ "$matched" == "$own"* && "$rest" =~ ^[0-9]{1,9}$ ]]; then
      n=$((10#$rest))
    fi
    for round in 1 2 3; do
      echo "key-$round=$own$((n + round))" >> "$GITHUB_OUTPUT"
    done
    ;;
  set-aside)
    rm -f -- "${HISTORY:?}.ours"
    if [ -f "$HISTORY" ]; then
      mv -f -- "$HISTORY" "$HISTORY.ours"
    fi
    ;;
  merge)
    ours="${HISTORY:?}.ours"
    again=false
    if [ ! -f "$ours" ]; then
      : # this run recorded nothing: there is nothing of it to keep
    elif [ ! -f "$HISTORY" ]; then
      # nothing under the key: this run's save did not take, or another's is still uploading
      echo "test-gate: the history entry $KEY was not found; it is saved again"
      mv -f -- "$ours" "$HISTORY"
      again=true
    elif out="$("${GATE_PYTHON:?}" "$here/gate.py" "${GATE_LIB:?}" history "$HISTORY" \
        --merge-from "$ours" "--keep-runs=${KEEP_RUNS:-200}" --json 2>&1)"; then
      if [[ "$out" =~ \"added\":\ ([0-9]+) ]] && [ "${BASH_REMATCH[1]}" = 0 ]; then
        echo "test-gate: the history entry $KEY holds this run"
        rm -f -- "$ours"
      else
        echo "test-gate: another run saved the history entry $KEY first; its runs and this" \
          "run's are saved together as the next entry"
        again=true
      fi
    else
      # the entry cannot be read as a history: this run's copy replaces it. The reason is
      # one line, and a legacy workflow command in it (a value of the file's) is made inert
      reason="${out//$'\n'/ }"
      reason="${reason//'##['/'## ['}"
      echo "test-gate: the history entry $KEY is not usable ($reason); this run's history" \
        "is saved as the next entry"
      mv -f -- "$ours" "$HISTORY"
      again=true
    fi
    echo "again=$again" >> "$GITHUB_OUTPUT"
    ;;
  *)
    echo "history_cache.sh: keys, set-aside or merge" >&2
    exit 2
    ;;
esac
