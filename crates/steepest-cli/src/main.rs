//! The `steepest` command-line program: train, evaluate, predict and explore (see the
//! `steepest_cli` library for the commands).

fn main() -> std::process::ExitCode {
    steepest_cli::run()
}
