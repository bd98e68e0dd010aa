//! Heap ops on the runtime heap's layout, straight to memory where the heap's shadow says the
//! interpreter would do the same (see `runtime::heap`'s `SHADOW_*`):
//! - field loads (`getfield_gc_*`, pure or not) at the descr's offset and size, sign- or
//!   zero-extended as the descr says, when the word's value is defined (an allocated object, or
//!   a word of an object of unknown layout already read or written);
//! - field stores into objects the trace allocated;
//! - array length, item loads and stores of arrays the trace allocated with items of the
//!   access's size: length word at 8, unsigned bounds check, items from 16; strings and
//!   unicode strings the same way (unsigned items of 1 and 4 bytes), and fields of array items
//!   (`getinteriorfield_gc_*`, `setinteriorfield_gc`) at the item's address plus the field's
//!   offset.
//!
//! Anything else (a word of unknown layout read for the first time, a store the runtime must
//! record, an index out of bounds, null) takes the slow path: the runtime's own op, which
//! invents, records or traps as the interpreter does. Both paths meet in one block.

use super::{Lower, TRUSTED};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{self, types, Block, BlockArg, InstBuilder};
use tracelab_ir::descr::{DescrData, MemKind};
use tracelab_ir::{Op, Opcode, Type};
use tracelab_runtime::heap::{array_length_mark, ITEMS_OFFSET, LENGTH_OFFSET, SHADOW_READ, SHADOW_READ_WRITE};
use tracelab_runtime::interp::field_size;

/// The item size of an interior field's array, when the field lies inside one item (else the
/// runtime's op, which reads wherever the offset lands).
fn interior_stride(idd: &tracelab_ir::descr::InteriorDescr) -> Option<u64> {
    let stride = idd.array.as_ref()?.item_size as u64;
    (idd.field.offset as u64 + field_size(&idd.field) <= stride).then_some(stride)
}

/// The item size of a string op's string: bytes for `str`, 4 for `unicode`.
fn char_width(o: Opcode) -> u64 {
    if matches!(o, Opcode::Strgetitem | Opcode::Strsetitem | Opcode::Strlen) {
        1
    } else {
        4
    }
}

/// How a heap access reads or writes memory.
#[derive(Copy, Clone)]
struct Access {
    size: u64,
    signed: bool,
    ty: Type,
}

