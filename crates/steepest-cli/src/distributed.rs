//! `steepest train --distributed`: one rank of an MPI job (`mpirun -np N steepest train
//! --distributed ...`).
//!
//! Every rank reads the run settings and its own shard of the rows
//! ([`crate::data_load::load_shard`]); training is data-parallel
//! ([`steepest::train::fit_parallel`]). Rank 0 alone prints progress and writes the run folder
//! (checkpoints, model, logs, plots). A rank that fails to read its data stops the job before
//! training with an error on rank 0 naming the rank and its message. A rank that fails while
//! training (its files, its memory) aborts the whole job (MPI_Abort); when another rank dies,
//! mpirun stops the survivors with SIGTERM and rank 0 says so and names the last checkpoint,
//! which stays intact (checkpoints are renamed into place).

use crate::args::TrainArgs;
use crate::error::{usage, CliError, CliResult};
use steepest::collective::Communicator;

/// Agrees across ranks on whether each rank's `local` result is good; on failure every rank
/// gets an error naming the failed ranks and their messages (with this rank's exit code, or 2).
pub fn agree<V>(comm: Option<&mut (dyn Communicator + '_)>, local: CliResult<V>) -> CliResult<V> {
    let Some(c) = comm else { return local };
    let mine = local.as_ref().err().map(|e| e.msg.clone());
    match steepest::collective::failed_ranks(c, mine.as_deref())? {
        None => local,
        Some(msg) => Err({
            // Every rank now ends with this error (rank 0 reports it): when mpirun stops this
            // rank because another one has already exited, the watcher stays quiet.
            FINISHING.store(true, std::sync::atomic::Ordering::SeqCst);
            CliError {
                code: local.err().map_or(2, |e| e.code),
                msg,
                all_ranks: true,
            }
        }),
    }
}

/// Set once the run's outcome is decided and being reported: a stop signal then changes
/// nothing (the process is about to exit with that outcome).
pub static FINISHING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Set while `train --dashboard` keeps serving after its run ended: a stop signal then ends
/// the process quietly with success.
pub static LINGERING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Threads per rank when the run asks for every core: the cores shared by the ranks on this
/// host (Open MPI and MPICH tell how many ranks run here).
pub fn threads_per_rank(requested: usize) -> usize {
    if requested != 0 {
        return requested;
    }
    let cores = std::thread::available_parallelism().map_or(1, |p| p.get());
    let local = ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"]
        .iter()
        .find_map(|k| std::env::var(k).ok()?.parse::<usize>().ok())
        .unwrap_or(1);
    (cores / local.max(1)).max(1)
}

/// Runs `steepest train --distributed`.
#[cfg(feature = "mpi")]
pub fn run(args: TrainArgs) -> CliResult<()> {
    use steepest_distributed::MpiComm;
    let mut comm = MpiComm::init().map_err(|e| usage(format!("--distributed: {e}")))?;
    let (rank, size) = (comm.rank(), comm.size());
    if rank == 0 {
        watch_for_stop(args.out.clone().or_else(|| args.resume.clone()), size);
    }
    match crate::cmd_train::run_with(args, Some(&mut comm)) {
        Ok(()) => Ok(()),
        Err(e) if e.all_ranks => {
            // Every rank stops here: rank 0 reports, and MPI ends normally.
            if rank == 0 {
                eprintln!("error: {}", e.msg);
            }
            drop(comm);
            std::process::exit(i32::from(e.code))
        }
        Err(e) => {
            if rank == 0 {
                eprintln!("error: {}", e.msg);
            } else {
                eprintln!("error (rank {rank} of {size} on {}): {}", comm.host(), e.msg);
            }
            // The other ranks may be waiting in a collective: end them all.
            comm.abort(i32::from(e.code))
        }
    }
}

/// Without MPI compiled in, `--distributed` explains how to get it.
#[cfg(not(feature = "mpi"))]
pub fn run(_args: TrainArgs) -> CliResult<()> {
    Err(usage(
        "--distributed: this steepest was built without MPI; rebuild with `cargo build --release \
         --features mpi` (needs the system MPI: apt-get install libopenmpi-dev openmpi-bin libclang-dev)",
    ))
}

/// On rank 0 (or the one process): when the run is stopped (SIGINT, SIGTERM: Ctrl-C, `kill`,
/// or mpirun after another rank died), say so, where the last checkpoint is and how to resume,
/// then exit: 130 for SIGINT and 143 for SIGTERM as a shell reports them; 1 for a distributed
/// job, whose stop is a failure of the run.
pub fn watch_for_stop(out: Option<std::path::PathBuf>, size: usize) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGTERM, SIGINT]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            if LINGERING.load(std::sync::atomic::Ordering::SeqCst) {
                std::process::exit(0);
            }
            if FINISHING.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            if let Some(d) = &out {
                let what = if sig == SIGTERM { "SIGTERM" } else { "SIGINT" };
                crate::live_run::end(d, crate::live_run::State::Interrupted, Some(what));
                crate::run_folder::release(d);
            }
            let ck = out
                .as_ref()
                .map(|d| d.join(steepest::train::CHECKPOINT_FILE))
                .filter(|p| p.exists());
            let resume = match size {
                1 => "steepest train --resume".to_string(),
                n => format!("mpirun -np {n} steepest train --distributed --resume"),
            };
            let tail = match (ck, &out) {
                (Some(p), Some(d)) => format!(
                    "; the last checkpoint is intact: {} (resume with `{resume} {}`)",
                    p.display(),
                    d.display()
                ),
                _ => "; no checkpoint was written yet".into(),
            };
            if size > 1 {
                let what = if sig == SIGTERM {
                    "stopped by mpirun (SIGTERM)"
                } else {
                    "interrupted (SIGINT)"
                };
                eprintln!("error: the distributed job was {what}: another rank died or the job was cancelled{tail}");
                std::process::exit(1);
            }
            let (what, code) = if sig == SIGTERM {
                ("terminated (SIGTERM)", 143)
            } else {
                ("interrupted (SIGINT)", 130)
            };
            eprintln!("\nerror: training {what}{tail}");
            std::process::exit(code);
        }
    });
}
