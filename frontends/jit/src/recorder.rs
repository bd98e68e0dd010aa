//! Building a loop trace while the interpreter runs: the IR half of a recording context.
//!
//! An interpreter's recording context executes each operation concretely and calls
//! [`Recorder::op`] with the IR values standing for its operands; each branch it takes on a
//! traced value becomes [`Recorder::guard`] with the resume data of every interpreter frame
//! live there. A loop starts at a `label` over the values live at the merge point and closes
//! with a `jump` back to it; a bridge starts from a guard's fail args and jumps to a loop's
//! label. The fail args of a guard are derived from its resume data, so the verifier's
//! invariant (every non-constant value the resume data names is a fail arg) holds by
//! construction. The recorder counts ops against the trace limit.

use crate::driver::AbortReason;
use tracelab_ir::resume::{GuardInfo, Resume, ResumeValue};
use tracelab_ir::trace::{LabelInfo, OpExtra, TraceKind, Virtualizable};
use tracelab_ir::{Const, Diagnostic, DescrId, Module, Op, Opcode, Target, Trace, Type, Value};

/// A loop or bridge under construction.
#[derive(Debug)]
pub struct Recorder {
    module: Module,
    trace: Trace,
    /// The label the trace's own loop starts at (`None` for a bridge).
    token: Option<Target>,
    next_guard: u64,
    ops: usize,
    limit: usize,
}

impl Recorder {
    /// Starts a loop named `name` over values of `types` live at the merge point; returns the
    /// recorder and the label's parameters (the values the body reads). `token` names the
    /// label, so that bridges can later jump to it; `limit` is the trace limit in ops.
    /// `module` holds the descrs the interpreter declares (it may be empty); the loop joins it.
    pub fn start_loop(module: Module, name: &str, token: u64, types: &[Type], limit: usize) -> (Recorder, Vec<Value>) {
        let mut trace = Trace::new(name, TraceKind::Loop);
        let inputs: Vec<Value> = types.iter().map(|&t| trace.add_input(t, None)).collect();
        let token = Target::Token(token);
        let label = Op::new(Opcode::Label, &inputs).with_extra(OpExtra::Label(Box::new(LabelInfo { token, params: vec![] })));
        let label = trace.push_op(label, None);
        let params = types.iter().map(|&t| trace.add_label_param(label, t, None)).collect();
        let next_guard = max_guard_id(&module) + 1;
        let recorder = Recorder { module, trace, token: Some(token), next_guard, ops: 0, limit };
        (recorder, params)
    }

    /// Starts a bridge from guard `guard` of a trace in `module` (which the bridge joins):
    /// its inputs have the types of the guard's fail args. Returns the recorder and the inputs.
    /// Guard ids continue after the largest id in `module`.
    pub fn start_bridge(module: Module, guard: u64, types: &[Type], limit: usize) -> (Recorder, Vec<Value>) {
        let mut trace = Trace::new(format!("bridge{guard}"), TraceKind::Bridge { guard });
        let inputs = types.iter().map(|&t| trace.add_input(t, None)).collect();
        let next_guard = max_guard_id(&module) + 1;
        (Recorder { module, trace, token: None, next_guard, ops: 0, limit }, inputs)
    }

    /// Makes guard ids start at `id` at least (so that an interpreter's traces, recorded into
    /// separate modules, name their guards apart).
    pub fn first_guard_id(&mut self, id: u64) {
        self.next_guard = self.next_guard.max(id);
    }

    /// The id the next guard gets.
    pub fn next_guard_id(&self) -> u64 {
        self.next_guard
    }

    /// The module the trace goes into, for interning the descrs ops name.
    pub fn module_mut(&mut self) -> &mut Module {
        &mut self.module
    }

    /// Declares which input is the interpreter's frame and what of it the JIT owns (the
    /// `virtualizable` header the `virtualize` pass reads).
    pub fn set_virtualizable(&mut self, vable: Virtualizable) {
        self.trace.vable = Some(vable);
    }

    /// The trace's inputs (a loop's label receives them as its arguments).
    pub fn inputs(&self) -> &[Value] {
        &self.trace.inputs
    }

    pub fn constant(&mut self, c: Const) -> Value {
        self.trace.constant(c)
    }

    pub fn is_const(&self, v: Value) -> bool {
        self.trace.is_const(v)
    }

    pub fn ty(&self, v: Value) -> Type {
        self.trace.ty(v)
    }

    /// Ops recorded so far (not counting the label).
    pub fn len(&self) -> usize {
        self.ops
    }