impl Lower<'_, '_> {
    /// Lowers `op` if it is a heap op handled here; false otherwise.
    pub(super) fn memory(&mut self, pc: usize, op: &Op) -> bool {
        use Opcode::*;
        let descr = op.descr.map(|d| &self.m.descrs[d].data);
        let rty = op.opcode.result_type();
        match (op.opcode, descr) {
            (GetfieldGcI | GetfieldGcR | GetfieldGcF | GetfieldGcPureI | GetfieldGcPureR | GetfieldGcPureF, Some(DescrData::Field(fd))) => {
                let acc = Access { size: field_size(fd), signed: fd.kind == MemKind::Signed, ty: rty };
                let offset = fd.offset as i64;
                if !colour_tells(offset, acc.size) {
                    return false;
                }
                self.with_fast_path(pc, op, |l, slow| {
                    let p = l.get_int(op.args[0]);
                    let addr = l.b.ins().iadd_imm_s(p, offset);
                    l.require_shadow(addr, IntCC::UnsignedGreaterThanOrEqual, SHADOW_READ, slow);
                    l.require_same_object(p, addr, acc.size, slow);
                    Some(l.load_mem(addr, acc))
                });
            }
            (SetfieldGc, Some(DescrData::Field(fd))) => {
                let size = field_size(fd);
                let offset = fd.offset as i64;
                if !colour_tells(offset, size) {
                    return false;
                }
                self.with_fast_path(pc, op, |l, slow| {
                    let p = l.get_int(op.args[0]);
                    let addr = l.b.ins().iadd_imm_s(p, offset);
                    // Exactly: an array's length word goes through the runtime, which keeps its
                    // mark true.
                    l.require_shadow(addr, IntCC::Equal, SHADOW_READ_WRITE, slow);
                    l.require_same_object(p, addr, size, slow);
                    let v = l.get(op.args[1]);
                    l.store_mem(addr, v, size);
                    None
                });
            }
            (GetarrayitemGcI | GetarrayitemGcR | GetarrayitemGcF | GetarrayitemGcPureI | GetarrayitemGcPureR | GetarrayitemGcPureF, Some(DescrData::Array(ad))) => {
                let acc = Access { size: ad.item_size as u64, signed: ad.kind == MemKind::Signed, ty: rty };
                self.with_fast_path(pc, op, |l, slow| {
                    let addr = l.item_address(op, acc.size, slow);
                    Some(l.load_mem(addr, acc))
                });
            }
            (SetarrayitemGc, Some(DescrData::Array(ad))) => {
                let size = ad.item_size as u64;
                self.with_fast_path(pc, op, |l, slow| {
                    let addr = l.item_address(op, size, slow);
                    let v = l.get(op.args[2]);
                    l.store_mem(addr, v, size);
                    None
                });
            }
            (ArraylenGc, Some(DescrData::Array(ad))) => {
                let size = ad.item_size as u64;
                self.with_fast_path(pc, op, |l, slow| Some(l.array_length(op, size, slow)));
            }
            // An item's field: within the item, or the interpreter may read another object.
            (GetinteriorfieldGcI | GetinteriorfieldGcR | GetinteriorfieldGcF, Some(DescrData::Interior(idd))) => {
                let Some(stride) = interior_stride(idd) else { return false };
                let acc = Access { size: field_size(&idd.field), signed: idd.field.kind == MemKind::Signed, ty: rty };
                let offset = idd.field.offset as i64;
                self.with_fast_path(pc, op, |l, slow| {
                    let item = l.item_address(op, stride, slow);
                    let addr = l.b.ins().iadd_imm_s(item, offset);
                    Some(l.load_mem(addr, acc))
                });
            }
            (SetinteriorfieldGc, Some(DescrData::Interior(idd))) => {
                let Some(stride) = interior_stride(idd) else { return false };
                let (size, offset) = (field_size(&idd.field), idd.field.offset as i64);
                self.with_fast_path(pc, op, |l, slow| {
                    let item = l.item_address(op, stride, slow);
                    let addr = l.b.ins().iadd_imm_s(item, offset);
                    let v = l.get(op.args[2]);
                    l.store_mem(addr, v, size);
                    None
                });
            }
            // Strings are arrays of unsigned 1-byte (4-byte for unicode) items.
            (Strgetitem | Unicodegetitem, _) => {
                let acc = Access { size: char_width(op.opcode), signed: false, ty: Type::Int };
                self.with_fast_path(pc, op, |l, slow| {
                    let addr = l.item_address(op, acc.size, slow);
                    Some(l.load_mem(addr, acc))
                });
            }
            (Strsetitem | Unicodesetitem, _) => {
                let size = char_width(op.opcode);
                self.with_fast_path(pc, op, |l, slow| {
                    let addr = l.item_address(op, size, slow);
                    let v = l.get(op.args[2]);
                    l.store_mem(addr, v, size);
                    None
                });
            }
            (Strlen | Unicodelen, _) => {
                let size = char_width(op.opcode);
                self.with_fast_path(pc, op, |l, slow| Some(l.array_length(op, size, slow)));
            }
            _ => return false,
        }
        true
    }

    /// Emits `fast` (which branches to the block it is given when memory cannot be used), the
    /// runtime's op as the slow path, and the block where they meet with the result.
    fn with_fast_path(&mut self, pc: usize, op: &Op, fast: impl FnOnce(&mut Self, Block) -> Option<ir::Value>) {
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let join = self.b.create_block();
        let result_ty = op.result.and_then(|r| super::clif_type(self.t.ty(r)));
        if let Some(ty) = result_ty {
            self.b.append_block_param(join, ty);
        }
        let v = fast(self, slow);
        let args: Vec<BlockArg> = v.map(|v| self.coerce(v, result_ty)).into_iter().map(BlockArg::from).collect();
        self.b.ins().jump(join, &args);
        self.b.switch_to_block(slow);
        self.b.seal_block(slow);
        let r = self.runtime_call(pc, op);
        let args: Vec<BlockArg> = r.map(|v| self.coerce(v, result_ty)).into_iter().map(BlockArg::from).collect();
        self.b.ins().jump(join, &args);
        self.b.switch_to_block(join);
        self.b.seal_block(join);
        if let (Some(res), Some(_)) = (op.result, result_ty) {
            let x = self.b.block_params(join)[0];
            self.def(res, x);
        }
    }

    fn coerce(&mut self, v: ir::Value, want: Option<ir::Type>) -> ir::Value {
        match want {
            Some(ty) => self.bitcast_to(v, ty),
            None => v,
        }
    }

    /// `addr`'s offset in the heap, continuing only if it is in an allocated part.
    fn heap_offset(&mut self, addr: ir::Value, slow: Block) -> ir::Value {
        let [base, limit, _, _] = self.heap;
        let k = self.b.ins().isub(addr, base);
        // Allocation moves the limit: read it at each access.
        let len = self.b.ins().load(types::I64, TRUSTED, limit, 0);
        let inside = self.b.ins().icmp(IntCC::UnsignedLessThan, k, len);
        self.continue_if(inside, slow);
        k
    }

