# Single inheritance: overriding, super() chains, class attributes, isinstance and issubclass.
class Animal:
    kingdom = "animalia"
    count = 0

    def __init__(self, name):
        self.name = name
        Animal.count += 1

    def speak(self):
        return "..."

    def describe(self):
        return f"{self.name} says {self.speak()}"

class Dog(Animal):
    def speak(self):
        return "woof"

class Puppy(Dog):
    def __init__(self, name, age):
        super().__init__(name)
        self.age = age

    def speak(self):
        return super().speak() + " (squeaky)"

class Cat(Animal):
    kingdom = "felis"

    def speak(self):
        return "meow"

pets = [Dog("rex"), Puppy("bit", 1), Cat("tom"), Animal("generic")]
for p in pets:
    print(p.describe(), type(p).__name__, p.kingdom)
print(Animal.count, Dog.count, isinstance(pets[1], Dog), isinstance(pets[1], Cat))
print(issubclass(Puppy, Animal), issubclass(Cat, Dog), issubclass(Dog, object), isinstance(3, object))
print(isinstance(pets[0], (Cat, Dog)), type(pets[1]) is Puppy, type(pets[1]) == Dog)
print(Puppy.__name__, Puppy.__bases__[0].__name__, Dog.__mro__[-1].__name__)

class Base:
    def __init__(self):
        self.log = ["Base"]

    def hook(self):
        return "base hook"

    def run(self):
        return self.hook()

class Middle(Base):
    def __init__(self):
        super().__init__()
        self.log.append("Middle")

class Leaf(Middle):
    def __init__(self):
        super().__init__()
        self.log.append("Leaf")

    def hook(self):
        return "leaf hook, then " + super().hook()

leaf = Leaf()
print(leaf.log, leaf.run(), Middle().run())
leaf.kingdom = "instance attr"
print(leaf.kingdom, hasattr(Leaf, "kingdom"))

class Counter:
    total = 0

    def add(self):
        self.total += 1
        return self.total

c1, c2 = Counter(), Counter()
c1.add(); c1.add()
print(c1.total, c2.total, Counter.total)
print(str(Dog)[:7], Dog.speak(pets[0]), Animal.describe(pets[2]))
