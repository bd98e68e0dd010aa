//! Printing a run: what `tracelab run` shows, and the *observable* part that equivalence
//! checking compares.
//!
//! Objects are named `obj1`, `obj2`... in the order they are first mentioned (inputs, events,
//! exit, then the heap reachable from them), so two runs that behave alike print alike even
//! though their objects sit at different addresses. The heap shows every object reachable from
//! the inputs and the exit: for objects the trace allocated, all their words; for objects of
//! unknown layout (inputs, `ConstPtr`s), the words the trace wrote.

use crate::heap::{ITEMS_OFFSET, LENGTH_OFFSET};
use crate::interp::{Exit, Machine, ObjKind, RtValue, Run};
use std::collections::{HashMap, VecDeque};
use std::fmt::Write;
use tracelab_ir::Type;

struct Namer<'a> {
    machine: &'a Machine,
    names: HashMap<u64, usize>,
    order: Vec<u64>,
}

impl Namer<'_> {
    fn value(&mut self, v: &RtValue) -> String {
        match v.ty {
            Type::Ref => self.reference(v.bits),
            Type::Float => format!("{:?}", f64::from_bits(v.bits)),
            _ => (v.bits as i64).to_string(),
        }
    }

    fn reference(&mut self, addr: u64) -> String {
        if addr == 0 {
            return "null".into();
        }
        match self.machine.object_at(addr) {
            Some((start, _)) => {
                let n = self.name(start);
                if start == addr { format!("obj{n}") } else { format!("obj{n}+{}", addr - start) }
            }
            None => format!("raw {addr:#x}"),
        }
    }

    fn name(&mut self, start: u64) -> usize {
        let next = self.names.len() + 1;
        *self.names.entry(start).or_insert_with(|| {
            self.order.push(start);
            next
        })
    }

    /// A word of memory: an object reference if it points at one, else an integer.
    fn word(&mut self, w: u64) -> String {
        match self.machine.object_at(w) {
            Some((start, _)) if w != 0 && start == w => self.reference(w),
            _ => (w as i64).to_string(),
        }
    }

    fn heap(&mut self, out: &mut String) {
        let mut queue: VecDeque<u64> = self.order.iter().copied().collect();
        let mut done = std::collections::HashSet::new();
        while let Some(start) = queue.pop_front() {
            if !done.insert(start) {
                continue;
            }
            let Some(info) = self.machine.objects.get(&start) else { continue };
            let n = self.name(start);
            let mut fields = Vec::new();
            let desc = match &info.kind {
                ObjKind::Lazy(_) => {
                    for (&off, &v) in &info.written {
                        fields.push(format!("+{off}: {}", self.word(v)));
                    }
                    "object of unknown layout".to_string()
                }
                ObjKind::Fresh { what, item } => {
                    match item {
                        Some((_, size)) => {
                            let len = self.machine.heap.read(start + LENGTH_OFFSET, 8).unwrap_or(0);
                            fields.push(format!("length: {len}"));
                            for i in 0..len {
                                let v = self.machine.heap.read(start + ITEMS_OFFSET + i * size, *size).unwrap_or(0);
                                fields.push(format!("[{i}]: {}", self.word(v)));
                            }
                        }
                        None => {
                            for off in (0..info.size).step_by(8) {
                                let v = self.machine.heap.read(start + off, 8).unwrap_or(0);
                                fields.push(format!("+{off}: {}", self.word(v)));
                            }
                        }
                    }
                    what.clone()
                }
            };
            let _ = writeln!(out, "  obj{n} = {desc} {{{}}}", fields.join(", "));
            // Objects reached through pointers the trace only read (invented ones) count too:
            // the trace may have written into them.
            if let ObjKind::Lazy(_) = info.kind {
                let mut offs: Vec<u64> = info.known.keys().copied().filter(|o| o % 8 == 0).collect();
                offs.sort();
                for off in offs {
                    let w = self.machine.heap.read(start + off, 8).unwrap_or(0);
                    if let Some((s, _)) = self.machine.object_at(w) {
                        if s == w && w != 0 {
                            self.name(s);
                        }
                    }
                }
            }
            for s in self.order.clone() {
                if !done.contains(&s) {
                    queue.push_back(s);
                }
            }
        }
    }
}

/// The part of a run that equivalence compares: inputs, calls, exit and values, heap.
pub fn observable(run: &Run) -> String {
    let mut n = Namer { machine: &run.machine, names: HashMap::new(), order: Vec::new() };
    let mut out = String::new();
    let inputs: Vec<String> = run.inputs.iter().map(|v| n.value(v)).collect();
    let _ = writeln!(out, "inputs: [{}]", inputs.join(", "));
    let _ = writeln!(out, "events:");
    for e in &run.events {
        let args: Vec<String> = e.args.iter().map(|v| n.value(v)).collect();
        let res = e.result.map(|r| format!(" -> {}", n.value(&r))).unwrap_or_default();
        let _ = writeln!(out, "  call {}({}){res}", e.target, args.join(", "));
    }
    match &run.exit {
        Exit::Finish(v) => {
            let _ = writeln!(out, "exit: finish({})", v.map(|v| n.value(&v)).unwrap_or_default());
        }
        Exit::GuardFailed { fail_args, frames, .. } => {
            let _ = writeln!(out, "exit: guard failed");
            match frames {
                Some(frames) => {
                    for f in frames {
                        let slots: Vec<String> = f.slots.iter().map(|s| s.map_or("None".into(), |v| n.value(&v))).collect();
                        let _ = writeln!(out, "  frame '{}' pc={}: [{}]", f.code, f.pc, slots.join(", "));
                    }
                }
                None => {
                    let fa: Vec<String> = fail_args.iter().map(|s| s.map_or("None".into(), |v| n.value(&v))).collect();
                    let _ = writeln!(out, "  fail args: [{}]", fa.join(", "));
                }
            }
        }
        Exit::OutOfFuel => {
            let _ = writeln!(out, "exit: out of fuel");
        }
        Exit::Trap(why) => {
            let _ = writeln!(out, "exit: trap: {why}");
        }
    }
    let _ = writeln!(out, "heap:");
    n.heap(&mut out);
    out
}

/// Everything `tracelab run` prints: where it stopped, how far it ran, then the observable part.
pub fn report(run: &Run) -> String {
    let mut out = String::new();
    if let Exit::GuardFailed { trace, op, guard_id, .. } = &run.exit {
        let id = guard_id.map(|g| format!(" <Guard{g:#x}>")).unwrap_or_default();
        let _ = writeln!(out, "stopped at guard{id}: trace `{trace}`, op {op}");
    }
    let _ = writeln!(out, "ran {} ops, {} loop iterations, {} calls", run.ops, run.iterations, run.events.len());
    out.push_str(&observable(run));
    out
}
