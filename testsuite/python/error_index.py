def last(items):
    return items[len(items)]

print(last([1, 2, 3]))
