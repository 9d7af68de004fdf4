//! What AWS IoT Core requires of device credentials, and the Amazon roots its ATS endpoints chain to.
//!
//! The two roots are shipped (public certificates, from the Mozilla CA store) so the checks work
//! offline.

use std::sync::OnceLock;

use rustls::pki_types::CertificateDer;

use super::LoadedCert;
use super::inspect::{CertInfo, PublicKeyInfo};
use crate::model::finding::{Finding, FindingId, Severity};

/// An Amazon root CA that AWS IoT Core ATS endpoints chain to.
#[derive(Debug)]
pub struct AmazonRoot {
    pub name: &'static str,
    /// The server key type whose chain ends at this root.
    pub for_keys: &'static str,
    pub file_name: &'static str,
    pem: &'static str,
}

pub const AMAZON_ROOTS: [AmazonRoot; 2] = [
    AmazonRoot {
        name: "Amazon Root CA 1",
        for_keys: "RSA",
        file_name: "AmazonRootCA1.pem",
        pem: include_str!("amazon/AmazonRootCA1.pem"),
    },
    AmazonRoot {
        name: "Amazon Root CA 3",
        for_keys: "ECC",
        file_name: "AmazonRootCA3.pem",
        pem: include_str!("amazon/AmazonRootCA3.pem"),
    },
];

fn shipped_roots() -> &'static [CertInfo] {
    static ROOTS: OnceLock<Vec<CertInfo>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        AMAZON_ROOTS
            .iter()
            .filter_map(|root| {
                let block = pem::parse(root.pem).ok()?;
                CertInfo::from_der(&CertificateDer::from(block.into_contents())).ok()
            })
            .collect()
    })
}

/// The Amazon root this certificate is (same key: self-signed or cross-signed edition).
pub fn amazon_root(cert: &CertInfo) -> Option<&'static AmazonRoot> {
    shipped_roots()
        .iter()
        .zip(AMAZON_ROOTS.iter())
        .find(|(shipped, _)| {
            shipped.raw.public_key_id == cert.raw.public_key_id && shipped.subject == cert.subject
        })
        .map(|(_, root)| root)
}

