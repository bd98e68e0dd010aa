#!/usr/bin/env bash
# minipy against CPython 3.11 on the benchmark programs, whole process, in one run: wall time
# and peak RSS of each (GNU time), at two sizes per program to show how cost grows, with the
# ratios and their geometric mean as a markdown table: minipy interpreting only (--no-jit) and
# with its JIT (the default), and PyPy when `pypy3` is installed. Then the GC on an
# allocation-heavy program at several nursery sizes (`tracelab py --gc-stats`).
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
pypy=$(command -v pypy3 || true)
echo "| program | size | CPython s | minipy --no-jit s | minipy JIT s | PyPy s | no-JIT / CPython | JIT / CPython | JIT / no-JIT | CPython MB | minipy JIT MB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for line in "${benches[@]}"; do
    read -r name small large <<<"$line"
    sizes="$small $large"
    [ "${SIZES:-}" = small ] && sizes=$small
    for n in $sizes; do
        read -r ct cm < <(measure python3 "bench_$name.py" "$scratch" "$n")
        read -r nt _ < <(measure "$tracelab" py --no-jit "bench_$name.py" "$scratch" "$n")
        read -r jt jm < <(measure "$tracelab" py "bench_$name.py" "$scratch" "$n")
        pt=-
        [ -n "$pypy" ] && read -r pt _ < <(measure "$pypy" "bench_$name.py" "$scratch" "$n")
        echo "$name $n $ct $nt $jt $pt $cm $jm" >>"$results"
        python3 -c "import sys; n,s,ct,nt,jt,pt,cm,jm=sys.argv[1:]; ct,nt,jt,cm,jm=map(float,(ct,nt,jt,cm,jm)); print(f'| {n} | {s} | {ct:.2f} | {nt:.2f} | {jt:.2f} | {pt} | {nt/ct:.2f} | {jt/ct:.2f} | {jt/nt:.2f} | {cm/1024:.1f} | {jm/1024:.1f} |')" "$name" "$n" "$ct" "$nt" "$jt" "$pt" "$cm" "$jm"
    done
done
python3 - "$results" <<'EOF'
import math, sys
rows = [l.split() for l in open(sys.argv[1])]
# The geometric mean over each program's largest size.
last = {}
for name, n, ct, nt, jt, pt, cm, jm in rows:
    last[name] = (float(ct), float(nt), float(jt), float(cm), float(jm))
geo = lambda f: math.exp(sum(math.log(f(*r)) for r in last.values()) / len(last))
print(f"\ngeometric mean over the largest sizes: no JIT {geo(lambda c, n, j, cm, jm: n / c):.2f}x CPython, "
      f"JIT {geo(lambda c, n, j, cm, jm: j / c):.2f}x CPython, JIT / no JIT {geo(lambda c, n, j, cm, jm: j / n):.2f}, "
      f"peak memory with the JIT {geo(lambda c, n, j, cm, jm: jm / cm):.2f}x CPython")
EOF

echo
echo "GC: bench_float_objects.py 300000 by nursery size (--gc-stats)"
for kib in 256 1024 4096 16384; do
    echo "nursery $kib KiB: wall $(measure "$tracelab" py --gc-nursery "$kib" bench_float_objects.py "$scratch" 300000 | cut -d' ' -f1) s"
    "$tracelab" py --gc-stats --gc-nursery "$kib" bench_float_objects.py "$scratch" 300000 2>&1 >/dev/null | sed 's/^/    /'
done
rm -rf "$scratch" "$results"
