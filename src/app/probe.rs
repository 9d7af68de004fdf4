//! `probe`: what a server accepts and requires, learnt from real handshakes, each offering one
//! version, cipher suite, group, signature scheme or ALPN protocol alone.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rustls::crypto::SupportedKxGroup;
use rustls::crypto::aws_lc_rs::{ALL_CIPHER_SUITES, kx_group};
use rustls::pki_types::CertificateDer;
use rustls::{SignatureScheme, SupportedCipherSuite};
use tls_parser::{TlsCipherAu, TlsCipherKx};

use super::connect::Server;
use super::credentials::read_cas;
use crate::diagnose::Diagnosis;
use crate::diagnose::probe::{
    MAX_FRAGMENT_BYTES, Offered, answer, chain, client_certificate, hello_version, largest_record,
    max_fragment, mismatch, raw_detail, retried,
};
use crate::error::{Error, exit};
use crate::model::{Target, Transcript, codes};
use crate::produce::client::{ClientOptions, Restrict, TlsVersion};
use crate::produce::offer::{self, Offer};
use crate::produce::probe::{self as runner, Outcome, Trial};
use crate::report::Report;
use crate::report::probe::{Check, LargestRecord, Like, Probe, Verdict};

/// What `probe` does.
#[derive(Debug, Clone)]
pub struct Options {
    pub server: Server,
    /// Trust anchors: the chain is checked against them (a probe connection never stops on it).
    pub ca: Vec<PathBuf>,
    /// Each connection ends by then.
    pub timeout: Duration,
    /// The wait for the server's verdict on the missing client certificate after TLS 1.3.
    pub grace: Duration,
    /// The whole probe ends by then.
    pub max_time: Duration,
    /// `--like`: a device's offer, held against what the server accepts.
    pub like: Option<Offer>,
}

/// Connections at once: enough to be quick, few enough not to look like a flood.
const PARALLEL: usize = 4;

/// The most connections one probe makes: a device's suites beyond it are not tested.
const MAX_CONNECTIONS: usize = 60;

/// The ALPN protocols MQTT clients offer (AWS IoT's on port 443, and the standard one).
const ALPN: &[&str] = &["x-amzn-mqtt-ca", "mqtt"];

/// Cipher suites IoT stacks offer that rustls cannot: each offered alone in a ClientHello of
/// iotdoctor's own (TLS 1.3 for the TLS 1.3 suites, else TLS 1.2), whose answer alone is read.
const UNTESTED_SUITES: &[u16] = &[
    0x1304, // TLS_AES_128_CCM_SHA256
    0x1305, // TLS_AES_128_CCM_8_SHA256
    0xc0ac, // TLS_ECDHE_ECDSA_WITH_AES_128_CCM
    0xc0ae, // TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8
    0xc023, // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256
    0xc027, // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256
    0xc009, // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
    0xc013, // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
    0x009c, // TLS_RSA_WITH_AES_128_GCM_SHA256
    0x002f, // TLS_RSA_WITH_AES_128_CBC_SHA
    0x00a8, // TLS_PSK_WITH_AES_128_GCM_SHA256
];

/// The suites offered with TLS 1.0 or 1.1 when the device names none of that age: the CBC
/// suites with SHA-1 every stack of those versions has.
const OLD_VERSION_SUITES: &[u16] = &[
    0xc009, // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
    0xc013, // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
    0x002f, // TLS_RSA_WITH_AES_128_CBC_SHA
    0x0035, // TLS_RSA_WITH_AES_256_CBC_SHA
];

/// The groups offered one at a time.
const GROUPS: &[&dyn SupportedKxGroup] = &[
    kx_group::X25519,
    kx_group::SECP256R1,
    kx_group::SECP384R1,
    kx_group::X25519MLKEM768,
];

