# Conway's Game of Life on a small torus, with a glider and a blinker.
def step(cells, w, h):
    nxt = set()
    counts = {}
    for (x, y) in cells:
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                if dx or dy:
                    p = ((x + dx) % w, (y + dy) % h)
                    counts[p] = counts.get(p, 0) + 1
    for p, n in counts.items():
        if n == 3 or (n == 2 and p in cells):
            nxt.add(p)
    return nxt

def show(cells, w, h):
    return "\n".join("".join("#" if (x, y) in cells else "." for x in range(w)) for y in range(h))

W, H = 10, 8
cells = {(1, 0), (2, 1), (0, 2), (1, 2), (2, 2), (6, 5), (7, 5), (8, 5)}
for gen in range(4):
    print("generation", gen, "alive", len(cells))
    print(show(cells, W, H))
    cells = step(cells, W, H)
for _ in range(36):
    cells = step(cells, W, H)
print("after 40:", len(cells), sorted(cells))
