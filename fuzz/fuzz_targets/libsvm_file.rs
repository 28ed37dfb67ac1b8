//! Differential: the memory-mapped parallel LIBSVM reader (one-pass fast path plus careful
//! fallback) must give exactly what the sequential stream reader gives: the same dataset, or
//! the same error with the same line and column (text that is not UTF-8 aside).
#![no_main]
use libfuzzer_sys::fuzz_target;
use steepest::data::{read_libsvm, read_libsvm_from};

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("steepest-fuzz-{}.svm", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let name = path.display().to_string();
    let fast = read_libsvm::<f64>(&path, None);
    let slow = read_libsvm_from::<f64>(data, &name, None);
    // The stream reader reads text lines and stops at bytes that are not UTF-8; the file reader
    // reads bytes (it accepts them in comments and names the token elsewhere).
    if slow.as_ref().is_err_and(|e| e.to_string().contains("valid UTF-8")) {
        return;
    }
    match (fast, slow) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!("the readers disagree: {:?} vs {:?}", a.map(|d| d.rows()), b.map(|d| d.rows())),
    }
});
