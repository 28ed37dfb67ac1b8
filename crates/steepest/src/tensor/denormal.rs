//! Flushing subnormal numbers to zero during training.
//!
//! When a loss is nearly solved, momentum buffers and deltas decay towards zero and pass
//! through the subnormal range (below 1.2e-38 in f32), where x86 processors compute an order
//! of magnitude slower. Training therefore runs with the FTZ and DAZ bits of MXCSR set (as
//! XLA does on CPUs): results differ from strict IEEE arithmetic only below that threshold.

/// Sets (or clears) flush-to-zero and denormals-are-zero on the calling thread; returns the
/// previous setting. A no-op returning `false` on other architectures.
pub fn set_flush_denormals(on: bool) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        const FTZ_DAZ: u32 = (1 << 15) | (1 << 6);
        // SAFETY: reading and writing MXCSR only changes how this thread rounds tiny results.
        #[allow(deprecated)]
        unsafe {
            use std::arch::x86_64::{_mm_getcsr, _mm_setcsr};
            let old = _mm_getcsr();
            _mm_setcsr(if on { old | FTZ_DAZ } else { old & !FTZ_DAZ });
            old & FTZ_DAZ == FTZ_DAZ
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = on;
        false
    }
}

/// [`set_flush_denormals`] on the calling thread and on every thread of rayon's global pool
/// (where the matrix products run).
pub fn flush_denormals_everywhere(on: bool) -> bool {
    rayon::broadcast(|_| set_flush_denormals(on));
    set_flush_denormals(on)
}
