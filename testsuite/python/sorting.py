# Sorting: keys, reverse, stability, tuples, list.sort in place, custom __lt__.
people = [("alice", 30), ("bob", 25), ("carol", 30), ("dave", 25), ("eve", 35)]
print(sorted(people, key=lambda p: p[1]))
print(sorted(people, key=lambda p: (-p[1], p[0])))
print(sorted(people, key=lambda p: p[1], reverse=True))
words = "the quick brown fox jumps over the lazy dog".split()
words.sort()
print(words)
words.sort(key=len)
print(words)
words.sort(key=lambda w: (len(w), w), reverse=True)
print(words)
nums = [5, -3, 2, -8, 0]
print(sorted(nums, key=abs), sorted(nums, key=lambda n: -n), nums)
print(sorted([3.5, 1, 2.25, -1]), sorted(["b", "A", "a", "B"]), sorted(["b", "A", "a"], key=str.lower))
class Card:
    order = "23456789TJQKA"
    def __init__(self, face):
        self.face = face
    def __lt__(self, other):
        return self.order.index(self.face) < self.order.index(other.face)
    def __repr__(self):
        return self.face
print(sorted([Card(f) for f in "KA2T9"]))
matrix = [[3, 1], [1, 2], [2, 0]]
matrix.sort()
print(matrix, sorted(matrix, key=lambda r: r[1]))
big = list(range(1000, 0, -7))
big.sort()
print(big[:5], big[-3:], len(big))
try:
    sorted([1, "a"])
except TypeError as e:
    print("TypeError:", e)
print(sorted({"b": 2, "a": 1}.items()), sorted(set("hello")))
