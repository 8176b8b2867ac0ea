//! The reply's own JSON writer against serde_json on the same built reply, interleaved in one
//! process: criterion runs benchmarks one after the other, and on this machine the drift
//! between two of them is as large as the difference between the writers.
//!
//! Each round times 100,000 of: the spec's full reply built and written by
//! `Reply::to_json_bytes` (the reply's writer), built and written by `serde_json::to_writer`
//! into a buffer of the size `to_json_bytes` gives it, and built alone; and, for the machine's
//! speed that day, the baseline's derived erasmus reply (`same_work::plan_reply`); 21 rounds,
//! then the minimum and the median of each. Bounded: ~8 s.
//!
//! Run: `cargo bench -p moveo-dialog-benches --bench reply_writer` (pin it for steadier
//! figures: `taskset -c 0 target/release/deps/reply_writer-*`).

use std::hint::black_box;
use std::time::Instant;

use moveo_dialog_benches::same_work::plan_reply;
use moveo_dialog_tests::spec::full_reply;

const CALLS: u32 = 100_000;
const ROUNDS: usize = 21;

fn nanoseconds_each(mut call: impl FnMut()) -> f64 {
    let started = Instant::now();
    for _ in 0..CALLS {
        call();
    }
    started.elapsed().as_nanos() as f64 / f64::from(CALLS)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing of the kind and
    // should not spend seconds here.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let reply = full_reply();
    let written = reply.to_json_bytes();
    assert_eq!(written, serde_json::to_vec(&reply).expect("a reply serialises"), "the same bytes");
    // The buffer `to_json_bytes` sizes from the last reply: its length and an eighth.
    let capacity = written.len() + written.len() / 8;
    let (mut writer, mut serde_json, mut built, mut derived) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        writer.push(nanoseconds_each(|| {
            black_box(black_box(full_reply()).to_json_bytes());
        }));
        serde_json.push(nanoseconds_each(|| {
            let reply = black_box(full_reply());
            let mut buffer = Vec::with_capacity(capacity);
            serde_json::to_writer(&mut buffer, &reply).expect("a reply serialises");
            black_box(buffer);
        }));
        built.push(nanoseconds_each(|| {
            drop(black_box(full_reply()));
        }));
        derived.push(nanoseconds_each(|| {
            black_box(plan_reply(black_box("England"), 3.0, 500.0));
        }));
    }
    for (name, mut times) in [
        ("Reply::to_json_bytes", writer),
        ("serde_json::to_writer", serde_json),
        ("built only", built),
        ("baseline derived reply", derived),
    ] {
        times.sort_by(f64::total_cmp);
        println!("{name:<24} min {:6.0} ns   median {:6.0} ns", times[0], times[ROUNDS / 2]);
    }
}
