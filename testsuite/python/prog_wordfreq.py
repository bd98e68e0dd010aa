# A word-frequency report over a generated text, written to a file and read back.
import sys

TEXT = """It was the best of times, it was the worst of times, it was the age of
wisdom, it was the age of foolishness, it was the epoch of belief, it was the
epoch of incredulity, it was the season of Light, it was the season of Darkness,
it was the spring of hope, it was the winter of despair."""

def words(text):
    cleaned = "".join(c.lower() if c.isalpha() else " " for c in text)
    return cleaned.split()

def frequencies(ws):
    counts = {}
    for w in ws:
        counts[w] = counts.get(w, 0) + 1
    return counts

def report(counts, top):
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    width = max(len(w) for w, _ in ranked[:top])
    lines = []
    for rank, (w, n) in enumerate(ranked[:top], 1):
        lines.append(f"{rank:2}. {w:<{width}} {n:3} {'#' * n}")
    return "\n".join(lines)

path = sys.argv[1] + "/report.txt"
counts = frequencies(words(TEXT))
with open(path, "w") as f:
    f.write(report(counts, 8) + "\n")
with open(path) as f:
    print(f.read(), end="")
print("distinct:", len(counts), "total:", sum(counts.values()))
by_length = {}
for w in counts:
    by_length.setdefault(len(w), []).append(w)
for n in sorted(by_length):
    print(n, sorted(by_length[n]))
