//! The command line: clap definitions only, no behaviour.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::logging::Verbosity;

/// Tells you why a TLS handshake failed and what to change.
#[derive(Debug, Parser)]
#[command(
    name = "iotdoctor",
    version,
    about,
    long_about = "Tells IoT developers why a TLS handshake failed and what to change.\n\n\
        Every command prints a report (text, or JSON with --format json) and exits with a \
        stable code: 0 healthy, 1 problems found, 2 usage error, 3 an input could not be \
        read, 4 network failure before TLS started.",
    after_help = "Run 'iotdoctor <COMMAND> --help' for examples."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts, before or after the command name.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Report format: human-readable text, or the JSON report (schema iotdoctor.report/1).
    #[arg(long, value_enum, default_value_t = Format::Text, global = true)]
    pub format: Format,

    /// When to colour text output. `auto` colours a terminal unless NO_COLOR is set.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,

    /// More of iotdoctor's own log on stderr (-v, -vv, -vvv).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Only errors in iotdoctor's own log on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

impl GlobalArgs {
    pub fn verbosity(&self) -> Verbosity {
        match (self.quiet, self.verbose) {
            (true, _) => Verbosity::Quiet,
            (false, 0) => Verbosity::Normal,
            (false, 1) => Verbosity::Verbose,
            (false, 2) => Verbosity::Debug,
            (false, _) => Verbosity::Trace,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a device's certificate, private key and CA files offline.
    #[command(
        long_about = "Check a device's certificate, private key and CA files offline, before any \
            packet is sent: does the key belong to the certificate, does the chain reach the CA, \
            is the certificate valid now and usable for TLS client authentication, are the \
            algorithms ones servers accept.\n\n\
            Reads PEM (any number of blocks, any order) and DER; keys in PKCS#8, PKCS#1, SEC1 \
            and encrypted PKCS#8; PKCS#12 bundles. Private key material is never printed.",
        after_help = CHECK_CERTS_EXAMPLES
    )]
    CheckCerts(CheckCertsArgs),
}

const CHECK_CERTS_EXAMPLES: &str = "\
Examples:
  # The device certificate and key, checked against the CA that issued it
  iotdoctor check-certs --cert device.pem --key device.key --ca my-root-ca.pem

  # Leaf and intermediate in separate files
  iotdoctor check-certs --cert device.pem --chain intermediate.pem --key device.key --ca root.pem

  # An encrypted key or a PKCS#12 bundle: the password comes from an environment variable
  DEVICE_PASS=secret iotdoctor check-certs --p12 device.p12 --key-pass-env DEVICE_PASS

  # Credentials for AWS IoT Core, with the Amazon root the device trusts
  iotdoctor check-certs --profile aws-iot --cert device.pem.crt --key private.pem.key --ca AmazonRootCA1.pem

  # In CI: JSON report, exit code 0 when healthy, 1 on problems, 3 on unreadable input
  iotdoctor check-certs --cert device.pem --key device.key --format json";

/// What `check-certs` reads.
#[derive(Debug, Args)]
pub struct CheckCertsArgs {
    /// Device certificate (PEM or DER). May also hold the intermediates and the key.
    #[arg(long, value_name = "FILE", required_unless_present = "p12")]
    pub cert: Option<PathBuf>,

    /// Private key of the device certificate (PKCS#8, PKCS#1, SEC1; PEM or DER; may be encrypted).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,

    /// CA certificate(s) the device certificate should chain to (repeatable).
    #[arg(long, value_name = "FILE", visible_aliases = ["cafile", "cacert"])]
    pub ca: Vec<PathBuf>,

    /// Intermediate certificate(s) the device sends after its own (repeatable).
    #[arg(long, value_name = "FILE")]
    pub chain: Vec<PathBuf>,

    /// PKCS#12 bundle holding the device certificate, its key and maybe intermediates.
    #[arg(long, value_name = "FILE", visible_alias = "pfx")]
    pub p12: Option<PathBuf>,

    /// Name of the environment variable holding the password of an encrypted key or PKCS#12 file.
    /// Without it iotdoctor asks on the terminal.
    #[arg(long, value_name = "VAR")]
    pub key_pass_env: Option<String>,

    /// Warn when a certificate expires within this many days.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub warn_days: u32,

    /// Extra checks for a known service.
    #[arg(long, value_enum)]
    pub profile: Option<Profile>,
}

/// Services whose requirements iotdoctor knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Profile {
    /// AWS IoT Core: key and signature algorithms it accepts, Amazon Root CA 1 / 3 in the CA file.
    AwsIot,
}
