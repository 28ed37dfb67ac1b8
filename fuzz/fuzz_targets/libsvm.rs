//! Any bytes given to the LIBSVM reader give a dataset or an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use steepest::data::read_libsvm_from;

fuzz_target!(|data: &[u8]| {
    let _ = read_libsvm_from::<f32>(data, "fuzz.svm", None);
});