/// The schemes offered one at a time for the server's signature: what rustls can verify.
const SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::ECDSA_NISTP256_SHA256,
    SignatureScheme::ECDSA_NISTP384_SHA384,
    SignatureScheme::ECDSA_NISTP521_SHA512,
    SignatureScheme::ED25519,
    SignatureScheme::RSA_PSS_SHA256,
    SignatureScheme::RSA_PSS_SHA384,
    SignatureScheme::RSA_PSS_SHA512,
    SignatureScheme::RSA_PKCS1_SHA256,
    SignatureScheme::RSA_PKCS1_SHA384,
    SignatureScheme::RSA_PKCS1_SHA512,
];

/// What each connection is for.
enum Kind {
    Baseline,
    Version(TlsVersion),
    Suite(SupportedCipherSuite),
    Group(&'static dyn SupportedKxGroup),
    Scheme(SignatureScheme),
    NoSni,
    Alpn(&'static str),
    /// All of a device's offer that rustls can make.
    Like(Restrict, Option<TlsVersion>),
    /// A device's whole offer in a ClientHello of iotdoctor's own, when rustls can make none
    /// of its suites, groups or schemes.
    RawLike(Offer),
    /// A device's version rustls cannot speak (TLS 1.0, 1.1), alone in a ClientHello of
    /// iotdoctor's own with the device's suites of that version.
    RawVersion(u16, Vec<u16>),
    /// A suite rustls cannot offer, alone in a ClientHello of iotdoctor's own.
    RawSuite(u16),
    /// A device's group rustls lacks, alone in a ClientHello of iotdoctor's own with the
    /// device's versions: a TLS 1.3 server names it in a HelloRetryRequest, a TLS 1.2 one in
    /// its ServerKeyExchange.
    RawGroup(u16, Vec<u16>),
    /// A device's signature scheme rustls cannot verify, alone in a TLS 1.2 ClientHello of
    /// iotdoctor's own: the ServerKeyExchange says what the server signed with.
    RawScheme(u16),
    /// TLS 1.2 with max_fragment_length 512, in a ClientHello of iotdoctor's own.
    MaxFragment,
}

impl Kind {
    /// What the connection offers alone, as the verdict holds the server's answer against it.
    fn offered(&self) -> Offered {
        match self {
            Kind::Version(version) => Offered::Version {
                code: match version {
                    TlsVersion::V13 => offer::TLS13,
                    TlsVersion::V12 => offer::TLS12,
                },
            },
            Kind::RawVersion(code, _) => Offered::Version { code: *code },
            Kind::Suite(suite) => Offered::Suite {
                code: u16::from(suite.suite()),
                tls13: version_of(suite) == TlsVersion::V13,
                own: false,
            },
            Kind::RawSuite(code) => Offered::Suite {
                code: *code,
                tls13: raw_version(*code) == TlsVersion::V13,
                own: true,
            },
            Kind::Group(group) => Offered::Group {
                code: u16::from(group.name()),
                // A hybrid post-quantum group exists only in TLS 1.3.
                tls13_only: !group.usable_for_version(rustls::ProtocolVersion::TLSv1_2),
                own: false,
            },
            Kind::RawGroup(code, versions) => Offered::Group {
                code: *code,
                tls13_only: versions == &[offer::TLS13],
                own: true,
            },
            Kind::Scheme(scheme) => Offered::Scheme(u16::from(*scheme)),
            Kind::RawLike(_) => Offered::Whole,
            Kind::RawScheme(code) => Offered::Scheme(*code),
            Kind::Baseline | Kind::NoSni | Kind::Alpn(_) | Kind::Like(..) | Kind::MaxFragment => {
                Offered::Other
            }
        }
    }
}

/// Runs the probe: the report, and the exit code (0 when the server answered, 4 when no
/// connection reached it).
pub fn run(options: &Options) -> Result<(Report, u8), Error> {
    let started = Instant::now();
    let cas = read_cas(&options.ca, &[])?;
    let roots: Option<Vec<CertificateDer<'static>>> = (!cas.is_empty()).then(|| {
        cas.iter()
            .map(|ca| CertificateDer::from(ca.raw.der.clone()))
            .collect()
    });
    let server = &options.server;
    let (sni, verify_name) = server.names();
    let base = || ClientOptions {
        host: server.host.clone(),
        port: server.port,
        address: server.address,
        sni: sni.clone(),
        verify_name: verify_name.clone(),
        alpn: vec![],
        tls: None,
        timeout: options.timeout,
        grace: Duration::ZERO,
        roots: roots.clone(),
        identity: None,
        // The probe measures what the server accepts: its chain must not end a handshake
        // (the verdict on it is still recorded).
        insecure: true,
        keylog: None,
        mqtt: None,
    };

