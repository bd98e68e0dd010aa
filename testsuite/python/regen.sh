#!/usr/bin/env bash
# Regenerates the expected outputs of the minipy corpus with CPython 3.11 (python3):
# NAME.out (stdout), and for programs that fail, NAME.exit and NAME.err (the last line of
# stderr). Programs named unsupported_* use what minipy refuses; their expected message is
# their first line (`# minipy: ...`), not CPython's. Run from anywhere; review the diff.
set -uo pipefail
cd "$(dirname "$0")"
python3 --version | grep -q '^Python 3\.11\.' || { echo "regen.sh needs CPython 3.11 as python3" >&2; exit 2; }
for py in *.py; do
    case "$py" in mod_*|unsupported_*) continue;; esac
    name="${py%.py}"
    scratch="$(mktemp -d)"
    python3 "$py" "$scratch" >"$name.out" 2>"$name.stderr"
    code=$?
    rm -rf "$scratch"
    if [ "$code" -ne 0 ]; then
        echo "$code" >"$name.exit"
        tail -n 1 "$name.stderr" >"$name.err"
    else
        rm -f "$name.exit" "$name.err"
    fi
    rm -f "$name.stderr"
done
