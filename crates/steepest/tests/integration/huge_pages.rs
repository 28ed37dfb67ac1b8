//! The huge-page advice on large buffers: the kernel's own record of the advice, read back.

use steepest::tensor::{huge_page_vec, HUGE_PAGES_MIN_BYTES};

/// The `VmFlags` of the mapping of this process that holds `addr` (from /proc/self/smaps).
#[cfg(target_os = "linux")]
fn vm_flags(addr: usize) -> Option<String> {
    let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
    let mut inside = false;
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if let Some((lo, hi)) = first.split_once('-') {
            if let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16)) {
                inside = (lo..hi).contains(&addr);
                continue;
            }
        }
        if inside {
            if let Some(flags) = line.strip_prefix("VmFlags:") {
                return Some(flags.trim().to_string());
            }
        }
    }
    None
}

#[test]
#[cfg(target_os = "linux")]
fn a_large_buffer_is_advised_and_a_small_one_is_not() {
    // Without THP in the kernel there is no advice to see.
    if !std::path::Path::new("/sys/kernel/mm/transparent_hugepage/enabled").exists() {
        return;
    }
    let n = 2 * HUGE_PAGES_MIN_BYTES / 4;
    let mut big: Vec<f32> = huge_page_vec(n);
    big.extend((0..n).map(|i| i as f32));
    assert_eq!((big.len(), big[n - 1]), (n, (n - 1) as f32));
    // The middle of the buffer lies in a 2 MiB block advised MADV_HUGEPAGE ("hg").
    let middle = big.as_ptr() as usize + n * 2;
    let flags = vm_flags(middle).expect("the buffer's mapping");
    assert!(flags.split_whitespace().any(|f| f == "hg"), "flags {flags}");

    let small: Vec<f32> = huge_page_vec(1 << 20);
    let flags = vm_flags(small.as_ptr() as usize).expect("the buffer's mapping");
    assert!(!flags.split_whitespace().any(|f| f == "hg"), "flags {flags}");
}
