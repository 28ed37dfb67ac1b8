//! Gradient clipping.

use crate::nn::ParamStore;
use crate::tensor::Scalar;

/// Scales all gradients together so that their global Euclidean norm is at most `max_norm`,
/// as `torch.nn.utils.clip_grad_norm_`: with n the norm, every gradient is multiplied by
/// min(1, max_norm / (n + 1e-6)). Returns n, the norm before clipping.
///
/// ```
/// use steepest::{nn::ParamStore, optim::clip_grad_norm, Tensor};
/// let mut g = ParamStore::<f64>::new();
/// g.insert("w", Tensor::from_vec(vec![3.0, 4.0]));
/// assert_eq!(clip_grad_norm(&mut g, 1.0), 5.0);
/// assert!((g.global_norm() - 1.0).abs() < 1e-6);
/// ```
pub fn clip_grad_norm<T: Scalar>(grads: &mut ParamStore<T>, max_norm: f64) -> f64 {
    let norm = grads.global_norm();
    let coef = max_norm / (norm + 1e-6);
    if coef < 1.0 {
        let c = T::of(coef);
        for (_, g) in grads.iter_mut() {
            g.map_inplace(|v| v * c);
        }
    }
    norm
}

/// Clamps every gradient element into `[-clip_value, clip_value]`, as
/// `torch.nn.utils.clip_grad_value_`. Returns the global norm before clipping.
pub fn clip_grad_value<T: Scalar>(grads: &mut ParamStore<T>, clip_value: f64) -> f64 {
    let norm = grads.global_norm();
    let v = T::of(clip_value.abs());
    for (_, g) in grads.iter_mut() {
        g.map_inplace(|x| x.max(-v).min(v));
    }
    norm
}
