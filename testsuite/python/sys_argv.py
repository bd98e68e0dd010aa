# sys.argv: the script path first, then the arguments; sys.exit with 0 ends quietly.
import sys

print(len(sys.argv), sys.argv[0].endswith("sys_argv.py"))
print(type(sys.argv[1]).__name__)
print(sys.maxsize, sys.version_info[0], sys.version_info >= (3, 8))
sys.stdout.write("written directly\n")
print(sys.getrecursionlimit() >= 1000)
sys.exit(0)
print("never printed")
