# Classes implementing __iter__ and __next__, and iter()/next() on them.
class Countdown:
    def __init__(self, start):
        self.current = start

    def __iter__(self):
        return self

    def __next__(self):
        if self.current <= 0:
            raise StopIteration
        self.current -= 1
        return self.current + 1

print(list(Countdown(5)), sum(Countdown(4)), max(Countdown(3)))

class Tree:
    def __init__(self, value, children=()):
        self.value = value
        self.children = list(children)

    def __iter__(self):
        yield self.value
        for c in self.children:
            yield from c

t = Tree(1, [Tree(2, [Tree(4)]), Tree(3)])
print(list(t), 4 in t, sorted(t, reverse=True))

class Pairs:
    def __init__(self, items):
        self.items = items

    def __iter__(self):
        return iter(zip(self.items, self.items[1:]))

print(list(Pairs([1, 2, 3, 4])))
it = iter(Countdown(2))
print(next(it), next(it), next(it, None))
a, b, c = Countdown(3)
print(a, b, c)
print([x for x in Countdown(3)], tuple(Countdown(2)), set(Countdown(3)) == {1, 2, 3})
for i, v in enumerate(Countdown(2)):
    print(i, v)
