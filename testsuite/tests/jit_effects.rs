//! What the effect info of minipy's runtime helpers is worth on its own traces: a loop is
//! recorded by the JIT, then optimized with `-O` twice, once as recorded (each helper call's
//! descr states what it reads and writes, `frontends/minipy/src/effects.rs`) and once with
//! that stripped (the conservative answer PyPy's logs leave us: any call may write anything).
//! The stated info must let the heap optimizations keep loads across the calls that cannot
//! touch them.

use tracelab_ir::{Module, Opcode};

/// An object's attribute read and written around a `list.append` in a hot loop: the append
/// may write a list's fields and items, not the instance's map or storage pointer.
const PROGRAM: &str = "
class Acc:
    def __init__(self):
        self.n = 0
        self.items = []

def run(a, n):
    for i in range(n):
        a.items.append(i)
        a.n = a.n + 1
    return a.n

print(run(Acc(), 3000))
";

/// The loops as the JIT recorded them (the log's traces not named `_opt`).
fn recorded_loops() -> String {
    let dir = std::env::temp_dir().join(format!("tracelab-jit-effects-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let log = dir.join("log.trace");
    let jit = tracelab_minipy::jit::JitOptions { params: tracelab_jit::JitParams::with_threshold(10), ..Default::default() };
    let options = tracelab_minipy::RunOptions { gc: Default::default(), gc_stats: false, capture: true, jit: Some(jit), jit_stats: false, jit_log: Some(log.clone()) };
    let outcome = tracelab_minipy::run_main(PROGRAM, "effects.py", vec!["effects.py".into()], dir.clone(), &options);
    assert_eq!(outcome.stdout, "3000\n", "{}", outcome.stderr);
    let text = std::fs::read_to_string(&log).expect("the log");
    let _ = std::fs::remove_dir_all(&dir);
    text
}

/// Loads (`getfield_gc_*`, `getarrayitem_gc_*`) left in the loop bodies after `-O`.
fn loads_after_o(text: &str) -> usize {
    let mut m: Module = tracelab_ir::parse(&without_optimized(text)).expect("the log parses");
    assert!(!m.traces.is_empty(), "no loop recorded:\n{text}");
    let steps: Vec<_> = tracelab_passes::DEFAULT_PIPELINE.iter().map(|p| tracelab_passes::manager::Step::new(p)).collect();
    let opts = tracelab_passes::manager::Options { verify_each: true, ..Default::default() };
    tracelab_passes::manager::run(&mut m, &steps, &opts).expect("-O");
    let is_load = |o: Opcode| matches!(o, Opcode::GetfieldGcI | Opcode::GetfieldGcR | Opcode::GetfieldGcF | Opcode::GetarrayitemGcI | Opcode::GetarrayitemGcR | Opcode::GetarrayitemGcF);
    m.traces.values().map(|t| t.ops.values().skip_while(|o| o.opcode != Opcode::Label).filter(|o| is_load(o.opcode)).count()).sum()
}

/// The log without the traces as the JIT optimized them (`NAME_opt`, up to their closing `}`).
fn without_optimized(text: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        let head = line.split(" [").next().unwrap_or("");
        if (line.starts_with("loop ") || line.starts_with("bridge ")) && head.split_whitespace().nth(1).is_some_and(|n| n.ends_with("_opt")) {
            skipping = true;
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
        if skipping && line == "}" {
            skipping = false;
        }
    }
    out
}

/// The same text with every call descr's stated effects removed.
fn without_effect_info(text: &str) -> String {
    let strip = |line: &str| -> String {
        if !line.starts_with("descr minipy.call.") {
            return line.to_string();
        }
        let mut out = line.to_string();
        for key in [" reads=(", " writes=("] {
            while let Some(at) = out.find(key) {
                let end = out[at..].find(')').map_or(out.len(), |e| at + e + 1);
                out.replace_range(at..end, "");
            }
        }
        out.replace(" collects=0", "").replace(" invalidates=0", "")
    };
    text.lines().map(strip).collect::<Vec<_>>().join("\n")
}

#[test]
fn stated_effects_keep_loads_across_calls_that_cannot_touch_them() {
    let text = recorded_loops();
    let stripped = without_effect_info(&text);
    assert_ne!(stripped, text, "the log's call descrs state effects");
    let (with_info, without) = (loads_after_o(&text), loads_after_o(&stripped));
    eprintln!("loads left in loop bodies after -O: {with_info} with minipy's effect info, {without} without");
    assert!(with_info < without, "effect info kept no load: {with_info} with, {without} without");
}
