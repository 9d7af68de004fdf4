//! A certificate as every layer sees it: an owned, serialisable summary of what it says about
//! itself, the raw DER parts signature checks need, and questions answered from them (which
//! names it covers, how long it is valid); and the encodings of private keys. Parsing lives in
//! `credentials`.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;

/// One certificate, parsed once; the raw parts the chain checks need are kept beside the summary.
///
/// Clones share one [`CertSummary`], which the fields are read through: a capture shows the
/// same certificates in connection after connection, and each connection's transcript holds
/// its own copy of them.
#[derive(Clone)]
pub struct CertInfo(Arc<CertSummary>);

impl std::ops::Deref for CertInfo {
    type Target = CertSummary;

    fn deref(&self) -> &CertSummary {
        &self.0
    }
}

impl fmt::Debug for CertInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for CertInfo {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// What a [`CertInfo`] says.
#[derive(Debug, Serialize)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    /// Serial number, hex bytes separated by colons as OpenSSL prints it.
    pub serial: String,
    /// X.509 version as written in certificates (1 or 3).
    pub version: u32,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    pub key: PublicKeyInfo,
    pub signature_algorithm: SignatureAlgorithm,
    pub subject_alt_names: Vec<String>,
    /// Key usage bits by name; `None` when the extension is absent.
    pub key_usage: Option<Vec<String>>,
    /// Extended key usage purposes by name; `None` when the extension is absent.
    pub extended_key_usage: Option<Vec<String>>,
    /// Basic constraints CA flag; `None` when the extension is absent.
    pub is_ca: Option<bool>,
    pub path_len: Option<u32>,
    pub self_issued: bool,
    /// SHA-256 of the DER encoding, hex bytes separated by colons.
    pub sha256: String,
    #[serde(skip)]
    pub raw: RawParts,
}

/// The DER pieces of a certificate that signature and key checks work on.
#[derive(Debug, Clone)]
pub struct RawParts {
    pub der: Vec<u8>,
    pub subject: Vec<u8>,
    pub issuer: Vec<u8>,
    pub tbs: Vec<u8>,
    /// Contents of the certificate's signatureAlgorithm SEQUENCE.
    pub signature_alg_id: Vec<u8>,
    pub signature: Vec<u8>,
    /// Contents of the SubjectPublicKeyInfo's AlgorithmIdentifier SEQUENCE.
    pub spki_alg_id: Vec<u8>,
    /// The subjectPublicKey bits, as signature verification takes them.
    pub public_key: Vec<u8>,
    /// What identifies the public key, for matching with a private key.
    pub public_key_id: PublicKeyId,
    pub ku_digital_signature: Option<bool>,
    pub eku_client_auth: Option<bool>,
    pub eku_server_auth: Option<bool>,
}

impl CertInfo {
    /// Shares one summary among all copies of a certificate.
    pub fn new(summary: CertSummary) -> CertInfo {
        CertInfo(Arc::new(summary))
    }

    /// Days from `now` until the certificate expires (negative once expired).
    pub fn days_left(&self, now: i64) -> i64 {
        (self.not_after.0 - now).div_euclid(86_400)
    }

    /// A short name for messages: the CN when there is one, else the whole subject.
    pub fn short_name(&self) -> String {
        short_dn(&self.subject)
    }

    /// Whether the certificate covers a host name or address as a TLS client checks it: a name
    /// against its DNS subjectAltNames (one leading wildcard label allowed) or, when it has none,
    /// its common name; an IP address against its IP subjectAltNames too.
    pub fn covers(&self, name: &str) -> bool {
        let host = name.trim_end_matches('.').to_ascii_lowercase();
        let dns = self.dns_names();
        let by_name = if dns.is_empty() {
            dns_name_matches(&self.short_name().to_ascii_lowercase(), &host)
        } else {
            dns.iter().any(|pattern| dns_name_matches(pattern, &host))
        };
        let by_address = name
            .parse::<IpAddr>()
            .is_ok_and(|address| self.ip_addresses().contains(&address));
        by_name || by_address
    }

    /// The extended key usages, as a list ("clientAuth, serverAuth"), or "(none)" when the
    /// extension is absent.
    pub fn extended_key_usages(&self) -> String {
        listed(&self.extended_key_usage)
    }

