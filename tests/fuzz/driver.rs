//! The stable fuzz driver: feeds each fuzz function generated and mutated
//! inputs for a set time, seeded from real captures and hand-made samples,
//! and keeps every input that panics. No coverage guidance (that needs
//! `cargo fuzz` on a nightly toolchain; see the README), but it runs anywhere:
//!
//! ```sh
//! cargo run --release --example fuzz -- capture --minutes 5
//! cargo run --release --example fuzz -- all --minutes 5 --seed 7
//! ```
//!
//! Inputs that panic are written to `target/fuzz-found/TARGET-N.bin`; the
//! driver exits with status 1 when there are any.

use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant};

#[path = "corpus.rs"]
mod corpus;
#[path = "targets.rs"]
mod targets;

use corpus::{Rng, mutate, seeds};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut which = None;
    let mut time = Duration::from_secs(60);
    let mut seed = 1u64;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--minutes" | "--seconds" => {
                let n: u64 = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| usage());
                time = Duration::from_secs(if a == "--minutes" { n * 60 } else { n });
            }
            "--seed" => {
                seed = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            name if which.is_none() && !name.starts_with('-') => which = Some(name.to_owned()),
            _ => usage(),
        }
    }
    let which = which.unwrap_or_else(|| usage());
    let chosen: Vec<(&str, targets::Target)> = targets::TARGETS
        .iter()
        .copied()
        .filter(|(name, _)| which == "all" || *name == which)
        .collect();
    if chosen.is_empty() {
        usage();
    }
    // Panics are caught and reported here, not printed by the default hook.
    panic::set_hook(Box::new(|_| {}));
    let per_target = time / u32::try_from(chosen.len()).unwrap_or(1);
    let mut found = 0;
    for (name, target) in chosen {
        found += run(name, target, per_target, seed);
    }
    std::process::exit(i32::from(found > 0));
}

fn usage() -> ! {
    let names: Vec<&str> = targets::TARGETS.iter().map(|(n, _)| *n).collect();
    eprintln!(
        "usage: cargo run --release --example fuzz -- TARGET|all [--minutes M | --seconds S] [--seed N]\ntargets: {}",
        names.join(", ")
    );
    std::process::exit(2);
}

/// Fuzzes one target for `time`; returns how many inputs panicked.
fn run(name: &str, target: targets::Target, time: Duration, seed: u64) -> usize {
    let mut rng = Rng::new(seed);
    let mut pool = seeds(name);
    let started = Instant::now();
    let mut runs = 0u64;
    let mut found = Vec::new();
    while started.elapsed() < time {
        let input = if runs < pool.len() as u64 {
            pool[usize::try_from(runs).unwrap_or(0)].clone()
        } else {
            mutate(&pool, &mut rng)
        };
        runs += 1;
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| target(&input)));
        if let Err(p) = outcome {
            let what = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            let dir = std::path::Path::new("target/fuzz-found");
            let _ = std::fs::create_dir_all(dir);
            let file = dir.join(format!("{name}-{}.bin", found.len() + 1));
            let _ = std::fs::write(&file, &input);
            eprintln!(
                "{name}: panicked ({what}); input kept in {}",
                file.display()
            );
            found.push(input);
            if found.len() >= 20 {
                break;
            }
        } else if runs.is_multiple_of(64) && pool.len() < 4096 {
            // No coverage to guide it: keep a sample of what ran, so the
            // mutations wander further from the seeds.
            pool.push(input);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{name}: {runs} inputs in {secs:.0} s ({:.0}/s), {} panicked",
        runs as f64 / secs.max(1e-9),
        found.len()
    );
    found.len()
}
