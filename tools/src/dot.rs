//! `tracelab dot`: the dataflow graph of a module's traces in Graphviz format.
//!
//! One node per trace input and per op (labelled with the op's text), one edge from the
//! definition of each operand to the op that uses it (fail args and resume values dashed), and
//! an edge from each `jump` to the label or trace start it goes to. Constants are shown in the
//! op's label, not as nodes, so they do not become hubs.

use petgraph::dot::{Config, Dot};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::HashMap;
use tracelab_ir::printer::{print_op, Names};
use tracelab_ir::trace::ValueDef;
use tracelab_ir::{Module, OpId, Target, Trace, TraceId, Value};

#[derive(Clone, Copy)]
enum Edge {
    Data,
    Resume,
    Back,
}

impl std::fmt::Display for Edge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Edge::Data => "",
            Edge::Resume => "resume",
            Edge::Back => "loop",
        })
    }
}

struct Builder<'m> {
    m: &'m Module,
    /// Labels by token: one lookup per jump.
    index: tracelab_ir::facts::ModuleIndex,
    g: DiGraph<String, Edge>,
    op_nodes: HashMap<(TraceId, OpId), NodeIndex>,
    input_nodes: HashMap<(TraceId, usize), NodeIndex>,
}

pub fn render(m: &Module) -> String {
    let mut b = Builder { m, index: tracelab_ir::facts::ModuleIndex::of(m), g: DiGraph::new(), op_nodes: HashMap::new(), input_nodes: HashMap::new() };
    for (tid, t) in m.traces.iter() {
        b.nodes(tid, t);
    }
    for (tid, t) in m.traces.iter() {
        b.edges(tid, t);
    }
    let attrs = |_: &DiGraph<String, Edge>, e: petgraph::graph::EdgeReference<'_, Edge>| match e.weight() {
        Edge::Data => String::new(),
        Edge::Resume => "style=dashed".to_string(),
        Edge::Back => "style=bold, constraint=false".to_string(),
    };
    let nodes = |_: &DiGraph<String, Edge>, _: (NodeIndex, &String)| "shape=box".to_string();
    format!("{}", Dot::with_attr_getters(&b.g, &[Config::EdgeNoLabel], &attrs, &nodes))
}

impl Builder<'_> {
    fn nodes(&mut self, tid: TraceId, t: &Trace) {
        let names = Names::assign(t);
        for (k, &v) in t.inputs.iter().enumerate() {
            let n = self.g.add_node(format!("{}: input {}", t.name, names.get(v)));
            self.input_nodes.insert((tid, k), n);
        }
        for id in t.ops.keys() {
            let n = self.g.add_node(format!("{}: {}", t.name, print_op(self.m, t, id)));
            self.op_nodes.insert((tid, id), n);
        }
    }

    fn def_node(&self, tid: TraceId, t: &Trace, v: Value) -> Option<NodeIndex> {
        match t.values[v].def {
            ValueDef::Input(k) => self.input_nodes.get(&(tid, k as usize)).copied(),
            ValueDef::Op(o) | ValueDef::LabelParam(o, _) => self.op_nodes.get(&(tid, o)).copied(),
            ValueDef::Const(_) => None,
        }
    }

    fn edges(&mut self, tid: TraceId, t: &Trace) {
        for (id, op) in t.ops.iter() {
            let to = self.op_nodes[&(tid, id)];
            for &a in &op.args {
                if let Some(from) = self.def_node(tid, t, a) {
                    self.g.add_edge(from, to, Edge::Data);
                }
            }
            for v in op.guard().into_iter().flat_map(|g| g.values()) {
                if let Some(from) = self.def_node(tid, t, v) {
                    self.g.add_edge(from, to, Edge::Resume);
                }
            }
            if let Some(target) = op.jump_target() {
                self.back_edge(tid, to, target);
            }
        }
    }

    fn back_edge(&mut self, tid: TraceId, from: NodeIndex, target: Target) {
        let dest = match target {
            Target::Loop(-1) => self.input_nodes.get(&(tid, 0)).copied(),
            Target::Loop(_) => None,
            Target::Token(_) => self.index.label(target).and_then(|k| self.op_nodes.get(&k).copied()),
        };
        if let Some(dest) = dest {
            self.g.add_edge(from, dest, Edge::Back);
        }
    }
}
