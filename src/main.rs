//! The `iotdoctor` binary: parse the command line, set up logging, run, exit.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of the system allocator: `analyze` decodes on one thread and writes on
/// another, and glibc's malloc serialises the writer's frees of the reader's memory on an arena
/// lock; mimalloc frees across threads without one, and is faster for the many small
/// allocations of decoding in any case.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = iotdoctor::cli::Cli::parse();
    iotdoctor::logging::init(cli.global.verbosity());
    iotdoctor::app::run(cli)
}