    let mut kinds = vec![
        Kind::Baseline,
        Kind::Version(TlsVersion::V12),
        Kind::Version(TlsVersion::V13),
    ];
    kinds.extend(ALL_CIPHER_SUITES.iter().map(|&s| Kind::Suite(s)));
    kinds.extend(GROUPS.iter().map(|&g| Kind::Group(g)));
    kinds.extend(SCHEMES.iter().map(|&s| Kind::Scheme(s)));
    if sni.is_some() {
        kinds.push(Kind::NoSni);
    }
    kinds.extend(ALPN.iter().map(|&p| Kind::Alpn(p)));
    kinds.extend(UNTESTED_SUITES.iter().map(|&s| Kind::RawSuite(s)));
    kinds.push(Kind::MaxFragment);
    if let Some(device) = &options.like {
        // As the bound leaves room for (one connection is the device's whole offer).
        let room = MAX_CONNECTIONS.saturating_sub(kinds.len() + 1);
        kinds.extend(device_only(device).into_iter().take(room));
    }
    // An empty list would offer all rustls has: a device's offer of which rustls can make
    // nothing in one part is not tried together.
    let mut together: Option<Check> = None;
    if let Some(device) = &options.like {
        let (restrict, tls) = restrict_to(device);
        let none_of = [
            (
                "cipher suites",
                device.suites.is_empty(),
                restrict.suites.is_empty(),
            ),
            (
                "groups",
                device.groups.is_empty(),
                restrict.groups.is_empty(),
            ),
            (
                "signature schemes",
                device.sigalgs.is_empty(),
                restrict.schemes.is_empty(),
            ),
        ]
        .into_iter()
        .find(|&(_, given, made)| !given && made);
        match none_of {
            // The whole offer goes in a hello of iotdoctor's own instead.
            Some(_) => kinds.push(Kind::RawLike(device.clone())),
            None => kinds.push(Kind::Like(restrict, tls)),
        }
    }

    let trials = kinds
        .iter()
        .map(|kind| {
            let mut options_ = base();
            let mut restrict = Restrict::default();
            let raw = raw_offer(kind);
            match kind {
                Kind::Baseline => options_.grace = options.grace,
                Kind::Version(version) => options_.tls = Some(*version),
                Kind::Suite(suite) => {
                    restrict.suites = vec![*suite];
                    options_.tls = Some(version_of(suite));
                }
                Kind::Group(group) => {
                    restrict.groups = vec![*group];
                    // A hybrid post-quantum group exists only in TLS 1.3.
                    if !group.usable_for_version(rustls::ProtocolVersion::TLSv1_2) {
                        options_.tls = Some(TlsVersion::V13);
                    }
                }
                Kind::Scheme(scheme) => restrict.schemes = vec![*scheme],
                Kind::NoSni => options_.sni = None,
                Kind::Alpn(protocol) => options_.alpn = vec![protocol.to_string()],
                Kind::Like(device, tls) => {
                    restrict = device.clone();
                    options_.tls = *tls;
                }
                Kind::RawVersion(..)
                | Kind::RawLike(_)
                | Kind::RawSuite(_)
                | Kind::RawGroup(..)
                | Kind::RawScheme(_)
                | Kind::MaxFragment => {}
            }
            Trial {
                options: options_,
                restrict,
                raw,
            }
        })
        .collect();
    let outcomes = runner::run(trials, PARALLEL, started + options.max_time);

