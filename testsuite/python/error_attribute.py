class Thing:
    pass

t = Thing()
t.present = 1
print(t.present)
print(t.absent)
