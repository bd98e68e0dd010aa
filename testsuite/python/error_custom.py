class BadInput(ValueError):
    pass
print("start")
raise BadInput("the input was bad")
