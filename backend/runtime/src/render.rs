//! Printing a run: what `tracelab run` shows, and the *observable* part that equivalence
//! checking compares.
//!
//! Objects of unknown layout (inputs, `ConstPtr`s, what they point to) are named by where they
//! come from (`in0`, `in0.56`, `ptr13`); objects the trace allocated are named `obj1`, `obj2`...
//! in the order they are first mentioned (inputs, events, exit, then the heap). So two runs that
//! behave alike print alike, though their objects sit at different addresses and though one may
//! have read memory the other did not. The heap shows the objects of unknown layout the trace
//! wrote into (the words written, except those written back with the value they had), and every
//! allocated object reachable from what was shown (all its words).

use crate::heap::{ITEMS_OFFSET, LENGTH_OFFSET};
use crate::interp::{Exit, RtValue, Run};
use crate::machine::{Machine, ObjKind};
use crate::model::Origin;
use std::collections::HashMap;
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
            Some((start, info)) => {
                let name = match &info.kind {
                    ObjKind::Lazy(origin) => origin_name(origin),
                    ObjKind::Fresh { .. } => format!("obj{}", self.name(start)),
                };
                if start == addr { name } else { format!("{name}+{}", addr - start) }
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
        // Objects of unknown layout that the trace wrote into, by name.
        let mut lazy: Vec<(String, u64)> = self
            .machine
            .objects
            .iter()
            .filter_map(|(start, info)| match &info.kind {
                ObjKind::Lazy(o) if !info.written.is_empty() => Some((origin_name(o), start)),
                _ => None,
            })
            .collect();
        lazy.sort();
        for (name, start) in lazy {
            let info = self.machine.objects.get(start).expect("listed above");
            // A word written back with the value it had (`x.8` into x at +8) is not a change.
            let fields: Vec<String> = info
                .written
                .iter()
                .map(|(&off, &v)| (off, self.word(v)))
                .filter(|(off, w)| *w != format!("{name}.{off}"))
                .map(|(off, w)| format!("+{off}: {w}"))
                .collect();
            if fields.is_empty() {
                continue;
            }
            let _ = writeln!(out, "  {name} = object of unknown layout {{{}}}", fields.join(", "));
        }
        // Allocated objects, in the order they were first mentioned (printing one may mention more).
        let mut i = 0;
        while i < self.order.len() {
            let start = self.order[i];
            i += 1;
            let Some(info) = self.machine.objects.get(start) else { continue };
            let ObjKind::Fresh { what, item } = &info.kind else { continue };
            let mut fields = Vec::new();
            match item {
                Some((_, size)) => {
                    let len = self.machine.heap.read(start + LENGTH_OFFSET, 8).unwrap_or(0);
                    fields.push(format!("length: {len}"));
                    // The items the object holds, whatever its length word says.
                    let room = info.size.saturating_sub(ITEMS_OFFSET) / (*size).max(1);
                    for k in 0..len.min(room) {
                        let v = self.machine.heap.read(start + ITEMS_OFFSET + k * size, *size).unwrap_or(0);
                        fields.push(format!("[{k}]: {}", self.word(v)));
                    }
                }
                None => {
                    for off in (0..info.size).step_by(8) {
                        let v = self.machine.heap.read(start + off, 8).unwrap_or(0);
                        fields.push(format!("+{off}: {}", self.word(v)));
                    }
                }
            }
            let n = self.names[&start];
            let _ = writeln!(out, "  obj{n} = {what} {{{}}}", fields.join(", "));
        }
    }
}

/// A stable name for an object of unknown layout: where it came from.
fn origin_name(o: &Origin) -> String {
    match o {
        Origin::Input(k) => format!("in{k}"),
        Origin::Const(name) => name.clone(),
        Origin::Word(parent, off, 0) => format!("{}.{off}", origin_name(parent)),
        Origin::Word(parent, off, epoch) => format!("{}.{off}'{epoch}", origin_name(parent)),
        Origin::Clobbered(call, arg) => format!("call{call}.arg{arg}"),
        Origin::Result(key) => format!("result{:x}", key & 0xffff_ffff),
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
                        // A frame without a code is a guard's fail args kept as resume data
                        // (`virtualize` does this for guards that had none): shown as fail args.
                        if f.code.is_empty() {
                            let _ = writeln!(out, "  fail args: [{}]", slots.join(", "));
                        } else {
                            let _ = writeln!(out, "  frame '{}' pc={}: [{}]", f.code, f.pc, slots.join(", "));
                        }
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
