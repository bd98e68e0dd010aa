#!/usr/bin/env bash
# minipy against CPython 3.11 on the benchmark programs, whole process, in one run: wall time
# and peak RSS of each (GNU time), at two sizes per program to show how cost grows, with the
# ratios and their geometric mean as a markdown table. Then the GC on an allocation-heavy
# program at several nursery sizes (`tracelab py --gc-stats`).
#
#   testsuite/python/bench.sh            # builds tracelab in release first
#   SIZES=small testsuite/python/bench.sh  # the first size only
set -euo pipefail
cd "$(dirname "$0")"
root=../..
cargo build --release -q -p tracelab --manifest-path "$root/Cargo.toml"
tracelab="$root/target/release/tracelab"
python3 --version | grep -q '^Python 3\.11\.' || { echo "bench.sh needs CPython 3.11 as python3" >&2; exit 2; }

# program: two sizes (the second twice or more the first's work)
benches=(
    "nbody 50000 100000"
    "spectral_norm 125 250"
    "richards 50000 100000"
    "fannkuch 8 9"
    "float_objects 150000 300000"
    "nqueens 7 8"
    "dicts_strings 100000 200000"
    "recursion 14 16"
)

measure() { # command... -> "seconds kilobytes"
    /usr/bin/time -f "%e %M" "$@" >/dev/null 2>/tmp/minipy-bench-time || { echo "failed: $*" >&2; exit 1; }
    tail -n 1 /tmp/minipy-bench-time
}

scratch=$(mktemp -d)
results=$(mktemp)
echo "| program | size | CPython s | minipy s | time ratio | CPython MB | minipy MB | memory ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for line in "${benches[@]}"; do
    read -r name small large <<<"$line"
    sizes="$small $large"
    [ "${SIZES:-}" = small ] && sizes=$small
    for n in $sizes; do
        read -r ct cm < <(measure python3 "bench_$name.py" "$scratch" "$n")
        read -r mt mm < <(measure "$tracelab" py "bench_$name.py" "$scratch" "$n")
        echo "$name $n $ct $mt $cm $mm" >>"$results"
        python3 -c "import sys; n,s,ct,mt,cm,mm=sys.argv[1:]; ct,mt,cm,mm=map(float,(ct,mt,cm,mm)); print(f'| {n} | {s} | {ct:.2f} | {mt:.2f} | {mt/ct:.2f} | {cm/1024:.1f} | {mm/1024:.1f} | {mm/cm:.2f} |')" "$name" "$n" "$ct" "$mt" "$cm" "$mm"
    done
done
python3 - "$results" <<'EOF'
import math, sys
rows = [l.split() for l in open(sys.argv[1])]
# The geometric mean over each program's largest size.
last = {}
for name, n, ct, mt, cm, mm in rows:
    last[name] = (float(ct), float(mt), float(cm), float(mm))
t = math.exp(sum(math.log(mt / ct) for ct, mt, _, _ in last.values()) / len(last))
m = math.exp(sum(math.log(mm / cm) for _, _, cm, mm in last.values()) / len(last))
print(f"\ngeometric mean over the largest sizes: time {t:.2f}x CPython, peak memory {m:.2f}x")
EOF

echo
echo "GC: bench_float_objects.py 300000 by nursery size (--gc-stats)"
for kib in 256 1024 4096 16384; do
    echo "nursery $kib KiB: wall $(measure "$tracelab" py --gc-nursery "$kib" bench_float_objects.py "$scratch" 300000 | cut -d' ' -f1) s"
    "$tracelab" py --gc-stats --gc-nursery "$kib" bench_float_objects.py "$scratch" 300000 2>&1 >/dev/null | sed 's/^/    /'
done
rm -rf "$scratch" "$results"
