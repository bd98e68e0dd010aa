# io.StringIO as an in-memory text file, and print(file=...).
import io

buf = io.StringIO()
buf.write("hello ")
buf.write("world\n")
print("line two", file=buf)
print(1, 2, 3, sep="-", end="!\n", file=buf)
text = buf.getvalue()
print(repr(text))
reader = io.StringIO("alpha\nbeta\ngamma\n")
print(repr(reader.readline()), repr(reader.read()))
reader = io.StringIO("a\nb\nc")
for line in reader:
    print("got", line.rstrip())
print(io.StringIO("x\ny\n").readlines())
out = io.StringIO()
for i in range(3):
    out.write(str(i) * (i + 1))
print(out.getvalue(), len(out.getvalue()))
