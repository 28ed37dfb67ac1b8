//! Any bytes given to the CSV reader give a dataset or an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use steepest::data::{read_csv_from, CsvOptions, Missing};

fuzz_target!(|data: &[u8]| {
    let _ = read_csv_from::<f32>(data, "fuzz.csv", &CsvOptions::default());
    let opts = CsvOptions { missing: Missing::Mean, target: Some("0".into()), ..CsvOptions::default() };
    let _ = read_csv_from::<f64>(data, "fuzz.csv", &opts);
});
