//! Every fuzz function over its seeds and a few thousand mutations, with a
//! fixed seed: the parsers hold up under hostile input in every `cargo test`,
//! and the functions the fuzz driver and `cargo fuzz` run stay compiled.
//! The long runs are `cargo run --release --example fuzz` (see the README).
#![allow(clippy::unwrap_used)]

#[path = "fuzz/corpus.rs"]
mod corpus;
#[path = "fuzz/targets.rs"]
mod targets;

#[test]
fn every_target_survives_its_seeds_and_their_mutations() {
    for (name, target) in targets::TARGETS {
        let mut rng = corpus::Rng::new(42);
        let pool = corpus::seeds(name);
        for input in &pool {
            target(input);
        }
        for _ in 0..3_000 {
            let input = corpus::mutate(&pool, &mut rng);
            target(&input);
        }
    }
}
