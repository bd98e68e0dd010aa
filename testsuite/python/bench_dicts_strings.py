# Dict- and string-heavy: word counting, string building, formatting, sorting.
import sys
import random
random.seed(7)
n = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "shi", "po", "vek", "an"]
words = []
for i in range(n):
    k = random.randint(1, 3)
    words.append("".join(random.choice(syllables) for _ in range(k)))
counts = {}
for w in words:
    counts[w] = counts.get(w, 0) + 1
by_len = {}
for w in counts:
    by_len.setdefault(len(w), []).append(w)
top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
print(len(words), len(counts), top)
lines = []
for length in sorted(by_len):
    group = sorted(by_len[length])
    lines.append("%2d: %d words, first %s, last %s" % (length, len(group), group[0], group[-1]))
print("\n".join(lines))
text = " ".join(words)
caps = text.title().replace("Ka", "KA")
print(len(text), caps[:60], caps.count("KA"), text.find("vekvekvek"))
index = {}
for pos, w in enumerate(words):
    index.setdefault(w[0], set()).add(pos % 97)
print(sorted((k, len(v)) for k, v in index.items()))
table = ["|".join(f"{w:>8}" for w in words[i:i + 5]) for i in range(0, min(n, 50), 5)]
print(table[0], len(table))
