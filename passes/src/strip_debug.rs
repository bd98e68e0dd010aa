//! `strip-debug`: removes the markers that exist only for people and tools:
//! `debug_merge_point`, `jit_debug`, `enter_portal_frame` and `leave_portal_frame`.
//!
//! They generate no code and constrain nothing, so removing them never changes behaviour; what
//! is lost is the mapping back to interpreter positions in printed traces. Other markers
//! (`keepalive`, `quasiimmut_field`, `assert_not_none`, `record_exact_class`...) carry facts an
//! optimizer uses and are kept.

use crate::{edit_traces, Pass, PassContext};
use tracelab_ir::cursor::Cursor;
use tracelab_ir::{Module, Opcode};

pub struct StripDebug;

pub fn is_debug_marker(op: Opcode) -> bool {
    matches!(op, Opcode::DebugMergePoint | Opcode::JitDebug | Opcode::EnterPortalFrame | Opcode::LeavePortalFrame)
}

impl Pass for StripDebug {
    fn run(&self, m: &mut Module, cx: &mut PassContext) {
        edit_traces(m, |_, t| {
            let mut cur = Cursor::new(t);
            let mut removed = 0;
            while cur.next_op().is_some() {
                if is_debug_marker(cur.op().opcode) {
                    removed += 1;
                    cur.remove();
                }
            }
            cx.stats.add("markers removed", removed);
        });
    }
}
