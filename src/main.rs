//! The `iotdoctor` binary: parse the command line, set up logging, run, exit.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = iotdoctor::cli::Cli::parse();
    iotdoctor::logging::init(cli.global.verbosity());
    iotdoctor::app::run(cli)
}
