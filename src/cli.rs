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
#[expect(
    clippy::large_enum_variant,
    reason = "one command line is parsed per process; boxing its options would buy nothing"
)]
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

    /// Make one TLS handshake, step by step, and say why it failed.
    #[command(
        long_about = "Make one instrumented TLS client handshake and show everything that crossed the \
            wire: each record, each handshake message, each certificate and CertificateVerify \
            signature (TLS 1.3's encrypted ones too). When it fails, say why: ranked causes, \
            each with the evidence it rests on and the fix.\n\n\
            The client certificate files are checked first (as check-certs does). In TLS 1.3 a \
            server rejects a client certificate after the client thinks the handshake is done: \
            iotdoctor waits for the server's verdict (--grace) before calling it a success.",
        after_help = CONNECT_EXAMPLES
    )]
    Connect(ConnectArgs),

    /// Diagnose every TLS handshake in a packet capture (pcap or pcapng).
    #[command(
        long_about = "Find every TLS handshake in a packet capture (tcpdump, Wireshark, tshark: pcap or \
            pcapng) and diagnose each one with the same rules as connect: what each side sent, \
            the alert and who sent it, the empty client Certificate, CertificateVerify signatures \
            checked against the certificates. TLS is recognised by content on any port.\n\n\
            TLS 1.3 encrypts most of the handshake: give the key log the client wrote \
            (SSLKEYLOGFILE, or connect --keylog) with --keylog to see inside.",
        after_help = ANALYZE_EXAMPLES
    )]
    Analyze(AnalyzeArgs),

    /// Be the server for a device under test, and say why its handshakes fail.
    #[command(
        long_about = "A diagnostic TLS server, a stand-in for AWS IoT Core or any broker: point the device at \
            it and see, for every connection, what the device sent (its ClientHello, its certificate \
            chain or an empty Certificate, its CertificateVerify checked against its certificate), \
            what iotdoctor answered, and why the handshake failed. It requires a client certificate \
            by default, as AWS IoT does, and names the --client-ca CAs in its CertificateRequest.\n\n\
            Each connection is served on its own; its report is printed when it ends (text, or one \
            JSON report per line with --format json).",
        after_help = SERVE_EXAMPLES
    )]
    Serve(ServeArgs),

    /// What an alert number, an error code or message, or a whole debug log means.
    #[command(
        long_about = "Explain what a failure looks like where developers first meet it: a TLS alert \
            number or name, an error code or name of wolfSSL, mbedTLS, OpenSSL or GnuTLS, an error \
            message pasted from a log, or a whole debug log (--log). Each reading says what it \
            means, who sends it, the likely causes (the same cause ids as every other command) and \
            the iotdoctor command to run next. A number that means different things to different \
            stacks lists every reading: narrow it with --stack.",
        override_usage = "iotdoctor explain [--stack STACK] <CODE|NAME|MESSAGE>...\n       iotdoctor explain --log <FILE|->",
        after_help = EXPLAIN_EXAMPLES
    )]
    Explain(ExplainArgs),

    /// What a server accepts and requires: versions, cipher suites, groups, schemes, client
    /// certificates, SNI, ALPN, chain and record sizes.
    #[command(
        long_about = "Size a device's TLS configuration against a server: iotdoctor makes a few dozen real \
            handshakes (at most 4 at once), each offering one TLS version, cipher suite, group, \
            signature scheme or ALPN protocol alone, and reports which the server accepted. One \
            connection without a client certificate shows whether the server requests or requires \
            one and which CAs it names; one without SNI whether SNI is required. The server's \
            chain and the largest record it sent size the device's buffers \
            (MBEDTLS_SSL_IN_CONTENT_LEN). Exit code 0 when the server answered, 4 when no \
            connection reached it."
    )]
    Probe(ProbeArgs),

    /// See iotdoctor at work: no files, no network.
    #[command(
        long_about = "See iotdoctor at work, with no files and no network: a server on a loopback port with \
        an embedded test PKI, and three devices connecting to it: one that sends no client certificate (the \
        classic story behind alert 42; this server answers 116), one whose key does not belong to its certificate, and one that gets \
        everything right. Each handshake is drawn and diagnosed. Exit code 0 when all three are diagnosed \
        as expected."
    )]
    Demo,

    /// Print a shell completion script for iotdoctor.
    #[command(
        long_about = "Print the completion script of a shell for iotdoctor's commands and options, \
            to be saved where the shell looks for completions.",
        after_help = "Examples:\n  iotdoctor completions bash > ~/.local/share/bash-completion/completions/iotdoctor\n  \
            iotdoctor completions zsh > ~/.zfunc/_iotdoctor\n  \
            iotdoctor completions fish > ~/.config/fish/completions/iotdoctor.fish"
    )]
    Completions(CompletionsArgs),

    /// Print iotdoctor's manual page (roff).
    #[command(
        long_about = "Print iotdoctor's manual page in roff, the format man reads.",
        after_help = "Example:\n  iotdoctor man > ~/.local/share/man/man1/iotdoctor.1"
    )]
    Man,
}

