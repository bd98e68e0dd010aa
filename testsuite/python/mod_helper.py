CONSTANT = "helper-constant"
def double(x):
    return x * 2
class Thing:
    def describe(self):
        return "a thing from " + __name__
