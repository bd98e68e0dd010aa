# minipy: NotImplementedError: minipy does not support the match statement
print("start")
match 1:
    case 1:
        print("one")
