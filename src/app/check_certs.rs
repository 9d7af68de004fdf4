//! `check-certs`: a device's certificate, key and CA files checked offline.

use std::path::PathBuf;

use super::credentials::Identity;
use crate::credentials::checks::{self, CheckOptions};
use crate::diagnose::{self, Context};
use crate::error::Error;
use crate::report::Report;

/// What `check-certs` checks.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub device: Identity,
    /// CAs the device certificate should chain to.
    pub ca: Vec<PathBuf>,
    /// Warn when a certificate expires within this many days.
    pub warn_days: u32,
    /// The extra checks of AWS IoT Core.
    pub aws_iot: bool,
}

pub fn run(options: &Options) -> Result<Report, Error> {
    let creds = options.device.load(&options.ca, &[])?;
    let check = CheckOptions {
        now: checks::now(),
        warn_days: options.warn_days,
        aws_iot: options.aws_iot,
    };
    let (summary, findings) = checks::check(&creds, &check);
    let diagnosis = diagnose::diagnose(&findings, None, &Context::default());
    Ok(Report::new("check-certs", findings, diagnosis).with_credentials(summary))
}