/// What `completions` writes.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// A device's TLS stack: its fixes alone are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TlsStack {
    Wolfssl,
    Mbedtls,
    Openssl,
    Gnutls,
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
  iotdoctor check-certs --profile aws-iot --cert device.pem.crt --key private.pem.key \\
      --ca AmazonRootCA1.pem

  # In CI: JSON report, exit code 0 when healthy, 1 on problems, 3 on unreadable input
  iotdoctor check-certs --cert device.pem --key device.key --format json";

/// The device's own credentials, as `check-certs` and `connect` read them.
#[derive(Debug, Args)]
pub struct DeviceArgs {
    /// Device certificate (PEM or DER). May also hold the intermediates and the key.
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,

    /// Private key of the device certificate (PKCS#8, PKCS#1, SEC1; PEM or DER; may be encrypted).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,

    /// Intermediate certificate(s) the device sends after its own (repeatable).
    #[arg(long, value_name = "FILE")]
    pub chain: Vec<PathBuf>,

    /// PKCS#12 bundle holding the device certificate, its key and maybe intermediates.
    #[arg(long, value_name = "FILE", visible_alias = "pfx")]
    pub p12: Option<PathBuf>,

    /// Name of the environment variable holding the password of an encrypted key or PKCS#12
    /// file. Without it iotdoctor asks on the terminal.
    // Hyphen values are taken, not refused: clap's refusal would print a password given here
    // by mistake.
    #[arg(long, value_name = "VAR", allow_hyphen_values = true)]
    pub key_pass_env: Option<String>,
}

const CONNECT_EXAMPLES: &str = "\
Examples:
  # A device's credentials against an MQTT broker on 8883
  iotdoctor connect --endpoint broker.example.com --ca ca.pem --cert device.pem --key device.key

  # AWS IoT Core (ATS endpoint), with the Amazon root the device trusts
  iotdoctor connect --endpoint abc123-ats.iot.eu-west-1.amazonaws.com:8883 \\
      --ca AmazonRootCA1.pem --cert device.pem.crt --key private.pem.key

  # Past TLS: send an MQTT CONNECT and report the broker's CONNACK (or its silent close)
  iotdoctor connect --endpoint abc123-ats.iot.eu-west-1.amazonaws.com --ca AmazonRootCA1.pem \\
      --cert device.pem.crt --key private.pem.key --mqtt --client-id my-thing

  # Force TLS 1.2 and keep the secrets for Wireshark
  iotdoctor connect --endpoint 127.0.0.1:8883 --ca ca.pem --tls 1.2 --keylog keys.log

  # Offer what the device offers: these suites, groups and signature schemes only
  iotdoctor connect --endpoint broker.local --ca ca.pem --tls 1.2 \\
      --ciphers ECDHE-ECDSA-AES128-GCM-SHA256 --groups secp256r1 --sigalgs ecdsa_secp256r1_sha256

  # Be the device: offer what its captured ClientHello offered, or its TLS stack's defaults
  iotdoctor connect --endpoint broker.local --ca ca.pem --like device.pcap
  iotdoctor connect --endpoint broker.local --ca ca.pem --like esp-idf-default

  # In CI: JSON report; exit 0 healthy, 1 problems, 3 unreadable input, 4 network failure
  iotdoctor connect --endpoint broker.local --ca ca.pem --format json";

