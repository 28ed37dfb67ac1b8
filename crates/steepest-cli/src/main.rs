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
    // Transparent huge pages only on the buffers the library advises (a training set read at
    // random); mimalloc, built with `no_thp`, does not ask for them on its own regions.
    steepest::tensor::huge_pages_only_where_advised();
    steepest_cli::run()
}
