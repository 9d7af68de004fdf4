//! The `iotdoctor` binary: parse the command line, set up logging, run, exit.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

/// mimalloc instead of the system allocator: `analyze` decodes on one thread and writes on
/// another, and glibc's malloc serialises the writer's frees of the reader's memory on an arena
/// lock; mimalloc frees across threads without one, and is faster for the many small
/// allocations of decoding in any case.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match iotdoctor::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let args: Vec<String> = std::env::args().skip(1).collect();
            let hint = match error.kind() {
                ErrorKind::UnknownArgument | ErrorKind::InvalidValue => {
                    iotdoctor::cli::habit_hint(&args)
                }
                _ => None,
            };
            // clap prints help and version to stdout with exit code 0, errors to stderr with 2.
            let _ = error.print();
            if let Some(hint) = hint {
                eprintln!("\ntip: {hint}");
            }
            return ExitCode::from(error.exit_code() as u8);
        }
    };
    iotdoctor::logging::init(cli.global.verbosity());
    iotdoctor::app::run(cli)
}
