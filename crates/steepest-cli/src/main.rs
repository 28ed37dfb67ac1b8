//! The `steepest` command-line program: train, evaluate, predict and explore (see the
//! `steepest_cli` library for the commands).

/// mimalloc, keeping freed memory for reuse: a training step frees and allocates the same
/// large buffers (activations, im2col columns, gradients) every step, and glibc's allocator
/// hands blocks above its mmap threshold back to the system, so every step paid for fresh
/// zeroed pages (a fifth of a CNN epoch's time went to page faults).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its options are numbered, not exported as constants;
/// the numbers are those of the pinned libmimalloc-sys).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> std::process::ExitCode {
    // SAFETY: set once before any thread starts; -1 keeps freed pages for reuse (never purged).
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    // Transparent huge pages off for this process (mimalloc asks for them on its arenas, and
    // its own switch is read before main): the first touch of each 2 MB region zeroed all of
    // it, and when the kernel had to compact memory for one, a run took twice as long (K1 at
    // 20,000 rows: 7.8-9.8 s with them, 6.7-6.9 s without; W1, W5, W6 unchanged within noise).
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and only sets a flag of this process.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0)
    };
    steepest_cli::run()
}