const ANALYZE_EXAMPLES: &str = "\
Examples:
  # What went wrong in a capture of a device connecting to its broker
  iotdoctor analyze device.pcap

  # A TLS 1.3 capture, with the key log the client wrote (SSLKEYLOGFILE)
  iotdoctor analyze device.pcapng --keylog keys.log

  # Check the server chains in the capture against the CA the device trusts; one flow only
  iotdoctor analyze device.pcap --ca AmazonRootCA1.pem --flow 3

  # Capture a device on the bench first (any port is fine)
  sudo tcpdump -i eth0 -w device.pcap host 192.0.2.10";

const EXPLAIN_EXAMPLES: &str = "\
Examples:
  # An alert number, as most logs print it, and a wolfSSL error code
  iotdoctor explain 42
  iotdoctor explain -313 --stack wolfssl

  # An mbedTLS code (2.x and 3.x numbered some codes differently: both are shown)
  iotdoctor explain -0x7580

  # A message, as pasted from a log (quotes optional)
  iotdoctor explain unable to get local issuer certificate
  iotdoctor explain 'error:0A000412:SSL routines::sslv3 alert bad certificate'

  # What a broker's refusal means (MQTT CONNACK codes need --stack mqtt when given as numbers)
  iotdoctor explain Connection Refused: not authorised.
  iotdoctor explain 0x87 --stack mqtt

  # A whole debug log of the device's TLS stack: wolfSSL, mbedTLS (ESP-IDF and Zephyr too),
  # openssl s_client -msg/-state/-trace, gnutls-cli -d 4
  iotdoctor explain --log device.log
  ./device 2>&1 | iotdoctor explain --log -";

const SERVE_EXAMPLES: &str = "\
Examples:
  # Stand in for the broker on 8883; devices must present a certificate from device-ca.pem
  iotdoctor serve --listen 0.0.0.0:8883 --cert server.pem --key server.key \\
      --client-ca device-ca.pem

  # One connection, then exit with its verdict (for scripts and CI)
  iotdoctor serve --listen 127.0.0.1:8883 --cert server.pem --key server.key \\
      --client-ca ca.pem --once

  # Let the device complete its MQTT connection, or refuse it as AWS IoT would (5: not authorized)
  iotdoctor serve --cert server.pem --key server.key --client-ca ca.pem \\
      --mqtt --mqtt-return-code 5

  # Allow only RSA-PSS client signatures, TLS 1.2 only: does the device cope?
  iotdoctor serve --cert server.pem --key server.key --client-ca ca.pem \\
      --tls 1.2 --client-sigalgs rsa_pss_rsae_sha256";

