# Accounts with validation, a transaction log, custom exceptions and a summary.
class InsufficientFunds(Exception):
    def __init__(self, account, amount):
        super().__init__(f"{account.owner} cannot withdraw {amount}: balance {account.balance}")
        self.shortfall = amount - account.balance

class Account:
    next_id = 1000

    def __init__(self, owner, balance=0):
        self.id = Account.next_id
        Account.next_id += 1
        self.owner = owner
        self.balance = balance
        self.log = []

    def deposit(self, amount):
        if amount <= 0:
            raise ValueError("deposit must be positive")
        self.balance += amount
        self.log.append(("deposit", amount))

    def withdraw(self, amount):
        if amount > self.balance:
            raise InsufficientFunds(self, amount)
        self.balance -= amount
        self.log.append(("withdraw", amount))

    def __repr__(self):
        return f"Account({self.id}, {self.owner!r}, {self.balance})"

class Savings(Account):
    rate = 0.02

    def add_interest(self):
        interest = round(self.balance * self.rate, 2)
        self.deposit(interest)
        return interest

def transfer(src, dst, amount):
    src.withdraw(amount)
    dst.deposit(amount)

alice, bob = Account("alice", 100), Savings("bob", 250)
ops = [(transfer, alice, bob, 30), (transfer, bob, alice, 500), (Account.deposit, alice, -5), (transfer, bob, alice, 20)]
for op in ops:
    fn, args = op[0], op[1:]
    try:
        fn(*args)
        print("ok", fn.__name__, [a.owner if isinstance(a, Account) else a for a in args])
    except InsufficientFunds as e:
        print("refused:", e, "short by", e.shortfall)
    except ValueError as e:
        print("invalid:", e)
print(bob.add_interest(), alice, bob)
for acct in (alice, bob):
    print(acct.owner, acct.log, sum(a if k == "deposit" else -a for k, a in acct.log))
