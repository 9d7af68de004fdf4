//! The application layer: command -> producer -> diagnose -> render. The only place that knows
//! about the process: stdout, stderr, environment, terminal and exit code. Each command lives
//! in a file of its own and takes options of its own; this file turns the command line into
//! them, runs the command and writes its report.

pub mod analyze;
mod args;
pub mod check_certs;
pub mod connect;
pub mod credentials;
pub mod demo;
pub mod explain;
pub mod output;
pub mod probe;
pub mod serve;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use crate::cli::{Cli, ColorChoice, Command, TlsStack};
use crate::explain::Stack;
use crate::report::capture::CaptureWriter;
use crate::report::{self, Report, style::Style};
use output::{Format, report_write_error};

/// Runs the command and renders its report to stdout; errors also go to stderr.
pub fn run(cli: Cli) -> ExitCode {
    // Reports are written in large pieces: a locked stdout alone would write line by line.
    let mut stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let format = Format::from(cli.global.format);
    let color = cli.global.color;
    let (name, result) = match cli.command {
        Command::Completions(args) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(args.shell, &mut command, "iotdoctor", &mut stdout);
            report_write_error(stdout.flush());
            return ExitCode::SUCCESS;
        }
        Command::Man => {
            let command = <Cli as clap::CommandFactory>::command();
            let written = clap_mangen::Man::new(command).render(&mut stdout);
            report_write_error(written.and_then(|_| stdout.flush()));
            return ExitCode::SUCCESS;
        }
        Command::CheckCerts(args) => ("check-certs", check_certs::run(&args::check_certs(args))),
        Command::Connect(args) => {
            let save_chain = args.save_chain.clone();
            let stack = args.stack.map(stack);
            let result = args::connect(args)
                .and_then(|o| connect::run(&o))
                .map(|report| report.for_stack(stack));
            if let (Some(path), Ok(report)) = (save_chain, &result) {
                output::save_chain(report, &path);
            }
            ("connect", result)
        }
        Command::Explain(args) => ("explain", explain::run(&args::explain(args))),
        Command::Demo => match demo::run(format, style_for(color), &mut stdout) {
            Ok(code) => {
                report_write_error(stdout.flush());
                return ExitCode::from(code);
            }
            Err(error) => ("demo", Err(error)),
        },
        Command::Serve(args) => {
            let stack = args.stack.map(stack);
            let served = args::serve(args).and_then(|options| {
                serve::run(&options, stack, format, style_for(color), &mut stdout)
            });
            match served {
                Ok(code) => return ExitCode::from(code),
                Err(error) => ("serve", Err(error)),
            }
        }
        Command::Probe(args) => match args::probe(args).and_then(|o| probe::run(&o)) {
            Ok((report, code)) => {
                let rendered = match (format, &report.probe, &report.target) {
                    (Format::Text, Some(found), Some(target)) => report::probe::render(
                        found,
                        &target.endpoint,
                        style_for(color),
                        &mut stdout,
                    ),
                    _ => report::json::render(&report, &mut stdout),
                };
                report_write_error(rendered.and_then(|_| stdout.flush()));
                return ExitCode::from(code);
            }
            Err(error) => ("probe", Err(error)),
        },
        Command::Analyze(args) => {
            // A capture's handshakes are written as they are found, not held until the end.
            let stack = args.stack.map(stack);
            let mut writer = match format {
                Format::Json => CaptureWriter::json(&mut stdout),
                Format::Text => CaptureWriter::text(&mut stdout, style_for(color)),
            }
            .for_stack(stack);
            match analyze::run(&args::analyze(args), &mut writer) {
                Ok(report) => {
                    let report = report.for_stack(stack);
                    report_write_error(writer.finish(&report));
                    report_write_error(stdout.flush());
                    return ExitCode::from(report.exit_code(None));
                }
                Err(error) => ("analyze", Err(error)),
            }
        }
    };
    let report = match &result {
        Ok(report) => report.clone(),
        Err(error) => {
            tracing::debug!(?error, "command failed");
            Report::failed(name, error)
        }
    };
    let code = report.exit_code(result.as_ref().err());
    let rendered = match format {
        Format::Json => report::json::render(&report, &mut stdout),
        // A text report of an error is just the message: it goes to stderr alone.
        Format::Text if result.is_err() => Ok(()),
        Format::Text => report::text::render(&report, style_for(color), &mut stdout),
    };
    if let Err(error) = &result {
        eprintln!("iotdoctor: {error}");
    }
    report_write_error(rendered.and_then(|_| stdout.flush()));
    ExitCode::from(code)
}

fn stack(choice: TlsStack) -> Stack {
    match choice {
        TlsStack::Wolfssl => Stack::WolfSsl,
        TlsStack::Mbedtls => Stack::MbedTls,
        TlsStack::Openssl => Stack::OpenSsl,
        TlsStack::Gnutls => Stack::GnuTls,
    }
}

fn style_for(choice: ColorChoice) -> Style {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color && std::io::stdout().is_terminal(),
    };
    let style = if color {
        // `colored` has its own environment checks; the user's choice wins.
        colored::control::set_override(true);
        Style::colored()
    } else {
        Style::plain()
    };
    style.with_width(text_width())
}

/// The columns text reports wrap to: `COLUMNS` when set (as shells export it), else the
/// terminal's, else (a file, a pipe) a fixed width, so that saved reports do not depend on
/// the terminal they were made in.
fn text_width() -> usize {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0);
    columns
        .or_else(|| {
            let stdout = std::io::stdout();
            if !stdout.is_terminal() {
                return None;
            }
            terminal_size::terminal_size_of(&stdout).map(|(w, _)| usize::from(w.0))
        })
        .unwrap_or(report::style::DEFAULT_WIDTH)
}
