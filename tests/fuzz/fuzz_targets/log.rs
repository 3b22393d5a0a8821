//! cargo fuzz target: the `log` fuzz function of `../targets.rs`.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::log(data));
