#!/usr/bin/env bash
# Writes target/pypy-workload.log, the input of `cargo bench -p tracelab-testsuite --bench import`.
# Needs pypy3 (apt-get install -y pypy3). COPIES (default 10) scales the log (about 9 MB each).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p target
PYPYLOG=jit-log-noopt,jit-log-opt,jit-summary:target/pypy-workload.log \
    pypy3 testsuite/bench-data/workload.py "${COPIES:-10}" > /dev/null
ls -l target/pypy-workload.log