    /// The names and addresses [`CertInfo::covers`] checks, for messages: its DNS and IP
    /// subjectAltNames, and its common name when it has no DNS one.
    pub fn covered_names(&self) -> Vec<String> {
        let mut names = self.dns_names();
        if names.is_empty() {
            names.push(self.short_name());
        }
        names.extend(self.ip_addresses().iter().map(IpAddr::to_string));
        names
    }

    /// The DNS subjectAltNames, lower case.
    fn dns_names(&self) -> Vec<String> {
        self.subject_alt_names
            .iter()
            .filter_map(|san| san.strip_prefix("DNS:").map(str::to_ascii_lowercase))
            .collect()
    }

    fn ip_addresses(&self) -> Vec<IpAddr> {
        self.subject_alt_names
            .iter()
            .filter_map(|san| san.strip_prefix("IP:")?.parse().ok())
            .collect()
    }
}

/// Whether a certificate's DNS name (lower case; `*` allowed as its whole first label) matches
/// a lower-case host name: the wildcard stands for exactly one label.
fn dns_name_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
        None => pattern == host,
    }
}

/// The CN of a distinguished name as x509-parser prints it, or the whole name.
/// Names as a list, or "(none)" for an extension that is absent.
pub fn listed(names: &Option<Vec<String>>) -> String {
    names
        .as_ref()
        .map_or_else(|| "(none)".to_string(), |names| names.join(", "))
}

pub fn short_dn(dn: &str) -> String {
    dn.split(", ")
        .find_map(|part| part.strip_prefix("CN="))
        .map(str::to_string)
        .unwrap_or_else(|| {
            if dn.is_empty() {
                "(empty name)".into()
            } else {
                dn.to_string()
            }
        })
}

