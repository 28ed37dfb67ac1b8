//! The exponential of many doubles at once, written so that it compiles to vector instructions
//! (the C library's `exp` is one call per element): for the kernel matrices of the kernel SVM,
//! whose RBF entries are hundreds of millions of exponentials.
//!
//! exp(x) = 2^k exp(r) with k = round(x / ln 2) and r = x - k ln 2 (ln 2 in two parts, Cody
//! and Waite's reduction, so r is exact to about 2^-60), |r| <= ln(2) / 2; exp(r) by its
//! Taylor polynomial of degree 13 (truncation below 2^-56 relative), in Horner's form; 2^k
//! built in the exponent's bits. Relative error within a few units in the last place of the
//! C library's; 0 below -708.4 (where exp is subnormal), infinity above 709.78, NaN stays NaN.

/// ln 2 split so that `k * LN2_HI` is exact for |k| < 2^11 (fdlibm's ln2_hi and ln2_lo,
/// 6.93147180369123816490e-01 and 1.90821492927058770002e-10, by their bits).
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// 1.5 * 2^52: adding it rounds a double of magnitude below 2^51 to an integer, held in the
/// low bits of the sum's mantissa.
const ROUNDER: f64 = 6_755_399_441_055_744.0;

/// e^x for one value, branch-free apart from the range's ends (a select when vectorized).
#[inline(always)]
pub(crate) fn exp(x: f64) -> f64 {
    let xc = x.clamp(-708.4, 709.78);
    let shifted = xc * std::f64::consts::LOG2_E + ROUNDER;
    let k = shifted - ROUNDER;
    // k as an integer: the sum's bits minus the rounder's.
    let ki = shifted.to_bits().wrapping_sub(ROUNDER.to_bits());
    let r = (xc - k * LN2_HI) - k * LN2_LO;
    // 1 + r + r^2/2! + ... + r^13/13!
    let mut p: f64 = 1.0 / 6_227_020_800.0;
    for d in [
        479_001_600.0,
        39_916_800.0,
        3_628_800.0,
        362_880.0,
        40_320.0,
        5_040.0,
        720.0,
        120.0,
        24.0,
        6.0,
        2.0,
        1.0,
        1.0,
    ] {
        p = p.mul_add(r, 1.0 / d);
    }
    // 2^k in two halves, so that k down to -1022 - 52 and up to 1024 stay representable.
    let half = ki.wrapping_add(2 * 1023) >> 1; // (k + 2046) / 2, k's two halves k1 + k2 = k
    let k1 = half.wrapping_sub(1023);
    let scale1 = f64::from_bits(k1.wrapping_add(1023) << 52);
    let scale2 = f64::from_bits(ki.wrapping_sub(k1).wrapping_add(1023) << 52);
    let v = p * scale1 * scale2;
    if x < -708.4 {
        0.0
    } else if x > 709.78 {
        f64::INFINITY
    } else if x.is_nan() {
        x
    } else {
        v
    }
}

#[inline(always)]
fn exp_in_place_generic<T: super::Scalar>(v: &mut [T]) {
    for x in v.iter_mut() {
        *x = T::of(exp(x.as_f64()));
    }
}
super::multiversion!(fn exp_in_place_wide<T>(v: &mut [T]) => exp_in_place_generic);

/// Replaces every element `x` of `v` by e^x, in the CPU's widest vectors (see the module's
/// doc for the method and its accuracy).
pub(crate) fn exp_in_place(v: &mut [f64]) {
    exp_in_place_wide(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_c_library_to_a_few_ulps() {
        let mut worst = 0.0f64;
        let mut x = -745.0;
        while x < 710.0 {
            let (a, b) = (exp(x), x.exp());
            if b > f64::MIN_POSITIVE * 4.0 && b.is_finite() {
                worst = worst.max(((a - b) / b).abs());
            }
            x += 0.0137;
        }
        assert!(worst < 4.0 * f64::EPSILON, "worst relative error {worst:e}");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-800.0), 0.0);
        assert_eq!(exp(1000.0), f64::INFINITY);
        assert!(exp(f64::NAN).is_nan());
        let mut v = vec![-1.0, 0.5, 2.0];
        exp_in_place(&mut v);
        for (a, x) in v.iter().zip([-1.0f64, 0.5, 2.0]) {
            assert!((a - x.exp()).abs() <= 2.0 * f64::EPSILON * x.exp());
        }
    }
}