/// Whether a host is an AWS IoT Core endpoint: `*.iot.REGION.amazonaws.com` (or `.amazonaws.com.cn`).
pub fn is_endpoint(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host.contains(".iot.")
        && (host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn"))
}

/// The connection settings AWS IoT Core needs: SNI naming the endpoint, ALPN `x-amzn-mqtt-ca` for
/// MQTT on port 443 (8883 needs none), and the ATS endpoint with the Amazon roots.
pub fn check_connection(host: &str, port: u16, sni: Option<&str>, alpn: &[String]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let endpoint = format!("{host}:{port}");
    match sni {
        None => findings.push(
            Finding::new(FindingId::AwsSniMissing, Severity::Error, &endpoint, "no SNI is sent: AWS IoT Core requires SNI naming the endpoint")
                .with_hint(format!("Send SNI '{host}' (wolfSSL_UseSNI, mbedtls_ssl_set_hostname, SSL_set_tlsext_host_name).")),
        ),
        Some(name) if !name.eq_ignore_ascii_case(host) && is_endpoint(host) => findings.push(Finding::new(
            FindingId::AwsSniMissing,
            Severity::Error,
            &endpoint,
            format!("the SNI sent ('{name}') is not the endpoint: AWS IoT Core routes by SNI"),
        )),
        Some(_) => {}
    }
    if port == 443 && !alpn.iter().any(|p| p == "x-amzn-mqtt-ca") {
        findings.push(
            Finding::new(
                FindingId::AwsAlpnMissing,
                Severity::Error,
                &endpoint,
                "MQTT on port 443 needs the ALPN protocol x-amzn-mqtt-ca: without it AWS IoT Core takes the connection for HTTPS",
            )
            .with_hint("Offer ALPN x-amzn-mqtt-ca (--alpn x-amzn-mqtt-ca), or use port 8883."),
        );
    }
    if is_endpoint(host) && !host.to_ascii_lowercase().contains("-ats.") {
        findings.push(
            Finding::new(
                FindingId::AwsLegacyEndpoint,
                Severity::Warning,
                &endpoint,
                "a legacy (Symantec-certified) endpoint: AWS recommends the ATS endpoint (the host name with -ats), whose certificates chain to Amazon Root CA 1 or 3",
            )
            .with_hint("Use the -ats endpoint shown by `aws iot describe-endpoint --endpoint-type iot:Data-ATS` with AmazonRootCA1.pem and AmazonRootCA3.pem."),
        );
    }
    findings
}

/// Key and signature algorithms AWS IoT Core accepts on device certificates.
pub fn check_device_certificate(leaf: &CertInfo, subject: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let key_ok = match &leaf.key {
        PublicKeyInfo::Rsa { bits } => *bits >= 2048,
        PublicKeyInfo::Ec { curve } => curve.is_nist(),
        _ => false,
    };
    if !key_ok {
        findings.push(
            Finding::new(
                FindingId::AwsUnsupportedAlgorithm,
                Severity::Error,
                subject,
                format!(
                    "AWS IoT Core does not accept a {} key on device certificates",
                    leaf.key
                ),
            )
            .with_hint(
                "Use an RSA key of 2048 bits or more, or an EC key on P-256, P-384 or P-521.",
            ),
        );
    }
    if !leaf.signature_algorithm.aws_iot_accepts() {
        findings.push(
            Finding::new(
                FindingId::AwsUnsupportedAlgorithm,
                Severity::Error,
                subject,
                format!(
                    "AWS IoT Core does not accept certificates signed with {}",
                    leaf.signature_algorithm
                ),
            )
            .with_hint(
                "Have the certificate signed with SHA-256 or stronger (RSA, RSA-PSS or ECDSA).",
            ),
        );
    }
    findings
}

/// Whether the CA files hold the Amazon roots a device needs to trust AWS IoT Core's ATS endpoints.
pub fn check_server_roots(cas: &[&CertInfo], subject: &str) -> Vec<Finding> {
    let present: Vec<&AmazonRoot> = AMAZON_ROOTS
        .iter()
        .filter(|root| {
            cas.iter()
                .any(|ca| amazon_root(ca).is_some_and(|r| r.name == root.name))
        })
        .collect();
    let subject = subject.to_string();
    match present.as_slice() {
        [] => {
            let (severity, message) = if cas.is_empty() {
                (
                    Severity::Warning,
                    "no --ca given: cannot check that the device trusts AWS IoT Core's server certificate".to_string(),
                )
            } else {
                (Severity::Error, "the CA file holds neither Amazon Root CA 1 nor Amazon Root CA 3: a device using it will not trust AWS IoT Core's ATS endpoints".to_string())
            };
            vec![Finding::new(FindingId::AwsRootCaMissing, severity, subject, message).with_hint(
                "Give the device AmazonRootCA1.pem (RSA) and AmazonRootCA3.pem (ECC), and use the -ats endpoint.",
            )]
        }
        [only] => {
            let missing = AMAZON_ROOTS
                .iter()
                .find(|r| r.name != only.name)
                .map(|r| r.name)
                .unwrap_or_default();
            vec![Finding::new(
                FindingId::AwsRootCaMissing,
                Severity::Warning,
                subject,
                format!(
                    "only {} is in the CA file: it verifies the chain AWS IoT serves to devices that offer {} cipher suites; \
                     without {missing} the device fails if it is ever served the other chain",
                    only.name, only.for_keys
                ),
            )
            .with_hint("Put both Amazon Root CA 1 and Amazon Root CA 3 in the device's CA file.")]
        }
        _ => vec![],
    }
}

/// The CA files, for a finding's subject.
pub fn ca_files(cas: &[LoadedCert]) -> String {
    let mut files: Vec<String> = cas
        .iter()
        .map(|c| c.origin.path.display().to_string())
        .collect();
    files.dedup();
    files.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_roots_parse_and_recognise_themselves() {
        assert_eq!(shipped_roots().len(), 2);
        for (info, root) in shipped_roots().iter().zip(AMAZON_ROOTS.iter()) {
            assert!(info.subject.contains(root.name), "{}", info.subject);
            assert_eq!(amazon_root(info).map(|r| r.name), Some(root.name));
        }
    }
}
