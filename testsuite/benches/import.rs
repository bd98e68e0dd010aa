//! PyPy-log import throughput (split sections, parse, pair, link, verify every trace) on a
//! real log of tens of MB, and on its first half to show how cost grows. The log is not
//! committed: `testsuite/bench-data/make-log.sh` writes it with PyPy.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;
use tracelab_frontends::pypy_log::PypyLog;

fn import(c: &mut Criterion) {
    let path = tracelab_testsuite::repo_root().join("target/pypy-workload.log");
    let Ok(full) = std::fs::read_to_string(&path) else {
        eprintln!("{} is missing: run testsuite/bench-data/make-log.sh first", path.display());
        return;
    };
    // The first half, cut at a line boundary (the cut section reports itself as truncated).
    let half = &full[..full[..full.len() / 2].rfind('\n').map_or(0, |i| i + 1)];
    let mut g = c.benchmark_group("import_pypy_log");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    for (label, text) in [("half", half), ("full", full.as_str())] {
        let log = PypyLog::import(text);
        let ok = log.traces.iter().filter(|t| t.ok()).count();
        eprintln!("{label}: {} bytes, {} traces, {ok} imported", text.len(), log.traces.len());
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(label), text, |b, text| b.iter(|| PypyLog::import(text)));
    }
    g.finish();
}

criterion_group!(benches, import);
criterion_main!(benches);
