# minipy: NotImplementedError: minipy does not support bytes literals
data = b"raw"
print(data)
