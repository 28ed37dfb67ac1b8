//! Backing a large buffer that is read at random with huge pages.
//!
//! A training set is read row by row in shuffled order every epoch. With 4 KiB pages each row
//! of a large set costs an address translation that misses the TLB (whose reach is a few
//! megabytes), and the hardware prefetcher stops at every page boundary; 2 MiB pages take both
//! away (W1's gather of a batch's rows: a third less time). The buffer is advised before it
//! is written (`madvise(MADV_HUGEPAGE)` on its whole 2 MiB blocks), so that its first touch
//! maps huge pages directly: advising a filled buffer would need `MADV_COLLAPSE`, which copied
//! W1's 187 MB in 0.55 s, longer than an epoch. The advice is a hint: a kernel that refuses it
//! leaves the buffer on small pages. Elsewhere than on Linux this does nothing.

/// Buffers smaller than this are left alone: their pages fit the TLB's reach.
pub const HUGE_PAGES_MIN_BYTES: usize = 32 << 20;

/// An empty vector with room for `capacity` elements, the 2 MiB-aligned blocks of which are
/// advised to be backed by huge pages when it holds at least [`HUGE_PAGES_MIN_BYTES`]: fill
/// it (`extend`, `resize`) without growing it past `capacity`.
///
/// ```
/// let mut rows: Vec<f32> = steepest::tensor::huge_page_vec(1024);
/// rows.extend((0..1024).map(|i| i as f32));
/// assert_eq!((rows.len(), rows[1023]), (1024, 1023.0));
/// ```
pub fn huge_page_vec<T>(capacity: usize) -> Vec<T> {
    let v: Vec<T> = Vec::with_capacity(capacity);
    let bytes = capacity.saturating_mul(std::mem::size_of::<T>());
    #[cfg(target_os = "linux")]
    if bytes >= HUGE_PAGES_MIN_BYTES {
        const HUGE: usize = 2 << 20;
        let start = (v.as_ptr() as usize).next_multiple_of(HUGE);
        let end = (v.as_ptr() as usize + bytes) / HUGE * HUGE;
        if end > start {
            // SAFETY: the range lies inside the vector's allocation; the advice changes how its
            // pages are backed, never their contents.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = bytes;
    v
}

/// Turns transparent huge pages off for this process except on the buffers made by
/// [`huge_page_vec`]. Huge pages everywhere cost more than they save: the first touch of
/// each 2 MiB region zeroes all of it, and when the kernel has to compact memory for one a run
/// can take twice as long (the exact kernel SVM on 20,000 rows: 7.8-9.8 s with them, 6.7-6.9 s
/// without). Linux 6.18 keeps advised buffers on huge pages
/// (`PR_SET_THP_DISABLE` with `PR_THP_DISABLE_EXCEPT_ADVISED`); an older kernel turns them off
/// everywhere. Returns whether advised buffers may still get them. Call it once, at the start
/// of a program, after telling the allocator not to advise its own regions.
///
/// ```
/// // The `steepest` program's first step (with mimalloc built with `no_thp`).
/// let _advised_buffers_get_them: bool = steepest::tensor::huge_pages_only_where_advised();
/// ```
pub fn huge_pages_only_where_advised() -> bool {
    #[cfg(target_os = "linux")]
    {
        /// Linux's `PR_THP_DISABLE_EXCEPT_ADVISED` (include/uapi/linux/prctl.h, 6.18).
        const EXCEPT_ADVISED: libc::c_ulong = 1 << 1;
        // SAFETY: PR_SET_THP_DISABLE takes plain integers and only sets flags of this process.
        unsafe {
            if libc::prctl(libc::PR_SET_THP_DISABLE, 1 as libc::c_ulong, EXCEPT_ADVISED, 0, 0) == 0 {
                return true;
            }
            libc::prctl(libc::PR_SET_THP_DISABLE, 1 as libc::c_ulong, 0, 0, 0);
        }
    }
    false
}
