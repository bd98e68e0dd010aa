//! Parse + verify throughput on generated loops of 100k and 1M ops (bytes/s; ops/s follows
//! from the op count printed first). `cargo bench -p tracelab-testsuite --bench parse`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;
use tracelab_testsuite::synthetic::{loop_text, op_count};

fn parse_verify(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse_verify");
    g.sample_size(10).measurement_time(Duration::from_secs(20)).warm_up_time(Duration::from_secs(2));
    for ops in [100_000usize, 1_000_000] {
        let text = loop_text(ops);
        let n = op_count(&text);
        eprintln!("{ops}: {n} ops, {} bytes", text.len());
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, text| {
            b.iter(|| {
                let m = tracelab_ir::parse(text).expect("generated traces parse");
                tracelab_ir::verify(&m).expect("generated traces verify");
                m
            })
        });
    }
    g.finish();
}

criterion_group!(benches, parse_verify);
criterion_main!(benches);
