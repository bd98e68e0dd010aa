//! Optimizer throughput: the default pipeline (`-O`) on generated recorded loops of 10k, 100k
//! and 1M ops (criterion's element throughput is input ops per second).
//! `cargo bench -p tracelab-testsuite --bench optimize`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;
use tracelab_passes::manager::{self, Options, Step};
use tracelab_passes::DEFAULT_PIPELINE;
use tracelab_testsuite::synthetic::{op_count, recorded_loop_text};

fn optimize(c: &mut Criterion) {
    let steps: Vec<Step> = DEFAULT_PIPELINE.iter().map(|p| Step::new(p)).collect();
    let opts = Options { verify_each: false, ..Options::default() };
    let mut g = c.benchmark_group("optimize");
    g.sample_size(10).measurement_time(Duration::from_secs(20)).warm_up_time(Duration::from_secs(2));
    for ops in [10_000usize, 100_000, 1_000_000] {
        let text = recorded_loop_text(ops);
        let n = op_count(&text);
        let m = tracelab_ir::parse(&text).expect("generated traces parse");
        eprintln!("{ops}: {n} ops");
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &m, |b, m| {
            b.iter_batched(|| m.clone(), |mut m| manager::run(&mut m, &steps, &opts).expect("-O runs"), criterion::BatchSize::LargeInput)
        });
    }
    g.finish();
}

criterion_group!(benches, optimize);
criterion_main!(benches);