/// What `serve` needs.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8883")]
    pub listen: std::net::SocketAddr,

    /// The server's certificate chain (leaf first; PEM or DER). May also hold the key.
    #[arg(long, value_name = "FILE")]
    pub cert: PathBuf,

    /// The server's private key.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,

    /// CA certificate(s) device certificates must chain to (repeatable); named in the
    /// CertificateRequest. Required, with --optional-client-cert too: a certificate a device
    /// sends is verified against them.
    #[arg(long, value_name = "FILE", required = true)]
    pub client_ca: Vec<PathBuf>,

    /// Accept devices that send no certificate (asked for, not required).
    #[arg(long)]
    pub optional_client_cert: bool,

    /// Accept only this TLS version.
    #[arg(long, value_enum, value_name = "VERSION")]
    pub tls: Option<TlsChoice>,

    /// Signature schemes the CertificateRequest allows, comma-separated, named as IANA or
    /// OpenSSL name them (e.g. rsa_pss_rsae_sha256,ecdsa_secp256r1_sha256 or RSA-PSS+SHA256).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub client_sigalgs: Vec<String>,

    /// ALPN protocol to accept (repeatable).
    #[arg(long, value_name = "PROTO")]
    pub alpn: Vec<String>,

    /// After the handshake, read the device's MQTT CONNECT (3.1, 3.1.1, 5) and answer CONNACK,
    /// so that the device completes its connection.
    #[arg(long)]
    pub mqtt: bool,

    /// The CONNACK return code (3.x) or reason code (5) to answer with: 0 accepts.
    #[arg(long, value_name = "CODE", default_value_t = 0, requires = "mqtt")]
    pub mqtt_return_code: u8,

    /// Serve one connection, print its report and exit with its exit code.
    #[arg(long)]
    pub once: bool,

    /// Seconds a device has to finish its handshake, counted from its connection; with --mqtt,
    /// the same again for its CONNECT, counted from the end of the handshake. Reading stops
    /// then, however slowly or however much the device sends: an unfinished handshake is
    /// reported as a timeout, with what the device had sent.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = seconds)]
    pub timeout: f64,

    /// Devices served at once, at most. Past that, new connections wait in the listen backlog
    /// (their TCP connection is up, nothing answers yet) until one ends. Default: half the
    /// process's limit of open files less 32, at most 1024 (496 under `ulimit -n 1024`). When
    /// accepting fails all the same (no file descriptor left), serve retries after a pause growing
    /// from 10 ms to 1 s, and warns once per run of failures.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,

    /// The device's TLS stack: show only its stack-specific fixes (default: every stack's).
    #[arg(long, value_enum, value_name = "STACK")]
    pub stack: Option<TlsStack>,
}

/// What `explain` reads.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// An alert (42, bad_certificate), an error code (-313, -0x7780, 0A000086, 20), a symbolic
    /// name (FATAL_ERROR, X509_V_ERR_CERT_HAS_EXPIRED) or a message (quotes optional).
    #[arg(
        value_name = "CODE|NAME|MESSAGE",
        required_unless_present = "log",
        conflicts_with = "log",
        allow_hyphen_values = true
    )]
    pub query: Option<String>,

    /// The rest of a message given without quotes.
    #[arg(value_name = "WORDS", hide = true, requires = "query")]
    pub more_words: Vec<String>,

    /// Only this stack's readings (a number means different things to different stacks).
    #[arg(long, value_enum)]
    pub stack: Option<StackChoice>,

    /// A debug log of wolfSSL, mbedTLS, OpenSSL (s_client -msg, -state, -trace) or GnuTLS
    /// (gnutls-cli -d 4 or more) to diagnose; timestamps and console prefixes are skipped;
    /// '-' reads standard input.
    #[arg(long, value_name = "FILE|-")]
    pub log: Option<PathBuf>,
}

/// The stacks whose codes `explain` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StackChoice {
    /// TLS alerts (RFC 5246, RFC 8446)
    Tls,
    Wolfssl,
    Mbedtls,
    Openssl,
    Gnutls,
    /// MQTT CONNACK return codes (3.1.1) and reason codes (5)
    Mqtt,
}

