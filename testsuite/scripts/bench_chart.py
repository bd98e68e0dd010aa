#!/usr/bin/env python3
"""Draws bench.sh's table as an SVG bar chart: per program (its largest size), the time of
minipy without and with its JIT (and PyPy's, when measured), as ratios to CPython's.

    testsuite/python/bench.sh | tee /tmp/bench.txt
    python3 testsuite/scripts/bench_chart.py < /tmp/bench.txt > docs/img/jit-bench.svg

Plain SVG, no plotting library: the chart is a few rectangles and labels.
"""
import sys

rows = {}
for line in sys.stdin:
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) < 6 or not cells[1].isdigit():
        continue
    name, _size, ct, nt, jt, pt = cells[:6]
    ct, nt, jt = float(ct), float(nt), float(jt)
    # The last row of a program is its largest size.
    rows[name] = (nt / ct, jt / ct, float(pt) / ct if pt not in ("-", "") else None)

if not rows:
    sys.exit("bench_chart.py: no table rows on stdin (run bench.sh first)")

series = [("minipy, no JIT", "#9aa5b1", 0), ("minipy, JIT", "#2f6fb5", 1), ("PyPy", "#d9822b", 2)]
series = [s for s in series if s[2] < 2 or any(r[2] is not None for r in rows.values())]
width, height, left, bottom, top = 760, 360, 60, 60, 30
top_ratio = max(max(v for v in r if v is not None) for r in rows.values()) * 1.1
plot_h = height - bottom - top
group = (width - left - 20) / len(rows)
bar = group * 0.8 / len(series)
y = lambda ratio: top + plot_h * (1 - ratio / top_ratio)

out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">']
out.append(f'<text x="{left}" y="18" font-size="14">Time as a multiple of CPython 3.11 (lower is better; largest size of each program)</text>')
for k in range(0, int(top_ratio) + 1):
    out.append(f'<line x1="{left}" x2="{width - 20}" y1="{y(k):.1f}" y2="{y(k):.1f}" stroke="#ddd"/>')
    out.append(f'<text x="{left - 8}" y="{y(k) + 4:.1f}" text-anchor="end">{k}x</text>')
out.append(f'<line x1="{left}" x2="{width - 20}" y1="{y(1):.1f}" y2="{y(1):.1f}" stroke="#333" stroke-dasharray="4 3"/>')
for g, (name, values) in enumerate(rows.items()):
    x0 = left + g * group + group * 0.1
    for s, (_label, colour, index) in enumerate(series):
        v = values[index]
        if v is None:
            continue
        out.append(f'<rect x="{x0 + s * bar:.1f}" y="{y(v):.1f}" width="{bar - 2:.1f}" height="{y(0) - y(v):.1f}" fill="{colour}"><title>{name}: {v:.2f}x</title></rect>')
    out.append(f'<text x="{x0 + group * 0.4:.1f}" y="{height - bottom + 16}" text-anchor="middle">{name}</text>')
for s, (label, colour, _) in enumerate(series):
    x = left + s * 160
    out.append(f'<rect x="{x}" y="{height - 22}" width="12" height="12" fill="{colour}"/><text x="{x + 18}" y="{height - 12}">{label}</text>')
out.append("</svg>")
print("\n".join(out))
