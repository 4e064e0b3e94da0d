//! Runs one hot path (see `hot_paths/mod.rs`) a given number of times, for counting
//! its instructions under callgrind: instruction counts do not move with the load on
//! a shared machine, unlike times.
//!
//! `nodelink/benches/callgrind.sh` runs each path twice (two repetition counts)
//! under `valgrind --tool=callgrind` and prints instructions per run, the difference
//! removing the program's fixed start-up cost.
//!
//! Direct use: `cargo bench -p nodelink --bench callgrind -- list` prints the paths;
//! `… -- run INDEX REPETITIONS` runs one.

mod hot_paths;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let mut paths = hot_paths::all();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["run", index, repetitions] => {
            let index: usize = index.parse().expect("a path index");
            let repetitions: u64 = repetitions.parse().expect("a repetition count");
            let path = paths.get_mut(index).expect("a path index from `list`");
            for _ in 0..repetitions {
                (path.run)();
            }
        }
        _ => {
            for (index, path) in paths.iter().enumerate() {
                println!("{index}\t{}\t{}", path.group, path.name);
            }
        }
    }
}