/// What `analyze` reads.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// The capture file: pcap or pcapng; `-` reads it from stdin (`tcpdump -w - | iotdoctor
    /// analyze -`).
    #[arg(value_name = "CAPTURE")]
    pub capture: PathBuf,

    /// NSS key log (as written by SSLKEYLOGFILE or `connect --keylog`) to decrypt TLS 1.3.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,

    /// CA certificate(s) to verify the server chains seen in the capture against (repeatable).
    #[arg(long, value_name = "FILE", visible_aliases = ["cafile", "cacert"])]
    pub ca: Vec<PathBuf>,

    /// Show only this flow (its number in the summary).
    #[arg(long, value_name = "N")]
    pub flow: Option<u64>,

    /// The device's TLS stack: show only its stack-specific fixes (default: every stack's).
    #[arg(long, value_enum, value_name = "STACK")]
    pub stack: Option<TlsStack>,
}

/// What `check-certs` reads.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("device-certificate").required(true).args(["cert", "p12"])))]
pub struct CheckCertsArgs {
    #[command(flatten)]
    pub device: DeviceArgs,

    /// CA certificate(s) the device certificate should chain to (repeatable).
    #[arg(long, value_name = "FILE", visible_aliases = ["cafile", "cacert"])]
    pub ca: Vec<PathBuf>,

    /// Warn when a certificate expires within this many days.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub warn_days: u32,

    /// Extra checks for a known service.
    #[arg(long, value_enum)]
    pub profile: Option<Profile>,
}

/// What `probe` needs.
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The server, as `connect` takes it: HOST, HOST:PORT, [IPv6]:PORT or a URL.
    #[arg(
        long,
        short = 'e',
        value_name = "HOST[:PORT]",
        required_unless_present = "server"
    )]
    pub endpoint: Option<String>,

    /// The server, as --endpoint takes it: `iotdoctor probe broker.example.com:8883`.
    #[arg(value_name = "HOST[:PORT]", conflicts_with = "endpoint")]
    pub server: Option<String>,

    /// The port, for an endpoint given without one.
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,

    /// CA certificate(s) the server's chain is checked against (it never stops a probe).
    #[arg(long, value_name = "FILE", visible_aliases = ["cafile", "cacert"])]
    pub ca: Vec<PathBuf>,

    /// Connect to this address without resolving the host name.
    #[arg(long, value_name = "IP")]
    pub address: Option<std::net::IpAddr>,

    /// Send this name in SNI (default: the host).
    #[arg(long, value_name = "NAME", conflicts_with = "no_sni")]
    pub sni: Option<String>,

    /// Send no SNI on any connection.
    #[arg(long)]
    pub no_sni: bool,

    /// Seconds each connection may take.
    #[arg(long, value_name = "SECS", default_value_t = 5.0, value_parser = seconds)]
    pub timeout: f64,

    /// Seconds to wait, after a TLS 1.3 handshake without a client certificate, for the
    /// server's verdict on it.
    #[arg(long, value_name = "SECS", default_value_t = 1.0, value_parser = seconds)]
    pub grace: f64,

    /// Seconds the whole probe may take: connections not started by then are not made.
    #[arg(long, value_name = "SECS", default_value_t = 60.0, value_parser = seconds)]
    pub max_time: f64,

    /// A device's offer (a capture of its ClientHello, or a preset as `connect --like` takes
    /// it): which of its versions, suites, groups and schemes the server refuses, and one
    /// connection offering all of it that rustls can.
    #[arg(long, value_name = "FILE|PRESET")]
    pub like: Option<String>,
}

