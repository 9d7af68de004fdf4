//! rustls's errors in words: its `Display` falls back to Rust's debug notation for many of them
//! (`DnsName("localhost")`, `NoCipherSuitesInCommon`, `BadCertificate`), which a report must not
//! show a person.

use std::net::IpAddr;

use rustls::{CertificateError, Error};

use crate::model::codes;

/// What a rustls error says, in words.
pub fn error(error: &Error) -> String {
    match error {
        Error::InvalidCertificate(e) => {
            format!("invalid peer certificate: {}", certificate_error(e))
        }
        Error::AlertReceived(alert) => {
            let code = u8::from(*alert);
            format!("received fatal alert {code} {}", codes::alert(code))
        }
        Error::PeerIncompatible(why) => {
            format!("peer is incompatible: {}", words(&format!("{why:?}")))
        }
        Error::PeerMisbehaved(why) => {
            format!("peer misbehaved: {}", words(&format!("{why:?}")))
        }
        Error::InvalidMessage(why) => {
            format!("received corrupt message: {}", words(&format!("{why:?}")))
        }
        other => plain(&other.to_string()),
    }
}

/// What a certificate error says, in words.
pub fn certificate_error(error: &CertificateError) -> String {
    match error {
        CertificateError::NotValidForNameContext {
            expected,
            presented,
        } => {
            let names: Vec<String> = presented.iter().map(|n| presented_name(n)).collect();
            let valid = if names.is_empty() {
                "it names none in its subjectAltName extension".to_string()
            } else {
                format!("it is only valid for {}", names.join(", "))
            };
            format!(
                "certificate not valid for name '{}'; {valid}",
                expected.to_str()
            )
        }
        CertificateError::Other(other) => match other.0.downcast_ref::<webpki::Error>() {
            Some(webpki::Error::CaUsedAsEndEntity) => {
                "a CA certificate (basicConstraints CA:TRUE) used as the peer's own certificate"
                    .to_string()
            }
            // webpki's errors print as their debug names (`EndEntityUsedAsCa`).
            Some(error) => words(&format!("{error:?}")),
            None => plain(&other.to_string()),
        },
        // The variants with context have a Display of their own, in words.
        CertificateError::ExpiredContext { .. }
        | CertificateError::NotValidYetContext { .. }
        | CertificateError::ExpiredRevocationListContext { .. }
        | CertificateError::InvalidPurposeContext { .. } => plain(&error.to_string()),
        other => words(&format!("{other:?}")),
    }
}

/// A name as webpki presents it (`DnsName("localhost")`, `IpAddress(0::1)`), as a person writes
/// it.
fn presented_name(name: &str) -> String {
    let inner = |prefix: &str| {
        name.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(')'))
            .map(|rest| rest.trim_matches('"').to_string())
    };
    if let Some(dns) = inner("DnsName(") {
        return dns;
    }
    if let Some(ip) = inner("IpAddress(") {
        return ip.parse::<IpAddr>().map(|ip| ip.to_string()).unwrap_or(ip);
    }
    plain(name)
}

/// A debug-notation identifier as words: `NoCipherSuitesInCommon` -> `no cipher suites in
/// common`; a payload in parentheses or braces is kept, without its quotes.
fn words(debug: &str) -> String {
    let (head, rest) = match debug.find(['(', '{']) {
        Some(i) => (&debug[..i], debug[i..].trim()),
        None => (debug, ""),
    };
    let mut out = String::new();
    for (i, c) in head.trim().chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.extend(c.to_lowercase());
    }
    let payload = rest
        .trim_start_matches(['(', '{'])
        .trim_end_matches([')', '}'])
        .trim();
    if !payload.is_empty() && payload != ".." {
        out.push_str(": ");
        out.push_str(&plain(payload));
    }
    out
}

/// Text without debug-notation artefacts: quotes become single quotes, `Some(x)` becomes `x`.
fn plain(text: &str) -> String {
    let mut text = text.replace('"', "'");
    while let Some(start) = text.find("Some(") {
        let Some(len) = text[start..].find(')') else {
            break;
        };
        let inner = text[start + 5..start + len].to_string();
        text.replace_range(start..start + len + 1, &inner);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::ServerName;

    #[test]
    fn webpki_errors_passed_on_by_rustls_are_words() {
        let other = |e: webpki::Error| {
            certificate_error(&CertificateError::Other(rustls::OtherError(
                std::sync::Arc::new(e),
            )))
        };
        assert_eq!(
            other(webpki::Error::CaUsedAsEndEntity),
            "a CA certificate (basicConstraints CA:TRUE) used as the peer's own certificate"
        );
        assert_eq!(
            other(webpki::Error::EndEntityUsedAsCa),
            "end entity used as ca"
        );
    }

    #[test]
    fn a_name_mismatch_reads_without_debug_notation() {
        let e = CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("wrong.example").unwrap().to_owned(),
            presented: vec![
                "DnsName(\"localhost\")".into(),
                "IpAddress(127.0.0.1)".into(),
                "IpAddress(0::1)".into(),
            ],
        };
        assert_eq!(
            error(&Error::InvalidCertificate(e)),
            "invalid peer certificate: certificate not valid for name 'wrong.example'; it is only valid for localhost, 127.0.0.1, ::1"
        );
    }

    #[test]
    fn identifiers_become_words() {
        assert_eq!(
            error(&Error::PeerIncompatible(
                rustls::PeerIncompatible::NoCipherSuitesInCommon
            )),
            "peer is incompatible: no cipher suites in common"
        );
        assert_eq!(
            error(&Error::InvalidCertificate(CertificateError::UnknownIssuer)),
            "invalid peer certificate: unknown issuer"
        );
        assert_eq!(
            error(&Error::AlertReceived(
                rustls::AlertDescription::BadCertificate
            )),
            "received fatal alert 42 bad_certificate"
        );
        assert_eq!(
            words("TrailingData(\"ClientHello\")"),
            "trailing data: 'ClientHello'"
        );
        assert_eq!(plain("a Some(3) b"), "a 3 b");
    }
}
