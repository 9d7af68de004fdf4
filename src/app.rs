//! The application layer: command -> producer -> diagnose -> render. The only place that knows
//! about the process: stdout, stderr, environment, terminal and exit code.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use zeroize::Zeroizing;

use crate::cli::{CheckCertsArgs, Cli, ColorChoice, Command, Format, Profile};
use crate::credentials::checks::{self, CheckOptions};
use crate::credentials::load::PasswordSource;
use crate::credentials::{Credentials, LoadRequest};
use crate::diagnose;
use crate::error::{Error, InputProblem};
use crate::report::{self, Report, style::Style};

/// Runs the command and renders its report to stdout; errors also go to stderr.
pub fn run(cli: Cli) -> ExitCode {
    let (name, result) = match &cli.command {
        Command::CheckCerts(args) => ("check-certs", check_certs(args)),
    };
    let report = match &result {
        Ok(report) => report.clone(),
        Err(error) => {
            tracing::debug!(?error, "command failed");
            Report::failed(name, error)
        }
    };
    let code = report.exit_code(result.as_ref().err());

    let mut stdout = std::io::stdout().lock();
    let rendered = match cli.global.format {
        Format::Json => report::json::render(&report, &mut stdout),
        // A text report of an error is just the message: it goes to stderr alone.
        Format::Text if result.is_err() => Ok(()),
        Format::Text => report::text::render(&report, style_for(cli.global.color), &mut stdout),
    };
    if let Err(error) = &result {
        eprintln!("iotdoctor: {error}");
    }
    if let Err(e) = rendered.and_then(|_| stdout.flush()) {
        // A closed pipe (`| head`) is the reader's choice, not a failure of ours.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("iotdoctor: cannot write the report: {e}");
        }
    }
    ExitCode::from(code)
}

fn style_for(choice: ColorChoice) -> Style {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color && std::io::stdout().is_terminal(),
    };
    if color {
        // `colored` has its own environment checks; the user's choice wins.
        colored::control::set_override(true);
        Style::colored()
    } else {
        Style::plain()
    }
}

fn check_certs(args: &CheckCertsArgs) -> Result<Report, Error> {
    let request = LoadRequest {
        cert: args.cert.clone(),
        key: args.key.clone(),
        p12: args.p12.clone(),
        chain: args.chain.clone(),
        cas: args.ca.clone(),
    };
    let passwords = EnvOrPrompt {
        env_var: args.key_pass_env.clone(),
    };
    let creds = Credentials::load(&request, &passwords)?;
    let options = CheckOptions {
        now: checks::now(),
        warn_days: args.warn_days,
        aws_iot: args.profile == Some(Profile::AwsIot),
    };
    let (summary, findings) = checks::check(&creds, &options);
    let diagnosis = diagnose::diagnose(&findings);
    Ok(Report::new(
        "check-certs",
        Some(summary),
        findings,
        diagnosis,
    ))
}

/// Passwords from the environment variable named by `--key-pass-env`, else from the terminal.
/// Never from a plain command-line argument, which other users of the machine can see.
struct EnvOrPrompt {
    env_var: Option<String>,
}

impl PasswordSource for EnvOrPrompt {
    fn password(&self, path: &Path) -> Result<Zeroizing<String>, Error> {
        if let Some(var) = &self.env_var {
            return std::env::var(var).map(Zeroizing::new).map_err(|_| {
                Error::Password(format!(
                    "--key-pass-env {var}: the environment variable {var} is not set"
                ))
            });
        }
        if !std::io::stdin().is_terminal() {
            return Err(Error::input(path, InputProblem::NeedsPassword));
        }
        rpassword::prompt_password(format!("Password for {}: ", path.display()))
            .map(Zeroizing::new)
            .map_err(|e| {
                Error::Password(format!("cannot read the password from the terminal: {e}"))
            })
    }
}