/// What `connect` needs.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// The server: HOST, HOST:PORT, IPv4:PORT, [IPv6]:PORT, or a URL (mqtts://HOST:PORT,
    /// ssl://, tls://, https://). The port defaults to 8883 (MQTT over TLS; 443 for https://).
    #[arg(
        long,
        short = 'e',
        value_name = "HOST[:PORT]",
        required_unless_present = "server"
    )]
    pub endpoint: Option<String>,

    /// The server, as --endpoint takes it: `iotdoctor connect broker.example.com:8883`.
    #[arg(value_name = "HOST[:PORT]", conflicts_with = "endpoint")]
    pub server: Option<String>,

    /// The port, for an endpoint given without one.
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,

    /// CA certificate(s) to trust for the SERVER (repeatable). Without it, the Mozilla root
    /// store bundled with iotdoctor.
    #[arg(long, value_name = "FILE", visible_aliases = ["cafile", "cacert"])]
    pub ca: Vec<PathBuf>,

    #[command(flatten)]
    pub device: DeviceArgs,

    /// Connect to this address without resolving the host name, which is still sent (SNI) and
    /// checked against the certificate: curl's --resolve.
    #[arg(long, value_name = "IP")]
    pub address: Option<std::net::IpAddr>,

    /// Send this name in SNI and check the server certificate against it (default: the host).
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with = "no_sni",
        visible_alias = "servername"
    )]
    pub sni: Option<String>,

    /// Send no SNI (the certificate is still checked against the host name).
    #[arg(long)]
    pub no_sni: bool,

    /// Offer this ALPN protocol (repeatable; AWS IoT on port 443 needs x-amzn-mqtt-ca).
    #[arg(long, value_name = "PROTO")]
    pub alpn: Vec<String>,

    /// Offer only this TLS version.
    #[arg(long, value_enum, value_name = "VERSION")]
    pub tls: Option<TlsChoice>,

    /// Offer only these cipher suites, in this order: IANA or OpenSSL names or 0xNNNN, separated
    /// by , or : (TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 or ECDHE-ECDSA-AES128-CCM8).
    #[arg(long, value_name = "LIST", help_heading = "Offer what a device offers")]
    pub ciphers: Option<String>,

    /// Offer only these groups, in this order (x25519, secp256r1 or P-256, secp384r1 ...).
    #[arg(long, value_name = "LIST", help_heading = "Offer what a device offers")]
    pub groups: Option<String>,

    /// Offer only these signature schemes, in this order (ecdsa_secp256r1_sha256 or
    /// ECDSA+SHA256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256 ...).
    #[arg(long, value_name = "LIST", help_heading = "Offer what a device offers")]
    pub sigalgs: Option<String>,

    /// Offer what a device offers: FILE, a capture (pcap/pcapng) holding its ClientHello
    /// (versions, suites, groups, schemes, SNI or none, ALPN), or PRESET, a TLS stack's default
    /// offer: mbedtls-2.28-default, esp-idf-default, wolfssl-5-default, aws-iot-sdk-c.
    /// --tls, --ciphers, --groups, --sigalgs, --alpn and --sni change what it offers. What rustls
    /// cannot offer (TLS 1.0/1.1, CBC or CCM suites ...) is sent in a ClientHello iotdoctor writes
    /// itself: the report then shows the server's answer to it, and the handshake stops there.
    #[arg(
        long,
        value_name = "FILE|PRESET",
        help_heading = "Offer what a device offers"
    )]
    pub like: Option<String>,

    /// With --like FILE: the ClientHello of this flow (numbered as analyze numbers them) instead
    /// of the first one.
    #[arg(
        long,
        value_name = "N",
        requires = "like",
        help_heading = "Offer what a device offers"
    )]
    pub flow: Option<u64>,

    /// Seconds the whole connection may take: resolving the name, the TCP connection, the
    /// handshake, the wait for the server's verdict (--grace), the MQTT exchange and the close
    /// all end by then, however slowly or endlessly the server sends.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = seconds, allow_negative_numbers = true)]
    pub timeout: f64,

    /// Seconds to wait, after a TLS 1.3 handshake, for the server's verdict on the client
    /// certificate (it comes after the client thinks the handshake is done); within --timeout.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 2.0,
        allow_negative_numbers = true
    )]
    pub grace: f64,

    /// Append the TLS secrets to FILE in the NSS key log format (for Wireshark). SSLKEYLOGFILE
    /// is honoured too.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,

    /// Write the certificate chain the server sent to FILE as PEM (what `openssl s_client
    /// -showcerts` is run for), whatever the outcome.
    #[arg(long, value_name = "FILE")]
    pub save_chain: Option<PathBuf>,

    /// Do not reject the server's certificate (verification still runs and is reported).
    #[arg(long)]
    pub insecure: bool,

    /// Check what a known service needs (automatic for *.iot.*.amazonaws.com).
    #[arg(long, value_enum)]
    pub profile: Option<Profile>,

    /// The device's TLS stack: show only its stack-specific fixes (default: every stack's).
    #[arg(long, value_enum, value_name = "STACK")]
    pub stack: Option<TlsStack>,

    #[command(flatten)]
    pub mqtt: MqttArgs,
}

