//! `-O` on modules of many traces: a loop with 10 to 10,000 bridges that jump back into it.
//! What passes learn about the module (open labels, bridged guards) is computed once per pass,
//! so time per trace stays flat as traces are added.
//! `cargo bench -p tracelab-testsuite --bench many_traces`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;
use tracelab_passes::manager::{self, Options, Step};
use tracelab_passes::DEFAULT_PIPELINE;
use tracelab_testsuite::synthetic::loop_with_bridges_text;

fn many_traces(c: &mut Criterion) {
    let steps: Vec<Step> = DEFAULT_PIPELINE.iter().map(|p| Step::new(p)).collect();
    let opts = Options { verify_each: false, ..Options::default() };
    let mut g = c.benchmark_group("many_traces");
    g.sample_size(10).measurement_time(Duration::from_secs(10)).warm_up_time(Duration::from_secs(1));
    for bridges in [10usize, 100, 1_000, 10_000] {
        let m = tracelab_ir::parse(&loop_with_bridges_text(bridges)).expect("generated traces parse");
        g.throughput(Throughput::Elements(m.traces.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(bridges), &m, |b, m| {
            b.iter_batched(|| m.clone(), |mut m| manager::run(&mut m, &steps, &opts).expect("-O runs"), criterion::BatchSize::LargeInput)
        });
    }
    g.finish();
}

criterion_group!(benches, many_traces);
criterion_main!(benches);