    let mut probe = Probe::default();
    let mut baseline: Option<(Target, Transcript)> = None;
    let mut answered = false;
    let mut unstarted = 0;
    let mut records: Vec<LargestRecord> = Vec::new();
    for (kind, outcome) in kinds.iter().zip(outcomes) {
        let (mut check, transcript) = match outcome {
            Outcome::Ran(run) => {
                probe.connections += 1;
                let (mut result, mut detail) = answer(&run.transcript);
                if let Some(retry) = retried(kind.offered(), &run.transcript) {
                    (result, detail) = retry;
                }
                answered |= result != Verdict::Unknown;
                if result == Verdict::Accepted
                    && let Some(why) = mismatch(kind.offered(), &run.transcript)
                {
                    // A ServerHello that takes something else than was offered ends the
                    // handshake as surely as an alert.
                    result = Verdict::Refused;
                    detail = Some(why);
                }
                if let Some(record) = largest_record(&run.transcript) {
                    records.push(record);
                }
                let check = Check {
                    result,
                    version: (result == Verdict::Accepted)
                        .then(|| run.transcript.tls_version.clone())
                        .flatten(),
                    detail,
                    ..Check::default()
                };
                if matches!(kind, Kind::Baseline) {
                    baseline = Some((run.target.clone(), run.transcript.clone()));
                }
                (check, Some(run.transcript))
            }
            Outcome::Unusable(why) => (
                Check {
                    detail: Some(why),
                    ..Check::default()
                },
                None,
            ),
            Outcome::NotStarted => {
                unstarted += 1;
                (
                    Check {
                        detail: Some("the probe's --max-time ran out first".into()),
                        ..Check::default()
                    },
                    None,
                )
            }
        };
        match kind {
            Kind::Baseline => {}
            Kind::Version(version) => {
                check.name = match version {
                    TlsVersion::V12 => "TLSv1.2",
                    TlsVersion::V13 => "TLSv1.3",
                }
                .into();
                probe.versions.push(check);
            }
            Kind::Suite(suite) => {
                let code = u16::from(suite.suite());
                check.name = codes::cipher_suite(code).to_string();
                check.code = Some(code);
                probe.cipher_suites.push(check);
            }
            Kind::Group(group) => {
                let code = u16::from(group.name());
                check.name = codes::group(code).to_string();
                check.code = Some(code);
                probe.groups.push(check);
            }
            Kind::Scheme(scheme) => {
                let code = u16::from(*scheme);
                check.name = codes::signature_scheme(code).to_string();
                check.code = Some(code);
                probe.signature_schemes.push(check);
            }
            Kind::NoSni => {
                check.name = "connection without SNI".into();
                if check.result == Verdict::Refused {
                    check.detail = Some(format!(
                        "SNI is required{}",
                        check
                            .detail
                            .as_ref()
                            .map(|d| format!(" ({d})"))
                            .unwrap_or_default()
                    ));
                }
                probe.without_sni = check;
            }
            Kind::Alpn(protocol) => {
                check.name = format!("ALPN {protocol}");
                if check.result == Verdict::Accepted {
                    check.detail = Some(match transcript.as_ref().and_then(|t| t.alpn.clone()) {
                        Some(selected) => format!("selected {selected}"),
                        None => "no protocol selected (the server ignores ALPN)".into(),
                    });
                }
                probe.alpn.push(check);
            }
            Kind::Like(..) => {
                check.name = "all of the device's offer that rustls can make, together".into();
                together = Some(check);
            }
            Kind::RawLike(_) => {
                check.name = "all of the device's offer, together".into();
                together = Some(own_hello(check, transcript.as_ref()));
            }
            Kind::RawVersion(code, _)
            | Kind::RawSuite(code)
            | Kind::RawGroup(code, _)
            | Kind::RawScheme(code) => {
                let (name, list): (fn(u16) -> codes::Named, _) = match kind {
                    Kind::RawVersion(..) => (codes::version, &mut probe.versions),
                    Kind::RawSuite(_) => (codes::cipher_suite, &mut probe.cipher_suites),
                    Kind::RawGroup(..) => (codes::group, &mut probe.groups),
                    _ => (codes::signature_scheme, &mut probe.signature_schemes),
                };
                check.name = name(*code).to_string();
                check.code = Some(*code);
                list.push(own_hello(check, transcript.as_ref()));
            }
            Kind::MaxFragment => {
                let tls12 = probe
                    .versions
                    .iter()
                    .any(|c| c.name == "TLSv1.2" && c.result == Verdict::Accepted);
                probe.max_fragment_length = Some(max_fragment(
                    check.result,
                    check.detail,
                    transcript.as_ref(),
                    tls12,
                ));
            }
        }
    }
    if let Some(device) = &options.like {
        probe.like = Some(like(device, &probe, together.take().unwrap_or_default()));
    }
    if sni.is_none() {
        probe.without_sni = Check {
            name: "connection without SNI".into(),
            result: probe
                .versions
                .iter()
                .find(|c| c.result == Verdict::Accepted)
                .map_or(Verdict::NotTested, |c| c.result),
            detail: Some("every connection was made without SNI".into()),
            ..Check::default()
        };
    }
    if unstarted > 0 {
        probe.notes.push(format!(
            "{unstarted} connections were not made: --max-time ({} s) ran out",
            options.max_time.as_secs_f64()
        ));
    }
    probe.largest_record = records.into_iter().max_by_key(|r| r.length);
    let (target, transcript) = match baseline {
        Some((target, transcript)) => (target, Some(transcript)),
        None => (
            Target {
                endpoint: server.endpoint.clone(),
                sni: sni.clone(),
                address: None,
            },
            None,
        ),
    };
    if let Some(transcript) = &transcript {
        probe.client_certificate = client_certificate(transcript);
        probe.chain = chain(transcript);
    }