/// The MQTT check after the handshake (`connect --mqtt`).
#[derive(Debug, Clone, Args)]
pub struct MqttArgs {
    /// After a successful handshake, send an MQTT CONNECT and wait for the broker's CONNACK:
    /// tells a TLS failure from an MQTT refusal from a broker that closes without a word.
    #[arg(long)]
    pub mqtt: bool,

    /// MQTT client id (AWS IoT policies usually allow only the thing name). Default:
    /// iotdoctor-<random>.
    #[arg(long, value_name = "ID", requires = "mqtt")]
    pub client_id: Option<String>,

    /// MQTT protocol version of the CONNECT.
    #[arg(long, value_enum, value_name = "VERSION", default_value_t = MqttVersion::V311, requires = "mqtt")]
    pub mqtt_version: MqttVersion,

    /// MQTT user name (with --password-env, a password too).
    #[arg(long, value_name = "NAME", requires = "mqtt")]
    pub username: Option<String>,

    /// Send the password held by the environment variable VAR (never a password on the command
    /// line, which other users of the machine can see).
    #[arg(long, value_name = "VAR", requires = "username")]
    pub password_env: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MqttVersion {
    #[value(name = "3.1.1")]
    V311,
    #[value(name = "5")]
    V5,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TlsChoice {
    #[value(name = "1.2")]
    V12,
    #[value(name = "1.3")]
    V13,
}

/// Services whose requirements iotdoctor knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Profile {
    /// AWS IoT Core: key and signature algorithms it accepts, Amazon Root CA 1 / 3 in the CA file.
    AwsIot,
}

/// A time limit in seconds: more than zero, at most a day.
fn seconds(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    if value > 0.0 && value <= 86_400.0 {
        Ok(value)
    } else {
        Err(format!(
            "'{text}': give a number of seconds above 0 and up to 86400"
        ))
    }
}

/// The option iotdoctor has for a flag of `openssl s_client` or the mosquitto clients, when one
/// of the arguments is such a flag: clap's own suggestion for `-connect` would be `-c`.
pub fn habit_hint(args: &[String]) -> Option<String> {
    const HABITS: &[(&str, &str)] = &[
        (
            "-connect",
            "--endpoint HOST:PORT (or just `iotdoctor connect HOST:PORT`)",
        ),
        ("-servername", "--sni NAME (alias --servername)"),
        ("-CAfile", "--ca FILE"),
        ("-cafile", "--ca FILE"),
        ("-cert", "--cert FILE"),
        ("-key", "--key FILE"),
        ("-pass", "--key-pass-env VAR"),
        ("-alpn", "--alpn PROTO"),
        ("-tls1_2", "--tls 1.2"),
        ("-tls1_3", "--tls 1.3"),
        ("-keylogfile", "--keylog FILE"),
        ("-port", "--port PORT"),
        ("-host", "--endpoint HOST"),
        (
            "-verify_return_error",
            "nothing: iotdoctor always verifies (--insecure reports instead)",
        ),
    ];
    args.iter().find_map(|arg| {
        let flag = arg.split('=').next().unwrap_or(arg);
        HABITS
            .iter()
            .find(|(habit, _)| *habit == flag)
            .map(|(habit, ours)| format!("iotdoctor spells `{habit}` as {ours}"))
    })
}
