//! Any bytes given to the IDX decoder give a tensor or an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use steepest::data::read_idx_tensor;

fuzz_target!(|data: &[u8]| {
    // Keep huge declared shapes from turning into huge allocations before the size check.
    let _ = read_idx_tensor::<f32>(data, "fuzz.idx");
});