    pub fn is_empty(&self) -> bool {
        self.ops == 0
    }

    /// Appends an op that is not a guard; returns its result, if its opcode has one.
    pub fn op(&mut self, opcode: Opcode, args: &[Value], descr: Option<DescrId>) -> Result<Option<Value>, AbortReason> {
        self.count()?;
        let mut op = Op::new(opcode, args);
        op.descr = descr;
        let id = self.trace.push_op(op, None);
        Ok(self.trace.ops[id].result)
    }

    /// Appends a guard whose failure hands the interpreter back the state `resume` describes.
    pub fn guard(&mut self, opcode: Opcode, args: &[Value], resume: Resume) -> Result<(), AbortReason> {
        self.count()?;
        let mut fail_args: Vec<Option<Value>> = Vec::new();
        for rv in resume.values() {
            if let ResumeValue::Value(v) = rv {
                if !self.trace.is_const(v) && !fail_args.contains(&Some(v)) {
                    fail_args.push(Some(v));
                }
            }
        }
        let info = GuardInfo { id: Some(self.next_guard), fail_args, resume: Some(resume) };
        self.next_guard += 1;
        let op = Op::new(opcode, args).with_extra(OpExtra::Guard(std::sync::Arc::new(info)));
        self.trace.push_op(op, None);
        Ok(())
    }

    /// A `debug_merge_point` naming where the interpreter is (source line and bytecode); it is
    /// not counted against the trace limit.
    pub fn debug_merge_point(&mut self, text: &str) {
        let op = Op::new(Opcode::DebugMergePoint, &[]).with_extra(OpExtra::Text(text.into()));
        self.trace.push_op(op, None);
    }

    /// Closes the loop with a jump to its label carrying `args` (one per label parameter) and
    /// returns the module holding it, verified.
    /// A bridge has no label of its own: closing one as a loop is an error, not a jump to its
    /// own start.
    pub fn close_loop(self, args: &[Value]) -> Result<Module, Vec<Diagnostic>> {
        let Some(token) = self.token else {
            return Err(vec![Diagnostic::new(tracelab_ir::trace::Span::NONE, "a bridge closes with close_bridge, to a loop's label")]);
        };
        self.close(args, token)
    }

    /// Ends a bridge with a jump to the label `token` of a loop in the module, carrying `args`
    /// (one per label parameter), and returns the module with the bridge added, verified.
    pub fn close_bridge(self, args: &[Value], token: u64) -> Result<Module, Vec<Diagnostic>> {
        self.close(args, Target::Token(token))
    }

    /// Ends the trace with `finish(args)`: it leads out of compiled code (a bridge or a trace
    /// that reached another loop's header), and returns the module holding it, verified.
    /// A loop that ends this way never jumps to its label: the label goes, its parameters
    /// replaced by the values it was given.
    pub fn close_finish(mut self, args: &[Value]) -> Result<Module, Vec<Diagnostic>> {
        self.trace.push_op(Op::new(Opcode::Finish, args), None);
        self.drop_label();
        self.module.traces.push(self.trace);
        tracelab_ir::verify(&self.module)?;
        Ok(self.module)
    }

    fn drop_label(&mut self) {
        let mut cursor = tracelab_ir::cursor::Cursor::new(&mut self.trace);
        while cursor.next_op().is_some() {
            let Some(info) = cursor.op().label() else { continue };
            let pairs: Vec<(Value, Value)> = info.params.iter().copied().zip(cursor.op().args.iter().copied()).collect();
            for (param, arg) in pairs {
                cursor.replace_uses(param, arg);
            }
            cursor.remove();
        }
        cursor.finish();
    }

    fn close(mut self, args: &[Value], target: Target) -> Result<Module, Vec<Diagnostic>> {
        let jump = Op::new(Opcode::Jump, args).with_extra(OpExtra::Jump(target));
        self.trace.push_op(jump, None);
        self.module.traces.push(self.trace);
        tracelab_ir::verify(&self.module)?;
        Ok(self.module)
    }

    fn count(&mut self) -> Result<(), AbortReason> {
        self.ops += 1;
        if self.ops > self.limit {
            return Err(AbortReason::TooLong);
        }
        Ok(())
    }
}

/// The largest guard id in `m` (0 if none), so that new guards get fresh ids.
fn max_guard_id(m: &Module) -> u64 {
    let guards = m.traces.values().flat_map(|t| t.ops.iter().filter_map(|(_, op)| op.guard()));
    guards.filter_map(|g| g.id).max().unwrap_or(0)
}

#[cfg(test)]
mod tests;
