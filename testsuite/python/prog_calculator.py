# A tokenizer and recursive-descent parser for arithmetic with variables, and its errors.
class ParseError(Exception):
    pass

def tokenize(src):
    tokens, i = [], 0
    while i < len(src):
        c = src[i]
        if c.isspace():
            i += 1
        elif c.isdigit() or c == ".":
            j = i
            while j < len(src) and (src[j].isdigit() or src[j] == "."):
                j += 1
            text = src[i:j]
            tokens.append(("num", float(text) if "." in text else int(text)))
            i = j
        elif c.isalpha() or c == "_":
            j = i
            while j < len(src) and (src[j].isalnum() or src[j] == "_"):
                j += 1
            tokens.append(("name", src[i:j]))
            i = j
        elif c in "+-*/%^()=":
            tokens.append(("op", c))
            i += 1
        else:
            raise ParseError(f"unexpected character {c!r} at {i}")
    tokens.append(("end", None))
    return tokens

class Parser:
    def __init__(self, tokens, env):
        self.tokens, self.pos, self.env = tokens, 0, env

    def peek(self):
        return self.tokens[self.pos]

    def take(self, kind=None, value=None):
        tok = self.tokens[self.pos]
        if (kind and tok[0] != kind) or (value and tok[1] != value):
            raise ParseError(f"expected {value or kind}, got {tok[1]!r}")
        self.pos += 1
        return tok

    def statement(self):
        if self.peek()[0] == "name" and self.tokens[self.pos + 1] == ("op", "="):
            name = self.take("name")[1]
            self.take("op", "=")
            self.env[name] = self.expr()
            return self.env[name]
        return self.expr()

    def expr(self):
        v = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            v = v + self.term() if op == "+" else v - self.term()
        return v

    def term(self):
        v = self.power()
        while self.peek()[0] == "op" and self.peek()[1] in "*/%":
            op = self.take()[1]
            rhs = self.power()
            if op == "*":
                v *= rhs
            elif op == "/":
                v /= rhs
            else:
                v %= rhs
        return v

    def power(self):
        base = self.unary()
        if self.peek() == ("op", "^"):
            self.take()
            return base ** self.power()
        return base

    def unary(self):
        if self.peek() == ("op", "-"):
            self.take()
            return -self.unary()
        return self.atom()

    def atom(self):
        kind, value = self.peek()
        if kind == "num":
            self.take()
            return value
        if kind == "name":
            self.take()
            if value not in self.env:
                raise ParseError(f"unknown variable {value}")
            return self.env[value]
        self.take("op", "(")
        v = self.expr()
        self.take("op", ")")
        return v

env = {}
for line in ["1 + 2 * 3", "(1 + 2) * 3", "x = 2 ^ 3 ^ 2", "x / 7", "y = -x % 10", "2 ^ 100",
             "1.5 * 4", "z + 1", "3 $ 4", "(1 + 2", "10 / 0"]:
    try:
        print(f"{line:>12} => {Parser(tokenize(line), env).statement()}")
    except ParseError as e:
        print(f"{line:>12} => parse error: {e}")
    except ZeroDivisionError as e:
        print(f"{line:>12} => {type(e).__name__}: {e}")
print(sorted(env.items()))
