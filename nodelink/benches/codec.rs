//! Criterion timings of the data layer's hot paths (see `hot_paths/mod.rs`), each
//! group with its baseline, so results read as ratios measured in the same run.
//! Run with `cargo bench -p nodelink --bench codec`; `callgrind.rs` counts
//! instructions for the same paths.

use criterion::{criterion_group, criterion_main, Criterion};

mod hot_paths;

fn codec(c: &mut Criterion) {
    let mut paths = hot_paths::all();
    let mut groups: Vec<&'static str> = paths.iter().map(|p| p.group).collect();
    groups.dedup();
    for group_name in groups {
        let mut group = c.benchmark_group(group_name);
        for path in paths.iter_mut().filter(|p| p.group == group_name) {
            group.bench_function(path.name, |b| b.iter(|| (path.run)()));
        }
        group.finish();
    }
}

criterion_group!(benches, codec);
criterion_main!(benches);
