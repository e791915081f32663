//! The `plaudit` binary: command line, configuration and wiring.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
