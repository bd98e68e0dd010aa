# Exception classes with inheritance, except tuples, args, re-raise, raise from, finally order.
class AppError(Exception):
    pass

class ConfigError(AppError):
    def __init__(self, key, reason="missing"):
        super().__init__(f"{key}: {reason}")
        self.key = key

class NetworkError(AppError):
    pass

def risky(kind):
    if kind == 1:
        raise ConfigError("port")
    if kind == 2:
        raise NetworkError("timeout", 30)
    if kind == 3:
        raise KeyError("k")
    if kind == 4:
        return 1 / 0
    return "fine"

for kind in range(5):
    try:
        print(risky(kind))
    except ConfigError as e:
        print("config", e, e.key, e.args)
    except (NetworkError, KeyError) as e:
        print("net or key", type(e).__name__, e.args, str(e))
    except ArithmeticError as e:
        print("arith", type(e).__name__, e)
    else:
        print("no error")
    finally:
        print("finally", kind)

def reraiser():
    try:
        risky(1)
    except AppError:
        print("logging and re-raising")
        raise

try:
    reraiser()
except Exception as e:
    print("outer caught", repr(e))

try:
    try:
        risky(3)
    except KeyError as e:
        raise AppError("wrapped") from e
except AppError as e:
    print(e, type(e.__cause__).__name__)

def finally_order():
    log = []
    try:
        try:
            log.append("try")
            raise ValueError("x")
        finally:
            log.append("inner finally")
    except ValueError:
        log.append("except")
    finally:
        log.append("outer finally")
    return log

print(finally_order())

def finally_overrides():
    try:
        return "try"
    finally:
        print("cleanup runs before return")

print(finally_overrides())
print(issubclass(ConfigError, Exception), issubclass(KeyError, LookupError), issubclass(ZeroDivisionError, ArithmeticError))
e = ValueError("a", 2)
print(e.args, str(e), repr(e), repr(ValueError()), str(ValueError("one")))
try:
    raise TypeError
except TypeError as e:
    print("bare class raised:", repr(e))
try:
    [][1]
except IndexError as e:
    print("IndexError:", e)
try:
    {}["nope"]
except LookupError as e:
    print("LookupError:", repr(e))
x = None
try:
    x.attr
except AttributeError as e:
    print("AttributeError:", e)
try:
    int("abc")
except ValueError as e:
    print("ValueError:", e)
