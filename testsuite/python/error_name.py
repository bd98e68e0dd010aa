def g():
    return undefined_name + 1

g()
