//! `explain`: what an alert, an error code or message, or a whole debug log means.

use std::path::{Path, PathBuf};

use crate::debuglog;
use crate::diagnose::{self, Diagnosis};
use crate::error::{Error, InputProblem};
use crate::explain::Stack;
use crate::report::{Explanation, Report};

/// What to explain.
#[derive(Debug, Clone)]
pub enum Query {
    /// An alert or error number, a symbolic name or a message.
    Words(String),
    /// A debug log; `-` is standard input.
    Log(PathBuf),
}

#[derive(Debug, Clone)]
pub struct Options {
    pub query: Query,
    /// Only this stack's readings of the words.
    pub stack: Option<Stack>,
}

pub fn run(options: &Options) -> Result<Report, Error> {
    let query = match &options.query {
        Query::Log(path) => return explain_log(path),
        Query::Words(words) => words,
    };
    let stack = options.stack;
    let readings = crate::explain::lookup(query, stack);
    if readings.is_empty() {
        let among = stack.map_or_else(
            || "TLS alerts, wolfSSL, mbedTLS, OpenSSL and GnuTLS codes".to_string(),
            |s| format!("the {s} codes"),
        );
        return Err(Error::Usage(format!(
            "'{query}' is nothing iotdoctor knows among {among}: give the number, the symbolic name or the library's message as printed"
        )));
    }
    Ok(
        Report::new("explain", vec![], Diagnosis::default()).with_explanation(Explanation {
            query: query.clone(),
            stack,
            readings,
        }),
    )
}

/// `explain --log FILE|-`: the steps of the handshake a debug log shows, diagnosed.
fn explain_log(path: &Path) -> Result<Report, Error> {
    let read = if path == Path::new("-") {
        debuglog::read(std::io::stdin().lock(), "-")
    } else {
        let file = std::fs::File::open(path).map_err(|e| Error::input(path, e.into()))?;
        debuglog::read(std::io::BufReader::new(file), &path.display().to_string())
    };
    let log = read.map_err(|e| Error::input(path, e.into()))?;
    if log.events.is_empty() {
        return Err(Error::input(path, InputProblem::NotALog(log.lines)));
    }
    let diagnosis = diagnose::log::diagnose(&log);
    // The log says which stack the device runs: its fixes are the ones that apply. A log of
    // two stacks (both ends of a connection) keeps every stack's.
    let mut stacks = log
        .stacks
        .iter()
        .copied()
        .filter(|s| !matches!(s, Stack::Tls | Stack::Mqtt));
    let stack = match (stacks.next(), stacks.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    };
    Ok(Report::new("explain", vec![], diagnosis)
        .with_log(log)
        .for_stack(stack))
}