    let mut report = Report::new("probe", vec![], Diagnosis::default());
    // The baseline's transcript stays out: its handshake may have failed (a client certificate
    // was required), and the report says what the server accepted, not how one handshake went.
    report.target = Some(target);
    if !answered {
        report.outcome = crate::report::Outcome::Problems;
    }
    report.probe = Some(probe);
    let code = if answered { exit::OK } else { exit::NETWORK };
    Ok((report, code))
}

/// What of a device's offer neither rustls nor the probe's own list can offer, each alone in a
/// ClientHello of iotdoctor's own: its old versions, then its groups, schemes and suites, in
/// the order a bound on connections cuts them.
fn device_only(device: &Offer) -> Vec<Kind> {
    let versions = device.versions();
    let mut kinds: Vec<Kind> = Vec::new();
    let old_suites: Vec<u16> = device
        .suites
        .iter()
        .copied()
        .filter(|&s| raw_version(s) == TlsVersion::V12)
        .collect();
    for &version in versions.iter().filter(|&&v| v < offer::TLS12) {
        kinds.push(Kind::RawVersion(version, old_suites.clone()));
    }
    let modern: Vec<u16> = versions
        .iter()
        .copied()
        .filter(|&v| v >= offer::TLS12)
        .collect();
    for &group in &device.groups {
        if GROUPS.iter().any(|g| u16::from(g.name()) == group) {
            continue;
        }
        let with = if is_ffdhe(group) {
            // In TLS 1.2 a finite-field group goes with DHE suites, which the servers it
            // matters for choose by other rules (RFC 7919): only TLS 1.3 is asked.
            if !modern.contains(&offer::TLS13) {
                continue;
            }
            vec![offer::TLS13]
        } else if modern.is_empty() {
            vec![offer::TLS12]
        } else {
            modern.clone()
        };
        kinds.push(Kind::RawGroup(group, with));
    }
    // A TLS 1.3 server's signature is encrypted: only TLS 1.2 shows it.
    if versions.contains(&offer::TLS12) {
        for &scheme in &device.sigalgs {
            if !SCHEMES.iter().any(|s| u16::from(*s) == scheme) {
                kinds.push(Kind::RawScheme(scheme));
            }
        }
    }
    kinds.extend(
        device
            .suites
            .iter()
            .filter(|&&s| {
                s != offer::RENEGOTIATION_SCSV
                    && !UNTESTED_SUITES.contains(&s)
                    && !ALL_CIPHER_SUITES.iter().any(|r| u16::from(r.suite()) == s)
            })
            .map(|&s| Kind::RawSuite(s)),
    );
    kinds
}

