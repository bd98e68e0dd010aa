# A Richards-like scheduler: objects, method calls, attribute access, linked lists.
import sys
IDLE, WORKER, HANDLER_A, HANDLER_B, DEVICE_A, DEVICE_B = range(6)
class Packet:
    def __init__(self, link, ident, kind):
        self.link = link
        self.ident = ident
        self.kind = kind
        self.datum = 0
        self.data = [0] * 4
    def append_to(self, lst):
        self.link = None
        if lst is None:
            return self
        p = lst
        while p.link is not None:
            p = p.link
        p.link = self
        return lst
class Task:
    def __init__(self, sched, ident, priority, queue):
        self.sched = sched
        self.ident = ident
        self.priority = priority
        self.queue = queue
        self.held = False
        self.waiting = queue is not None
        self.runnable = queue is not None
        self.count = 0
    def take(self):
        if self.queue is None:
            return None
        p = self.queue
        self.queue = p.link
        self.waiting = self.queue is not None
        return p
class Idle(Task):
    def __init__(self, sched, ident, priority, count):
        Task.__init__(self, sched, ident, priority, None)
        self.control = 1
        self.left = count
        self.runnable = True
    def run(self, packet):
        self.left -= 1
        if self.left == 0:
            return None
        if self.control & 1 == 0:
            self.control //= 2
            return DEVICE_A
        self.control = (self.control // 2) ^ 0xD008
        return DEVICE_B
class Worker(Task):
    def __init__(self, sched, ident, priority, queue):
        Task.__init__(self, sched, ident, priority, queue)
        self.dest = HANDLER_A
        self.letter = 0
    def run(self, packet):
        if packet is None:
            self.waiting = True
            return None
        self.dest = HANDLER_B if self.dest == HANDLER_A else HANDLER_A
        packet.ident = self.dest
        packet.datum = 0
        for i in range(4):
            self.letter = (self.letter + 1) % 26
            packet.data[i] = self.letter
        self.sched.send(packet)
        return None
class Handler(Task):
    def __init__(self, sched, ident, priority, queue):
        Task.__init__(self, sched, ident, priority, queue)
        self.work = None
        self.devices = None
    def run(self, packet):
        if packet is not None:
            if packet.kind == 1:
                self.work = packet.append_to(self.work)
            else:
                self.devices = packet.append_to(self.devices)
        if self.work is not None:
            w = self.work
            count = w.datum
            if count < 4:
                if self.devices is not None:
                    d = self.devices
                    self.devices = d.link
                    d.datum = w.data[count]
                    w.datum = count + 1
                    self.sched.send(d)
                    return None
            else:
                self.work = w.link
                self.sched.send(w)
                return None
        self.waiting = True
        return None
class Device(Task):
    def __init__(self, sched, ident, priority):
        Task.__init__(self, sched, ident, priority, None)
        self.pending = None
    def run(self, packet):
        if packet is None:
            if self.pending is None:
                self.waiting = True
                return None
            p = self.pending
            self.pending = None
            self.sched.send(p)
            return None
        self.pending = packet
        self.sched.holds += 1
        return None
class Scheduler:
    def __init__(self):
        self.tasks = {}
        self.holds = 0
        self.sent = 0
    def send(self, packet):
        self.sent += 1
        t = self.tasks[packet.ident]
        t.queue = packet.append_to(t.queue)
        t.waiting = False
    def run(self, n):
        steps = 0
        while steps < n:
            progressed = False
            for ident in sorted(self.tasks, key=lambda i: -self.tasks[i].priority):
                t = self.tasks[ident]
                if t.waiting and t.queue is None and not isinstance(t, Idle):
                    continue
                packet = t.take() if not isinstance(t, Idle) else None
                nxt = t.run(packet)
                t.count += 1
                steps += 1
                progressed = True
                if nxt is not None and self.tasks[nxt].waiting:
                    self.tasks[nxt].waiting = False
            if not progressed:
                break
        return steps
def build(count):
    s = Scheduler()
    s.tasks[IDLE] = Idle(s, IDLE, 0, count)
    wq = Packet(None, WORKER, 1).append_to(Packet(None, WORKER, 1))
    s.tasks[WORKER] = Worker(s, WORKER, 1000, wq)
    q = None
    for _ in range(3):
        q = Packet(None, DEVICE_A, 0).append_to(q)
    s.tasks[HANDLER_A] = Handler(s, HANDLER_A, 2000, q)
    q = None
    for _ in range(3):
        q = Packet(None, DEVICE_B, 0).append_to(q)
    s.tasks[HANDLER_B] = Handler(s, HANDLER_B, 3000, q)
    s.tasks[DEVICE_A] = Device(s, DEVICE_A, 4000)
    s.tasks[DEVICE_B] = Device(s, DEVICE_B, 5000)
    return s
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
s = build(n)
steps = s.run(n * 5)
print(steps, s.sent, s.holds, sorted((i, t.count) for i, t in s.tasks.items()))