    /// Continues only if the shadow mark of the access starting at `addr` compares `cc` with
    /// `state`.
    fn require_shadow(&mut self, addr: ir::Value, cc: IntCC, state: u8, slow: Block) {
        let k = self.heap_offset(addr, slow);
        let at = self.b.ins().iadd(self.heap[2], k);
        let mark = self.b.ins().uload8(types::I64, TRUSTED, at, 0);
        let ok = self.b.ins().icmp_imm_u(cc, mark, state as i64);
        self.continue_if(ok, slow);
    }

    /// Continues only if the `size` bytes at `addr` lie in the object `p` points into: `p` is
    /// in the heap and the access's last byte has `p`'s colour. (The shadow check of `addr`
    /// comes first, so `addr` is below the limit, and the colour map has a zero byte after it.)
    fn require_same_object(&mut self, p: ir::Value, addr: ir::Value, size: u64, slow: Block) {
        let [base, _, _, colour] = self.heap;
        let kp = self.heap_offset(p, slow);
        let ka = self.b.ins().isub(addr, base);
        let at_p = self.b.ins().iadd(colour, kp);
        let at_end = self.b.ins().iadd(colour, ka);
        let cp = self.b.ins().uload8(types::I64, TRUSTED, at_p, 0);
        let ce = self.b.ins().uload8(types::I64, TRUSTED, at_end, size as i32 - 1);
        let same = self.b.ins().icmp(IntCC::Equal, cp, ce);
        self.continue_if(same, slow);
    }

    fn continue_if(&mut self, cond: ir::Value, slow: Block) {
        let next = self.b.create_block();
        self.b.ins().brif(cond, next, &[], slow, &[]);
        self.b.switch_to_block(next);
        // One predecessor, known now: sealing early keeps SSA construction local.
        self.b.seal_block(next);
    }

    /// The length of an array the trace allocated with items of `item_size` bytes (else the
    /// slow path).
    fn array_length(&mut self, op: &Op, item_size: u64, slow: Block) -> ir::Value {
        let arr = self.get_int(op.args[0]);
        let len_addr = self.b.ins().iadd_imm_s(arr, LENGTH_OFFSET as i64);
        // The mark says: allocated here, items of this size, and the length fits the object.
        self.require_shadow(len_addr, IntCC::Equal, array_length_mark(item_size), slow);
        self.b.ins().load(types::I64, TRUSTED, len_addr, 0)
    }

    /// The address of item `args[1]` of array `args[0]` (bounds checked; else the slow path).
    fn item_address(&mut self, op: &Op, item_size: u64, slow: Block) -> ir::Value {
        let n = self.array_length(op, item_size, slow);
        let i = self.get_int(op.args[1]);
        let in_bounds = self.b.ins().icmp(IntCC::UnsignedLessThan, i, n);
        self.continue_if(in_bounds, slow);
        let arr = self.get_int(op.args[0]);
        let scaled = self.b.ins().imul_imm_s(i, item_size as i64);
        let items = self.b.ins().iadd_imm_s(arr, ITEMS_OFFSET as i64);
        self.b.ins().iadd(items, scaled)
    }

    fn load_mem(&mut self, addr: ir::Value, acc: Access) -> ir::Value {
        let ins = self.b.ins();
        match (acc.ty, acc.size, acc.signed) {
            (Type::Float, 8, _) => ins.load(types::F64, TRUSTED, addr, 0),
            (_, 1, false) => ins.uload8(types::I64, TRUSTED, addr, 0),
            (_, 1, true) => ins.sload8(types::I64, TRUSTED, addr, 0),
            (_, 2, false) => ins.uload16(types::I64, TRUSTED, addr, 0),
            (_, 2, true) => ins.sload16(types::I64, TRUSTED, addr, 0),
            (_, 4, false) => ins.uload32(TRUSTED, addr, 0),
            (_, 4, true) => ins.sload32(TRUSTED, addr, 0),
            _ => ins.load(types::I64, TRUSTED, addr, 0),
        }
    }

    fn store_mem(&mut self, addr: ir::Value, v: ir::Value, size: u64) {
        let v = self.bitcast_to(v, types::I64);
        let ins = self.b.ins();
        match size {
            1 => ins.istore8(TRUSTED, v, addr, 0),
            2 => ins.istore16(TRUSTED, v, addr, 0),
            4 => ins.istore32(TRUSTED, v, addr, 0),
            _ => ins.store(TRUSTED, v, addr, 0),
        };
    }
}

/// Whether two colours can tell that a field at `offset` of `size` bytes is in its base's
/// object: colours repeat every 255 objects of at least 8 bytes, so only for fields that end
/// within 255 * 8 bytes of the base (and start at or after it).
fn colour_tells(offset: i64, size: u64) -> bool {
    offset >= 0 && offset as u64 + size <= 255 * 8 && size > 0
}