/// Whether a TLS 1.2 suite's key exchange is ECDHE, signed by the server.
fn is_ecdhe(suite: u16) -> bool {
    codes::cipher_suite_info(suite).is_some_and(|info| {
        info.kx == TlsCipherKx::Ecdhe && matches!(info.au, TlsCipherAu::Ecdsa | TlsCipherAu::Rsa)
    })
}

/// The finite-field Diffie-Hellman groups of RFC 7919 (ffdhe2048 .. ffdhe8192).
fn is_ffdhe(group: u16) -> bool {
    group >> 8 == 0x01
}

/// What of a device's offer rustls can make: its suites, groups and schemes that rustls has,
/// and the one version when it offers only one.
fn restrict_to(device: &Offer) -> (Restrict, Option<TlsVersion>) {
    let restrict = Restrict {
        suites: ALL_CIPHER_SUITES
            .iter()
            .filter(|s| device.suites.contains(&u16::from(s.suite())))
            .copied()
            .collect(),
        groups: GROUPS
            .iter()
            .filter(|g| device.groups.contains(&u16::from(g.name())))
            .copied()
            .collect(),
        schemes: SCHEMES
            .iter()
            .filter(|s| device.sigalgs.contains(&u16::from(**s)))
            .copied()
            .collect(),
    };
    let versions = device.versions();
    let tls = match (
        versions.contains(&offer::TLS13),
        versions.contains(&offer::TLS12),
    ) {
        (true, false) => Some(TlsVersion::V13),
        (false, true) => Some(TlsVersion::V12),
        _ => None,
    };
    (restrict, tls)
}

/// A check on a ClientHello of iotdoctor's own: its detail says the handshake was not
/// completed, and an acceptance carries the version of the server's hello.
fn own_hello(mut check: Check, transcript: Option<&Transcript>) -> Check {
    check.detail = Some(raw_detail(check.result, check.detail.as_deref()));
    if check.result == Verdict::Accepted && check.version.is_none() {
        check.version = transcript.and_then(hello_version);
    }
    check
}

/// The device's offer item by item, each with what the server said to it offered alone.
fn like(device: &Offer, probe: &Probe, together: Check) -> Like {
    let mut items = Vec::new();
    let bound = format!("not offered: the probe makes at most {MAX_CONNECTIONS} connections");
    let mut add = |what: &str, code: u16, name: String, probed: &[Check], untestable: &str| {
        let found = probed
            .iter()
            .find(|c| c.code == Some(code) || (c.code.is_none() && c.name == name));
        let mut check = match found {
            Some(found) => found.clone(),
            None => Check {
                detail: Some(untestable.to_string()),
                ..Check::default()
            },
        };
        check.name = format!("{what} {name}");
        check.code = Some(code);
        items.push(check);
    };
    for version in device.versions() {
        let name = codes::version(version).to_string();
        add("version", version, name, &probe.versions, &bound);
    }
    for &suite in &device.suites {
        if suite == offer::RENEGOTIATION_SCSV {
            continue;
        }
        let name = codes::cipher_suite(suite).to_string();
        add("cipher suite", suite, name, &probe.cipher_suites, &bound);
    }
    let tls12 = device.versions().contains(&offer::TLS12);
    for &group in &device.groups {
        let name = codes::group(group).to_string();
        let why = if is_ffdhe(group) && !device.versions().contains(&offer::TLS13) {
            "not offered: in TLS 1.2 a finite-field group goes with DHE suites, chosen by other rules"
        } else {
            &bound
        };
        add("group", group, name, &probe.groups, why);
    }
    for &scheme in &device.sigalgs {
        let name = codes::signature_scheme(scheme).to_string();
        let why = if tls12 {
            &bound
        } else {
            "not offered: rustls cannot verify it, and a TLS 1.3 server's signature is encrypted"
        };
        add(
            "signature scheme",
            scheme,
            name,
            &probe.signature_schemes,
            why,
        );
    }
    Like {
        source: device
            .source
            .clone()
            .unwrap_or_else(|| "--like".to_string()),
        together,
        items,
    }
}

