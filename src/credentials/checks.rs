//! The offline checks: from loaded credentials and a clock to findings, plus the summary the
//! report shows (certificates, key, chain). Pure: no I/O.

use std::collections::HashSet;
use std::path::PathBuf;

use serde::Serialize;

use super::chain::{self, ChainEnd};
use super::inspect::{CertInfo, PublicKeyInfo, short_dn};
use super::keys::{KeyInfo, KeyMatch};
use super::load::{Container, Other};
use super::{Credentials, LoadedCert, LoadedKey, Role, aws_iot};
use crate::model::certificate::KeyEncoding;
use crate::model::finding::{Finding, FindingId, Severity};
use crate::model::{Side, Transcript, What};

/// Knobs of the checks.
#[derive(Debug, Clone, Copy)]
pub struct CheckOptions {
    /// Seconds since the Unix epoch: the one "now" every validity check uses.
    pub now: i64,
    /// Warn when a certificate expires within this many days.
    pub warn_days: u32,
    /// Apply AWS IoT Core's requirements.
    pub aws_iot: bool,
}

/// What the checks saw, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialsSummary {
    pub certificates: Vec<CertificateEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyEntry>,
    pub chain: ChainSummary,
}

#[derive(Debug, Clone, Serialize)]
pub struct CertificateEntry {
    pub file: PathBuf,
    /// 1-based position among the certificates of the file.
    pub position: usize,
    pub role: Role,
    /// Whether this is the device (end-entity) certificate the checks are about.
    pub leaf: bool,
    pub days_left: i64,
    #[serde(flatten)]
    pub info: CertInfo,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeyEntry {
    pub file: PathBuf,
    pub container: Container,
    pub encoding: KeyEncoding,
    pub encrypted: bool,
    /// Algorithm and size, when known. Never any key material.
    pub key: Option<PublicKeyInfo>,
    pub matches_certificate: KeyMatch,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChainSummary {
    /// Subjects from the device certificate upwards, as far as the chain could be built.
    pub path: Vec<String>,
    /// `trusted`, `untrusted-root`, `missing-issuer`, `wrong-issuer-key`, `too-long` or `not-checked`.
    pub status: &'static str,
    /// The CA the chain reached, when trusted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor: Option<String>,
    /// The issuer that could not be found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_issuer: Option<String>,
}

/// Runs every check. Findings come out most severe first.
pub fn check(creds: &Credentials, options: &CheckOptions) -> (CredentialsSummary, Vec<Finding>) {
    let mut findings = Vec::new();
    let key_info = creds.key.as_ref().map(|k| KeyInfo::inspect(&k.key.der));

    // The pool the chain is built from: the device file first, then --chain files.
    let pool: Vec<&LoadedCert> = creds.device.iter().chain(&creds.chain).collect();
    let infos: Vec<&CertInfo> = pool.iter().map(|c| &c.info).collect();
    let leaf = pick_leaf(&creds.device, key_info.as_ref());

    // Under the AWS IoT profile, Amazon roots in --ca are the device's trust in the *server*;
    // they never anchor the device certificate, so keep them out of its chain.
    let anchors: Vec<&LoadedCert> = creds
        .cas
        .iter()
        .filter(|ca| !(options.aws_iot && aws_iot::amazon_root(&ca.info).is_some()))
        .collect();
    let anchor_infos: Vec<&CertInfo> = anchors.iter().map(|c| &c.info).collect();

    let Some(leaf) = leaf else {
        // `--cert` files must hold a certificate to be read at all: only a PKCS#12 bundle gets
        // here, one exported with `-nocerts`. A device using it sends an empty Certificate.
        let key = creds.key.as_ref().zip(key_info.as_ref());
        let (subject, holds) = match key {
            Some((loaded, _)) => (
                loaded.path.display().to_string(),
                "a private key but no certificate",
            ),
            None => (
                "--p12".to_string(),
                "neither a private key nor a certificate",
            ),
        };
        findings.push(
            Finding::new(
                FindingId::ClientCertMissing,
                Severity::Error,
                subject,
                format!(
                    "the bundle holds {holds}: a device using it has no certificate to send (its Certificate message is empty) and servers that ask for one refuse the handshake"
                ),
            )
            .with_hint(
                "Export the bundle with the certificate and its intermediates: openssl pkcs12 -export -in device.pem -inkey device.key -certfile intermediate.pem -out device.p12 (without -nocerts).",
            ),
        );
        let key_entry = key.map(|(loaded, info)| KeyEntry {
            file: loaded.path.clone(),
            container: loaded.container,
            encoding: loaded.key.encoding,
            encrypted: loaded.key.encrypted,
            key: info.algorithm.clone(),
            matches_certificate: KeyMatch::Unknown,
        });
        return (
            CredentialsSummary {
                certificates: vec![],
                key: key_entry,
                chain: ChainSummary::not_checked(vec![]),
            },
            findings,
        );
    };
    let leaf_cert = &infos[leaf];
    let leaf_name = leaf_cert.short_name();

    // Key.
    let key_entry = creds
        .key
        .as_ref()
        .zip(key_info.as_ref())
        .map(|(loaded, info)| {
            let matches = info.matches(leaf_cert);
            findings.extend(key_findings(
                loaded.path.display().to_string(),
                info,
                matches,
                leaf_cert,
            ));
            KeyEntry {
                file: loaded.path.clone(),
                container: loaded.container,
                encoding: loaded.key.encoding,
                encrypted: loaded.key.encrypted,
                key: info.algorithm.clone(),
                matches_certificate: matches,
            }
        });
    if creds.key.is_none() {
        findings.push(Finding::new(
            FindingId::KeyNotChecked,
            Severity::Info,
            &leaf_name,
            "no private key given (--key): whether the key belongs to the certificate was not checked",
        ));
    }

    // Chain.
    let built = chain::build(&infos, leaf, &anchor_infos);
    findings.extend(chain_findings(&built, &infos, &anchors, creds, options));
    let summary_chain = ChainSummary {
        path: built
            .path
            .iter()
            .map(|&i| infos[i].subject.clone())
            .collect(),
        status: match (&built.end, anchors.is_empty()) {
            (_, true) => "not-checked",
            (ChainEnd::Trusted { .. }, _) => "trusted",
            (ChainEnd::UntrustedRoot, _) => "untrusted-root",
            (ChainEnd::MissingIssuer { .. }, _) => "missing-issuer",
            (ChainEnd::WrongIssuerKey { .. }, _) => "wrong-issuer-key",
            (ChainEnd::TooLong, _) => "too-long",
        },
        anchor: match built.end {
            ChainEnd::Trusted { anchor } => Some(anchors[anchor].info.subject.clone()),
            _ => None,
        },
        missing_issuer: match &built.end {
            ChainEnd::MissingIssuer { issuer } | ChainEnd::WrongIssuerKey { issuer } => {
                Some(issuer.clone())
            }
            _ => None,
        },
    };

    // Each certificate of the chain (not a self-signed root's own signature).
    for &index in &built.path {
        let cert = infos[index];
        let name = cert.short_name();
        findings.extend(validity_findings(cert, &name, index == leaf, options));
        findings.extend(algorithm_findings(cert, &name));
    }
    findings.extend(usage_findings(leaf_cert, &leaf_name));
    findings.extend(order_findings(&pool, &built.path, leaf, &anchor_infos));
    findings.extend(
        creds
            .ignored
            .iter()
            .map(|(path, other)| ignored_block(path, other)),
    );

    if options.aws_iot {
        findings.extend(aws_iot::check_device_certificate(leaf_cert, &leaf_name));
        let cas: Vec<&CertInfo> = creds.cas.iter().map(|c| &c.info).collect();
        let subject = if creds.cas.is_empty() {
            "--ca".to_string()
        } else {
            aws_iot::ca_files(&creds.cas)
        };
        findings.extend(aws_iot::check_server_roots(&cas, &subject));
    }

    let on_path: HashSet<usize> = built.path.iter().copied().collect();
    let mut certificates: Vec<CertificateEntry> = pool
        .iter()
        .enumerate()
        .map(|(i, c)| entry(c, i == leaf && on_path.contains(&i), options.now))
        .collect();
    certificates.extend(creds.cas.iter().map(|c| entry(c, false, options.now)));

    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    (
        CredentialsSummary {
            certificates,
            key: key_entry,
            chain: summary_chain,
        },
        findings,
    )
}

impl ChainSummary {
    fn not_checked(path: Vec<String>) -> Self {
        ChainSummary {
            path,
            status: "not-checked",
            anchor: None,
            missing_issuer: None,
        }
    }
}

fn entry(cert: &LoadedCert, leaf: bool, now: i64) -> CertificateEntry {
    CertificateEntry {
        file: cert.origin.path.clone(),
        position: cert.origin.position,
        role: cert.role,
        leaf,
        days_left: cert.info.days_left(now),
        info: cert.info.clone(),
    }
}

/// The device certificate: the one the key belongs to, else the first that issued no other
/// certificate of the file, else the first.
fn pick_leaf(device: &[LoadedCert], key: Option<&KeyInfo>) -> Option<usize> {
    if let Some(key) = key
        && let Some(i) = device
            .iter()
            .position(|c| key.matches(&c.info) == KeyMatch::Matches)
    {
        return Some(i);
    }
    let issues_another = |c: &LoadedCert| {
        device
            .iter()
            .any(|other| !std::ptr::eq(other, c) && other.info.raw.issuer == c.info.raw.subject)
    };
    device
        .iter()
        .position(|c| !issues_another(c))
        .or(if device.is_empty() { None } else { Some(0) })
}

/// The check `check` makes of a key against its certificate, alone: the finding that says the
/// key does not belong to `cert`, if it does not. For a caller that must refuse such a pair (a
/// server's own certificate and key).
pub fn key_mismatch(key: &LoadedKey, cert: &CertInfo) -> Option<Finding> {
    let info = KeyInfo::inspect(&key.key.der);
    key_findings(
        key.path.display().to_string(),
        &info,
        info.matches(cert),
        cert,
    )
    .into_iter()
    .find(|finding| finding.id == FindingId::ClientKeyMismatch)
}

fn key_findings(
    key_file: String,
    key: &KeyInfo,
    matches: KeyMatch,
    leaf: &CertInfo,
) -> Vec<Finding> {
    let leaf_name = leaf.short_name();
    match matches {
        KeyMatch::Matches => vec![],
        KeyMatch::DoesNotMatch => {
            let detail = match &key.algorithm {
                Some(alg) if *alg != leaf.key => {
                    format!(": the key is {alg}, the certificate's key is {}", leaf.key)
                }
                Some(alg) => format!(": both are {alg}, but they are different keys"),
                None => String::new(),
            };
            vec![Finding::new(
                FindingId::ClientKeyMismatch,
                Severity::Error,
                key_file,
                format!("this private key does not belong to certificate '{leaf_name}'{detail}"),
            )]
        }
        KeyMatch::Unknown => {
            let why = key
                .rustls_refusal
                .as_deref()
                .unwrap_or("its public half cannot be derived");
            vec![Finding::new(
                FindingId::KeyNotChecked,
                Severity::Warning,
                key_file,
                format!("could not compare this key with certificate '{leaf_name}': {why}"),
            )]
        }
    }
}

fn chain_findings(
    built: &chain::Chain,
    infos: &[&CertInfo],
    anchors: &[&LoadedCert],
    creds: &Credentials,
    options: &CheckOptions,
) -> Vec<Finding> {
    let top = infos[*built.path.last().unwrap_or(&0)];
    let leaf_name = infos[built.path[0]].short_name();
    // A system bundle holds a hundred and more CAs: a message names the first few.
    const NAMED: usize = 5;
    let anchor_names = || {
        let names: Vec<String> = anchors
            .iter()
            .take(NAMED)
            .map(|a| format!("'{}'", short_dn(&a.info.subject)))
            .collect();
        match anchors.len().saturating_sub(NAMED) {
            0 => names.join(", "),
            more => format!("{} and {more} more", names.join(", ")),
        }
    };

    if anchors.is_empty() {
        let ends = match &built.end {
            ChainEnd::UntrustedRoot => format!("ends at root '{}'", top.short_name()),
            ChainEnd::MissingIssuer { issuer } | ChainEnd::WrongIssuerKey { issuer } => {
                format!(
                    "stops at '{}', issued by '{}'",
                    top.short_name(),
                    short_dn(issuer)
                )
            }
            _ => format!("ends at '{}'", top.short_name()),
        };
        let message = if options.aws_iot && !creds.cas.is_empty() {
            format!(
                "the chain at hand {ends}. The Amazon root CAs given are for trusting the server, not the device certificate; \
                 AWS checks the device certificate at connect time (give --ca with your own CA if you registered one)"
            )
        } else {
            format!("no --ca given: trust not checked; the chain at hand {ends}")
        };
        return vec![Finding::new(
            FindingId::ChainNotChecked,
            Severity::Info,
            leaf_name,
            message,
        )];
    }

    match &built.end {
        ChainEnd::Trusted { .. } => vec![],
        ChainEnd::UntrustedRoot => vec![Finding::new(
            FindingId::ClientCaUntrusted,
            Severity::Error,
            &leaf_name,
            format!(
                "the chain ends at root '{}', which is not among the CAs given ({})",
                top.short_name(),
                anchor_names()
            ),
        )],
        ChainEnd::MissingIssuer { issuer } => {
            let issuer_name = short_dn(issuer);
            let stops_at = if built.path.len() == 1 {
                "the certificate file holds only the device certificate".to_string()
            } else {
                format!("the chain stops at '{}'", top.short_name())
            };
            if let Some(finding) = stranger_issuer(top, issuer, &stops_at, anchors, &leaf_name) {
                return vec![finding];
            }
            vec![Finding::new(
                FindingId::ClientChainIncomplete,
                Severity::Error,
                &leaf_name,
                format!("{stops_at}: its issuer '{issuer_name}' is in none of the files given (certificate file, --chain, --ca)"),
            )
            .with_hint(format!(
                "If '{issuer_name}' is an intermediate CA, append its certificate to the certificate file after the device certificate \
                 (or pass it with --chain). If it is a root CA, the certificate comes from a CA other than the one(s) given ({}).",
                anchor_names()
            ))]
        }
        ChainEnd::WrongIssuerKey { issuer } => {
            let issuer_name = short_dn(issuer);
            let in_cas = anchors.iter().any(|a| a.info.subject == *issuer);
            let (id, place) = if in_cas {
                (FindingId::ClientCaUntrusted, "the CA given")
            } else {
                (FindingId::ClientChainIncomplete, "the intermediate given")
            };
            vec![Finding::new(
                id,
                Severity::Error,
                &leaf_name,
                format!(
                    "'{}' names '{issuer_name}' as issuer, but {place} under that name did not sign it: \
                     it is a different CA with the same name (re-keyed or re-issued)",
                    top.short_name()
                ),
            )]
        }
        ChainEnd::TooLong => vec![Finding::new(
            FindingId::ChainNotChecked,
            Severity::Warning,
            &leaf_name,
            "gave up building the chain after 10 certificates",
        )],
    }
}

/// The issuer nobody has, weighed against the CAs given: when it shares neither their
/// organisation nor their key identifiers, the certificate comes from another CA, not from an
/// intermediate left out. Both readings stay in the message.
fn stranger_issuer(
    top: &CertInfo,
    issuer: &str,
    stops_at: &str,
    anchors: &[&LoadedCert],
    leaf_name: &str,
) -> Option<Finding> {
    let known: Vec<chain::KnownCa<'_>> = anchors
        .iter()
        .map(|a| chain::KnownCa {
            subject: &a.info.subject,
            key_id: chain::key_identifiers(&a.info).1,
        })
        .collect();
    let chain::Kinship::Stranger { why } =
        chain::kinship(issuer, chain::key_identifiers(top).0.as_deref(), &known)
    else {
        return None;
    };
    let issuer_name = short_dn(issuer);
    let names = anchors
        .iter()
        .map(|a| short_dn(&a.info.subject))
        .collect::<Vec<_>>()
        .join("', '");
    // A root and an intermediate under it, both given: the PKI they make is complete.
    let complete = anchors.iter().find_map(|ca| {
        (!ca.info.self_issued && ca.info.is_ca != Some(false))
            .then(|| {
                anchors
                    .iter()
                    .find(|root| root.info.self_issued && root.info.subject == ca.info.issuer)
                    .map(|root| {
                        format!(
                            "; the files given already hold the root '{}' and the intermediate '{}' under it, so nothing of theirs is missing",
                            root.info.short_name(),
                            ca.info.short_name()
                        )
                    })
            })
            .flatten()
    });
    Some(
        Finding::new(
            FindingId::ClientCaUntrusted,
            Severity::Error,
            leaf_name,
            format!(
                "{stops_at}: its issuer '{issuer_name}' is none of the CAs given ('{names}') and {why}{}: \
                 the certificate comes from another CA. Only if '{issuer_name}' were an intermediate under one of them \
                 would the chain be incomplete instead",
                complete.unwrap_or_default()
            ),
        )
        .with_hint(format!(
            "Use a device certificate issued by '{names}', or trust '{issuer_name}' (give its certificate with --ca). \
             If '{issuer_name}' is an intermediate, append it after the device certificate (or pass --chain)."
        )),
    )
}

fn validity_findings(
    cert: &CertInfo,
    name: &str,
    is_leaf: bool,
    options: &CheckOptions,
) -> Vec<Finding> {
    let now = options.now;
    let what = if is_leaf {
        "the device certificate"
    } else {
        "intermediate CA"
    };
    if now < cert.not_before.0 {
        let days = (cert.not_before.0 - now).div_euclid(86_400);
        return vec![
            Finding::new(
                FindingId::ClientCertExpired,
                Severity::Error,
                name,
                format!(
                    "{what} '{name}' is not valid yet: valid from {} ({days} days from now)",
                    cert.not_before
                ),
            )
            .with_hint("Check the clock of the machine that issued it and of the device."),
        ];
    }
    let days_left = cert.days_left(now);
    if now > cert.not_after.0 {
        return vec![Finding::new(
            FindingId::ClientCertExpired,
            Severity::Error,
            name,
            format!(
                "{what} '{name}' expired on {} ({} days ago)",
                cert.not_after, -days_left
            ),
        )];
    }
    if days_left < i64::from(options.warn_days) {
        return vec![Finding::new(
            FindingId::CertExpiringSoon,
            Severity::Warning,
            name,
            format!(
                "{what} '{name}' expires on {} ({days_left} days left)",
                cert.not_after.date()
            ),
        )];
    }
    vec![]
}

fn algorithm_findings(cert: &CertInfo, name: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    // A root's signature on itself is not checked by anyone; everything below it is.
    if !cert.self_issued
        && let Some(hash) = cert.signature_algorithm.weak_hash()
    {
        findings.push(
                Finding::new(
                    FindingId::WeakSignature,
                    Severity::Error,
                    name,
                    format!(
                        "'{name}' is signed with {} ({hash}): rustls, OpenSSL 3 and AWS IoT reject {hash} certificate signatures",
                        cert.signature_algorithm
                    ),
                )
                .with_hint("Re-issue the certificate signed with SHA-256 or stronger."),
            );
    }
    match &cert.key {
        PublicKeyInfo::Rsa { bits } if *bits < 2048 => findings.push(
            Finding::new(
                FindingId::WeakKey,
                Severity::Error,
                name,
                format!("'{name}' has an RSA key of {bits} bits: servers (rustls, AWS IoT, OpenSSL 3 defaults) require 2048 or more"),
            )
            .with_hint("Generate an RSA 2048 (or EC P-256) key and issue a new certificate for it."),
        ),
        key if !key.rustls_can_use() => findings.push(
            Finding::new(
                FindingId::UnsupportedKey,
                Severity::Error,
                name,
                format!("'{name}' has key type {key}, which rustls-based servers and AWS IoT Core cannot use for TLS"),
            )
            .with_hint("Use an EC key on P-256 or P-384, or RSA 2048 or more."),
        ),
        _ => {}
    }
    findings
}

fn usage_findings(leaf: &CertInfo, name: &str) -> Vec<Finding> {
    let usage = |message: String, hint: &str| {
        Finding::new(FindingId::ClientCertUsage, Severity::Error, name, message)
            .with_hint(hint.to_string())
    };
    let mut findings = Vec::new();
    if leaf.version < 3 {
        findings.push(usage(
            format!("'{name}' is an X.509 v{} certificate: TLS stacks such as rustls and mbedTLS (with default settings) reject v1 end-entity certificates", leaf.version),
            "Issue an X.509 v3 certificate (with extensions: basicConstraints CA:FALSE, keyUsage digitalSignature, extendedKeyUsage clientAuth).",
        ));
    }
    if leaf.is_ca == Some(true) {
        findings.push(usage(
            format!("'{name}' is a CA certificate (basicConstraints CA:TRUE): servers reject a CA certificate as a client certificate"),
            "Issue the device certificate with basicConstraints CA:FALSE.",
        ));
    }
    if leaf.raw.eku_client_auth == Some(false) {
        let ekus = leaf
            .extended_key_usage
            .as_deref()
            .unwrap_or_default()
            .join(", ");
        findings.push(usage(
            format!("'{name}' has extendedKeyUsage {ekus} without clientAuth: servers reject it for TLS client authentication"),
            "Issue the certificate with extendedKeyUsage clientAuth (or no extendedKeyUsage at all).",
        ));
    }
    if leaf.raw.ku_digital_signature == Some(false) {
        let kus = leaf.key_usage.as_deref().unwrap_or_default().join(", ");
        findings.push(usage(
            format!("'{name}' has keyUsage {kus} without digitalSignature: the client cannot sign its CertificateVerify with it"),
            "Issue the certificate with keyUsage digitalSignature.",
        ));
    }
    findings
}

/// Order and content of the device's own file(s): leaf first, then each issuer, no duplicates.
fn order_findings(
    pool: &[&LoadedCert],
    path: &[usize],
    leaf: usize,
    anchors: &[&CertInfo],
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut seen = HashSet::new();
    for cert in pool {
        if !seen.insert(&cert.info.sha256) {
            findings.push(
                Finding::new(
                    FindingId::DuplicateCertificate,
                    Severity::Warning,
                    cert.origin.path.display().to_string(),
                    format!(
                        "certificate '{}' appears more than once (again as certificate {})",
                        cert.info.short_name(),
                        cert.origin.position
                    ),
                )
                .with_hint("Remove the duplicate: some stacks send it twice and servers may reject the chain."),
            );
        }
    }

    let device = pool[leaf];
    let ordered_matters = device.origin.container != Container::Pkcs12;
    if ordered_matters && device.origin.position != 1 {
        findings.push(
            Finding::new(
                FindingId::ChainOrder,
                Severity::Warning,
                device.origin.path.display().to_string(),
                format!(
                    "the device certificate '{}' is certificate {} of the file, not the first: TLS stacks send the file in order and take the first as the device's own",
                    device.info.short_name(),
                    device.origin.position
                ),
            )
            .with_hint("Put the device certificate first, then its issuer, then that issuer's issuer."),
        );
    } else if ordered_matters {
        // Intermediates from the same file must follow the order of the chain.
        let positions: Vec<usize> = path[1..]
            .iter()
            .map(|&i| pool[i])
            .filter(|c| c.origin.path == device.origin.path)
            .map(|c| c.origin.position)
            .collect();
        if positions.windows(2).any(|w| w[0] > w[1]) {
            findings.push(Finding::new(
                FindingId::ChainOrder,
                Severity::Warning,
                device.origin.path.display().to_string(),
                "the intermediate CAs are not in chain order (each certificate should be followed by its issuer)",
            ));
        }
    }

    let top = pool[*path.last().unwrap_or(&leaf)];
    for (i, cert) in pool.iter().enumerate() {
        let on_path = path.contains(&i);
        let is_a_ca_given = anchors.iter().any(|a| a.raw.der == cert.info.raw.der);
        let is_tops_root = cert.info.self_issued && cert.info.raw.subject == top.info.raw.issuer;
        // Named as an issuer on the path but not used: the chain finding already explains it.
        let named_issuer = path
            .iter()
            .any(|&p| pool[p].info.raw.issuer == cert.info.raw.subject);
        let duplicate = pool
            .iter()
            .take(i)
            .any(|other| other.info.sha256 == cert.info.sha256);
        if !on_path && !is_a_ca_given && !is_tops_root && !named_issuer && !duplicate {
            findings.push(
                Finding::new(
                    FindingId::UnrelatedCertificate,
                    Severity::Warning,
                    cert.origin.label(2),
                    format!("certificate '{}' is not part of the device certificate's chain", cert.info.short_name()),
                )
                .with_hint("Remove it: the device would send it along and confuse the server's chain building."),
            );
        }
    }
    findings
}

fn ignored_block(path: &std::path::Path, other: &Other) -> Finding {
    let why = match other {
        Other::EcParameters => "it only names the key's curve, which the key itself carries",
        Other::CertificateRequest => "a CSR is what a certificate is made from, not a certificate",
        Other::PublicKey => "a public key alone cannot be used; the certificate carries it",
        Other::Crl => "revocation lists are not checked by check-certs",
        Other::Unknown(_) => "iotdoctor does not know this block",
    };
    Finding::new(
        FindingId::IgnoredPemBlock,
        Severity::Info,
        path.display().to_string(),
        format!("{other} ignored: {why}"),
    )
}

/// After a handshake the server accepted: whether the client chain sent reaches a CA the
/// server named in its CertificateRequest. One that does not was accepted unverified (a lenient
/// server, such as `openssl s_server -verify` without `-verify_return_error`); a strict one
/// refuses it. Says what is missing: the intermediate, or a CA the server named.
pub fn unverified_acceptance(transcript: &Transcript) -> Option<Finding> {
    let ca_names = transcript.events.iter().find_map(|e| match &e.what {
        What::CertificateRequest { ca_names, .. } if e.from == Side::Server => Some(ca_names),
        _ => None,
    })?;
    let sent = transcript.events.iter().find_map(|e| match &e.what {
        What::Certificate { certificates, .. } if e.from == Side::Client => Some(certificates),
        _ => None,
    })?;
    let (leaf, top) = (sent.first()?, sent.last()?);
    let reaches = ca_names
        .iter()
        .any(|name| sent.iter().any(|c| c.issuer == *name || c.subject == *name));
    if ca_names.is_empty() || reaches {
        return None;
    }
    let named = ca_names
        .iter()
        .map(|n| short_dn(n))
        .collect::<Vec<_>>()
        .join("', '");
    let known: Vec<chain::KnownCa<'_>> = ca_names
        .iter()
        .map(|name| chain::KnownCa {
            subject: name,
            key_id: None,
        })
        .collect();
    let issuer = short_dn(&top.issuer);
    let kin = chain::kinship(
        &top.issuer,
        chain::key_identifiers(top).0.as_deref(),
        &known,
    );
    let missing = match kin {
        _ if top.self_issued => format!(
            "the chain ends at root '{}', which is not one of them",
            top.short_name()
        ),
        chain::Kinship::Stranger { why } => {
            format!("the chain's issuer '{issuer}' is not one of them, and {why}")
        }
        _ => format!(
            "the intermediate '{issuer}' was not sent (or, if it is a root, it is not one of them)"
        ),
    };
    Some(
        Finding::new(
            FindingId::ClientChainUnverified,
            Severity::Warning,
            leaf.short_name(),
            format!(
                "the server accepted the client certificate without verifying its chain: its CertificateRequest named '{named}'; {missing}. \
                 A strict server (AWS IoT Core, or openssl s_server -verify_return_error) refuses this chain"
            ),
        )
        .with_hint(
            "Send the device certificate with its intermediate(s), issued under a CA the server names (for AWS IoT Core: a registered CA, or an AWS-issued certificate).",
        ),
    )
}

/// "Now" as seconds since the Unix epoch, the one clock every check reads.
pub fn now() -> i64 {
    rustls::pki_types::UnixTime::now().as_secs() as i64
}
