# Matrices as lists of lists: multiply, transpose, determinant by elimination, identity checks.
def matmul(a, b):
    return [[sum(a[i][k] * b[k][j] for k in range(len(b))) for j in range(len(b[0]))] for i in range(len(a))]

def transpose(m):
    return [list(r) for r in zip(*m)]

def det(m):
    m = [row[:] for row in m]
    n, sign, result = len(m), 1, 1.0
    for c in range(n):
        pivot = max(range(c, n), key=lambda r: abs(m[r][c]))
        if m[pivot][c] == 0:
            return 0.0
        if pivot != c:
            m[c], m[pivot] = m[pivot], m[c]
            sign = -sign
        for r in range(c + 1, n):
            f = m[r][c] / m[c][c]
            for k in range(c, n):
                m[r][k] -= f * m[c][k]
        result *= m[c][c]
    return sign * result

def identity(n):
    return [[int(i == j) for j in range(n)] for i in range(n)]

a = [[1, 2], [3, 4]]
b = [[5, 6], [7, 8]]
print(matmul(a, b), transpose([[1, 2, 3], [4, 5, 6]]))
print(matmul(a, identity(2)) == a, round(det(a), 9), round(det([[2, 0, 1], [1, 3, 2], [1, 1, 1]]), 9))
p = identity(3)
m = [[2, 1, 0], [1, 2, 1], [0, 1, 2]]
for _ in range(5):
    p = matmul(p, m)
print(p, round(det(p), 6))
print("\n".join(" ".join(f"{v:6.2f}" for v in row) for row in [[x / 3 for x in r] for r in m]))