fn version_of(suite: &SupportedCipherSuite) -> TlsVersion {
    match suite {
        SupportedCipherSuite::Tls13(_) => TlsVersion::V13,
        _ => TlsVersion::V12,
    }
}

/// The version a suite rustls cannot offer is offered with: its own for TLS 1.3's.
fn raw_version(suite: u16) -> TlsVersion {
    if suite >> 8 == 0x13 {
        TlsVersion::V13
    } else {
        TlsVersion::V12
    }
}

/// What a connection offers in a ClientHello of iotdoctor's own, and the suites of its hello
/// when the offer names none.
fn raw_offer(kind: &Kind) -> Option<(Offer, Vec<u16>)> {
    match kind {
        Kind::RawVersion(version, suites) => Some((
            Offer {
                versions: vec![*version],
                ..Offer::default()
            },
            if suites.is_empty() {
                OLD_VERSION_SUITES.to_vec()
            } else {
                suites.clone()
            },
        )),
        // rustls's suites: in TLS 1.2 all ECDHE, so that the group decides. A TLS 1.3 server
        // answers the group alone (no key share) with a HelloRetryRequest naming it. A TLS 1.2
        // client's groups also bound the curve of the server's ECDSA certificate (RFC 8422), so
        // a TLS 1.2 hello lists iotdoctor's own groups after it: the ServerKeyExchange then
        // shows whether the server took the device's group or passed it over.
        Kind::RawGroup(group, versions) => Some((
            Offer {
                versions: versions.clone(),
                groups: if versions.contains(&offer::TLS13) {
                    vec![*group]
                } else {
                    std::iter::once(*group)
                        .chain(offer::DEFAULT_GROUPS.iter().copied())
                        .collect()
                },
                ..Offer::default()
            },
            offer::rustls_suites(),
        )),
        // ECDHE suites only: with RSA key exchange or PSK the server signs nothing, and its
        // ServerHello would say nothing of the scheme.
        Kind::RawScheme(scheme) => Some((
            Offer {
                versions: vec![offer::TLS12],
                sigalgs: vec![*scheme],
                ..Offer::default()
            },
            offer::rustls_suites()
                .into_iter()
                .chain(UNTESTED_SUITES.iter().copied())
                .filter(|&s| raw_version(s) == TlsVersion::V12 && is_ecdhe(s))
                .collect(),
        )),
        Kind::RawLike(device) => Some((device.clone(), offer::rustls_suites())),
        Kind::RawSuite(suite) => Some((
            Offer {
                versions: vec![match raw_version(*suite) {
                    TlsVersion::V13 => offer::TLS13,
                    TlsVersion::V12 => offer::TLS12,
                }],
                suites: vec![*suite],
                ..Offer::default()
            },
            vec![],
        )),
        // Every TLS 1.2 suite iotdoctor knows, so that the server's answer is about the
        // extension and not about the suites.
        Kind::MaxFragment => Some((
            Offer {
                versions: vec![offer::TLS12],
                max_fragment_length: Some(MAX_FRAGMENT_CODE),
                ..Offer::default()
            },
            offer::rustls_suites()
                .into_iter()
                .chain(UNTESTED_SUITES.iter().copied())
                .filter(|&s| raw_version(s) == TlsVersion::V12)
                .collect(),
        )),
        _ => None,
    }
}

/// max_fragment_length 1: records of at most 512 bytes, the least RFC 6066 lets a client ask.
const MAX_FRAGMENT_CODE: u8 = 1;
// The verdict holds the server's echo against the size this code asks for.
const _: () = assert!(256u16 << MAX_FRAGMENT_CODE == MAX_FRAGMENT_BYTES);
