//! Any bytes as a model folder (`model.json` and `model.safetensors`, split at the first byte
//! 0xFF) load as a model or give an error, never a panic; a loaded model predicts on a row of
//! zeros without a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use steepest::data::Features;
use steepest::models::{load_encoder, load_model, Predictor};
use steepest::Tensor;

fn try_model<T: steepest::tensor::Scalar>(dir: &std::path::Path) {
    if let Ok(m) = load_model::<T>(dir) {
        let n = m.n_inputs().min(1 << 16);
        if let Ok(x) = Tensor::new(vec![T::zero(); n], &[1, n]) {
            let _ = m.predict(&Features::Dense(x));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (json, weights) = match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("model.json"), json).unwrap();
    std::fs::write(dir.path().join("model.safetensors"), weights).unwrap();
    try_model::<f32>(dir.path());
    try_model::<f64>(dir.path());
    let _ = load_encoder(dir.path());
});