/// Bytes as `AB:CD:EF`.
pub fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Seconds since the Unix epoch, serialised as RFC 3339 (`2026-01-01T00:00:00Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub i64);

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match ::time::OffsetDateTime::from_unix_timestamp(self.0) {
            Ok(t) => write!(
                f,
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            Err(_) => write!(f, "@{}", self.0),
        }
    }
}

impl Timestamp {
    /// The date part only, for text output.
    pub fn date(&self) -> String {
        self.to_string().chars().take(10).collect()
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The public key of a certificate or private key: algorithm and strength.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum PublicKeyInfo {
    Rsa {
        bits: usize,
    },
    Ec {
        curve: Curve,
    },
    Ed25519,
    Ed448,
    /// An algorithm iotdoctor does not name (DSA, GOST, ...), by OID.
    Other {
        oid: String,
    },
}

impl PublicKeyInfo {
    /// Whether rustls (and so most modern TLS servers' policy) can use this key for TLS.
    pub fn rustls_can_use(&self) -> bool {
        match self {
            PublicKeyInfo::Rsa { bits } => (2048..=8192).contains(bits),
            PublicKeyInfo::Ec { curve } => curve.is_nist(),
            PublicKeyInfo::Ed25519 => true,
            PublicKeyInfo::Ed448 | PublicKeyInfo::Other { .. } => false,
        }
    }
}

impl fmt::Display for PublicKeyInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PublicKeyInfo::Rsa { bits } => write!(f, "RSA {bits}"),
            PublicKeyInfo::Ec { curve } => write!(f, "EC {curve}"),
            PublicKeyInfo::Ed25519 => f.write_str("Ed25519"),
            PublicKeyInfo::Ed448 => f.write_str("Ed448"),
            PublicKeyInfo::Other { oid } => write!(f, "key algorithm {oid}"),
        }
    }
}

/// Bit length of a big-endian unsigned integer.
pub fn significant_bits(bytes: &[u8]) -> usize {
    let bytes = match bytes.iter().position(|&b| b != 0) {
        Some(first) => &bytes[first..],
        None => return 0,
    };
    (bytes.len() - 1) * 8 + (8 - bytes[0].leading_zeros() as usize)
}

/// Named elliptic curves, by the names TLS and AWS IoT documentation use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
    P521,
    Secp256k1,
    BrainpoolP256r1,
    BrainpoolP384r1,
    BrainpoolP512r1,
    Other(String),
}

impl Curve {
    pub fn is_nist(&self) -> bool {
        matches!(self, Curve::P256 | Curve::P384 | Curve::P521)
    }
}

impl fmt::Display for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
            Curve::Secp256k1 => "secp256k1",
            Curve::BrainpoolP256r1 => "brainpoolP256r1",
            Curve::BrainpoolP384r1 => "brainpoolP384r1",
            Curve::BrainpoolP512r1 => "brainpoolP512r1",
            Curve::Other(oid) => return write!(f, "curve {oid}"),
        })
    }
}

impl Serialize for Curve {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A certificate's signature algorithm: its name and the hash it relies on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureAlgorithm {
    /// OpenSSL's short name (`ecdsa-with-SHA256`, `sha256WithRSAEncryption`) or the dotted OID.
    pub name: String,
    #[serde(skip)]
    pub oid: String,
}

impl SignatureAlgorithm {
    /// The broken hash this algorithm relies on, if it relies on one (SHA-1, MD5, MD2).
    pub fn weak_hash(&self) -> Option<&'static str> {
        match self.oid.as_str() {
            "1.2.840.113549.1.1.5"
            | "1.2.840.10045.4.1"
            | "1.2.840.10040.4.3"
            | "1.3.14.3.2.29" => Some("SHA-1"),
            "1.2.840.113549.1.1.4" => Some("MD5"),
            "1.2.840.113549.1.1.2" => Some("MD2"),
            _ => None,
        }
    }

    /// Signature algorithms AWS IoT Core accepts on device certificates.
    pub fn aws_iot_accepts(&self) -> bool {
        matches!(
            self.oid.as_str(),
            "1.2.840.113549.1.1.11" // sha256WithRSAEncryption
                | "1.2.840.113549.1.1.12" // sha384WithRSAEncryption
                | "1.2.840.113549.1.1.13" // sha512WithRSAEncryption
                | "1.2.840.113549.1.1.10" // RSASSA-PSS
                | "2.16.840.1.101.3.4.3.2" // dsa-with-sha256
                | "1.2.840.10045.4.3.2" // ecdsa-with-SHA256
                | "1.2.840.10045.4.3.3" // ecdsa-with-SHA384
                | "1.2.840.10045.4.3.4" // ecdsa-with-SHA512
        )
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// The part of a public key that identifies it: RSA modulus or EC point (other algorithms: raw bits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKeyId {
    RsaModulus(Vec<u8>),
    EcPoint(Vec<u8>),
    Raw(Vec<u8>),
}

impl PublicKeyId {
    /// An RSA modulus without its leading zero bytes, so encodings that differ only in
    /// padding compare equal.
    pub fn rsa_modulus(modulus: &[u8]) -> PublicKeyId {
        let start = modulus
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(modulus.len());
        PublicKeyId::RsaModulus(modulus[start..].to_vec())
    }
}

/// The structure a private key is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum KeyEncoding {
    #[serde(rename = "pkcs8")]
    Pkcs8,
    #[serde(rename = "pkcs1")]
    Pkcs1,
    #[serde(rename = "sec1")]
    Sec1,
}

impl fmt::Display for KeyEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyEncoding::Pkcs8 => "PKCS#8",
            KeyEncoding::Pkcs1 => "PKCS#1",
            KeyEncoding::Sec1 => "SEC1",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_bits_ignores_leading_zeros() {
        assert_eq!(significant_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(significant_bits(&[0x01, 0xff]), 9);
        assert_eq!(significant_bits(&[0, 0]), 0);
        assert_eq!(significant_bits(&[]), 0);
    }

    #[test]
    fn a_wildcard_stands_for_one_label() {
        assert!(dns_name_matches("*.iot.example", "a.iot.example"));
        assert!(!dns_name_matches("*.iot.example", "a.b.iot.example"));
        assert!(!dns_name_matches("*.iot.example", "iot.example"));
        assert!(!dns_name_matches("*.iot.example", ".iot.example"));
        assert!(dns_name_matches("iot.example", "iot.example"));
    }
}
