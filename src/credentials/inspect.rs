//! What a certificate says about itself: an owned, serialisable summary parsed once with x509-parser.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use serde::Serialize;
use x509_parser::oid_registry::{self, Oid};
use x509_parser::prelude::*;

use super::der;
use super::keys::PublicKeyId;

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
    /// Parses a DER certificate. The error says what is wrong with it.
    pub fn from_der(der_bytes: &CertificateDer<'_>) -> Result<CertInfo, String> {
        let (rest, cert) = X509Certificate::from_der(der_bytes.as_ref())
            .map_err(|e| format!("not a valid X.509 certificate ({e})"))?;
        if !rest.is_empty() {
            tracing::debug!(trailing = rest.len(), "bytes after the certificate ignored");
        }
        let tbs = &cert.tbs_certificate;
        let spki = tbs.subject_pki.clone();
        let spki_alg_id = der::first_element_contents(spki.raw)
            .ok_or("malformed SubjectPublicKeyInfo")?
            .to_vec();
        let signature_alg_id = der::signature_algorithm_contents(cert.as_ref())
            .ok_or("malformed signatureAlgorithm")?
            .to_vec();

        let ku = cert.key_usage().ok().flatten();
        let eku = cert.extended_key_usage().ok().flatten();
        let bc = cert.basic_constraints().ok().flatten();
        let subject_alt_names = cert
            .subject_alternative_name()
            .ok()
            .flatten()
            .map(|ext| ext.value.general_names.iter().map(general_name).collect())
            .unwrap_or_default();

        Ok(CertInfo(Arc::new(CertSummary {
            subject: tbs.subject.to_string(),
            issuer: tbs.issuer.to_string(),
            serial: colon_hex(tbs.raw_serial()),
            version: tbs.version.0 + 1,
            not_before: Timestamp(tbs.validity.not_before.timestamp()),
            not_after: Timestamp(tbs.validity.not_after.timestamp()),
            key: PublicKeyInfo::from_spki(&spki),
            signature_algorithm: SignatureAlgorithm::from_oid(&cert.signature_algorithm.algorithm),
            subject_alt_names,
            key_usage: ku.as_ref().map(|ku| key_usage_names(ku.value.flags)),
            extended_key_usage: eku.as_ref().map(|eku| eku_names(eku.value)),
            is_ca: bc.as_ref().map(|bc| bc.value.ca),
            path_len: bc.as_ref().and_then(|bc| bc.value.path_len_constraint),
            self_issued: tbs.subject.as_raw() == tbs.issuer.as_raw(),
            sha256: colon_hex(
                aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der_bytes.as_ref()).as_ref(),
            ),
            raw: RawParts {
                der: der_bytes.to_vec(),
                subject: tbs.subject.as_raw().to_vec(),
                issuer: tbs.issuer.as_raw().to_vec(),
                tbs: tbs.as_ref().to_vec(),
                signature_alg_id,
                signature: cert.signature_value.data.to_vec(),
                spki_alg_id,
                public_key: spki.subject_public_key.data.to_vec(),
                public_key_id: PublicKeyId::from_spki(&spki),
                ku_digital_signature: ku.map(|ku| ku.value.digital_signature()),
                eku_client_auth: eku.as_ref().map(|e| e.value.client_auth || e.value.any),
                eku_server_auth: eku.as_ref().map(|e| e.value.server_auth || e.value.any),
            },
        })))
    }

    /// Like [`CertInfo::from_der`], remembering the last certificates parsed: a capture shows
    /// the same server chain in every connection, and parsing is the costly part of a copy.
    pub fn from_der_cached(der: &[u8]) -> Result<CertInfo, String> {
        use std::cell::RefCell;
        use std::collections::HashMap;
        const REMEMBERED: usize = 4096;
        thread_local! {
            static PARSED: RefCell<HashMap<Vec<u8>, CertInfo>> = RefCell::new(HashMap::new());
        }
        if let Some(info) = PARSED.with(|parsed| parsed.borrow().get(der).cloned()) {
            return Ok(info);
        }
        let info = CertInfo::from_der(&CertificateDer::from(der.to_vec()))?;
        PARSED.with(|parsed| {
            let mut parsed = parsed.borrow_mut();
            if parsed.len() >= REMEMBERED {
                parsed.clear();
            }
            parsed.insert(der.to_vec(), info.clone());
        });
        Ok(info)
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

fn general_name(name: &GeneralName<'_>) -> String {
    match name {
        GeneralName::DNSName(s) => format!("DNS:{s}"),
        GeneralName::RFC822Name(s) => format!("email:{s}"),
        GeneralName::URI(s) => format!("URI:{s}"),
        GeneralName::IPAddress(bytes) => match bytes.len() {
            4 => format!(
                "IP:{}",
                std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*bytes).unwrap_or_default())
            ),
            16 => format!(
                "IP:{}",
                std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*bytes).unwrap_or_default())
            ),
            _ => format!("IP:{}", colon_hex(bytes)),
        },
        GeneralName::DirectoryName(dn) => format!("DirName:{dn}"),
        other => format!("{other:?}"),
    }
}

/// Key usage bits by their RFC 5280 names, in bit order.
fn key_usage_names(flags: u16) -> Vec<String> {
    const NAMES: [&str; 9] = [
        "digitalSignature",
        "nonRepudiation",
        "keyEncipherment",
        "dataEncipherment",
        "keyAgreement",
        "keyCertSign",
        "cRLSign",
        "encipherOnly",
        "decipherOnly",
    ];
    NAMES
        .iter()
        .enumerate()
        .filter(|(bit, _)| flags >> bit & 1 == 1)
        .map(|(_, n)| n.to_string())
        .collect()
}

fn eku_names(eku: &ExtendedKeyUsage<'_>) -> Vec<String> {
    let flags = [
        (eku.any, "anyExtendedKeyUsage"),
        (eku.server_auth, "serverAuth"),
        (eku.client_auth, "clientAuth"),
        (eku.code_signing, "codeSigning"),
        (eku.email_protection, "emailProtection"),
        (eku.time_stamping, "timeStamping"),
        (eku.ocsp_signing, "OCSPSigning"),
    ];
    let mut names: Vec<String> = flags
        .iter()
        .filter(|(set, _)| *set)
        .map(|(_, name)| name.to_string())
        .collect();
    names.extend(eku.other.iter().map(|oid| oid.to_id_string()));
    names
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
    pub fn from_spki(spki: &SubjectPublicKeyInfo<'_>) -> PublicKeyInfo {
        let alg = &spki.algorithm.algorithm;
        if *alg == oid_registry::OID_PKCS1_RSAENCRYPTION {
            let bits = match spki.parsed() {
                Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => significant_bits(rsa.modulus),
                _ => 0,
            };
            PublicKeyInfo::Rsa { bits }
        } else if *alg == oid_registry::OID_KEY_TYPE_EC_PUBLIC_KEY {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| Curve::from_oid(&oid))
                .unwrap_or(Curve::Other("implicit or explicit parameters".into()));
            PublicKeyInfo::Ec { curve }
        } else if *alg == oid_registry::OID_SIG_ED25519 {
            PublicKeyInfo::Ed25519
        } else if *alg == oid_registry::OID_SIG_ED448 {
            PublicKeyInfo::Ed448
        } else {
            PublicKeyInfo::Other {
                oid: alg.to_id_string(),
            }
        }
    }

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
    pub fn from_oid(oid: &Oid<'_>) -> Curve {
        match oid.to_id_string().as_str() {
            "1.2.840.10045.3.1.7" => Curve::P256,
            "1.3.132.0.34" => Curve::P384,
            "1.3.132.0.35" => Curve::P521,
            "1.3.132.0.10" => Curve::Secp256k1,
            "1.3.36.3.3.2.8.1.1.7" => Curve::BrainpoolP256r1,
            "1.3.36.3.3.2.8.1.1.11" => Curve::BrainpoolP384r1,
            "1.3.36.3.3.2.8.1.1.13" => Curve::BrainpoolP512r1,
            other => Curve::Other(other.to_string()),
        }
    }

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
    fn from_oid(oid: &Oid<'_>) -> SignatureAlgorithm {
        let dotted = oid.to_id_string();
        let name = match dotted.as_str() {
            // Names the registry lacks, as OpenSSL prints them.
            "1.2.840.113549.1.1.10" => "RSASSA-PSS".to_string(),
            "1.2.840.10045.4.1" => "ecdsa-with-SHA1".to_string(),
            "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224".to_string(),
            "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256".to_string(),
            "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384".to_string(),
            "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512".to_string(),
            "1.2.840.10040.4.3" => "dsa-with-SHA1".to_string(),
            "2.16.840.1.101.3.4.3.2" => "dsa-with-SHA256".to_string(),
            _ => x509_parser::objects::oid2sn(oid, x509_parser::objects::oid_registry())
                .map(str::to_string)
                .unwrap_or_else(|_| dotted.clone()),
        };
        SignatureAlgorithm { name, oid: dotted }
    }

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
    fn key_usage_names_follow_rfc5280_bit_order() {
        assert_eq!(key_usage_names(0b1), ["digitalSignature"]);
        assert_eq!(key_usage_names(0b110_0000), ["keyCertSign", "cRLSign"]);
        assert!(key_usage_names(0).is_empty());
    }

    #[test]
    fn timestamps_print_as_rfc3339() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp(4_922_899_200).to_string(), "2126-01-01T00:00:00Z");
        assert_eq!(Timestamp(4_922_899_200).date(), "2126-01-01");
    }

    #[test]
    fn short_dn_prefers_the_common_name() {
        assert_eq!(short_dn("O=acme, CN=device 1"), "device 1");
        assert_eq!(short_dn("O=acme"), "O=acme");
        assert_eq!(short_dn(""), "(empty name)");
    }

    fn fixture(name: &str) -> CertInfo {
        CertInfo::from_der(&crate::test_support::certs(name)[0]).unwrap()
    }

    #[test]
    fn a_certificate_covers_its_dns_names_and_addresses() {
        // subjectAltName DNS:localhost, IP:127.0.0.1, IP:::1
        let server = fixture("server.pem");
        for covered in [
            "localhost",
            "LOCALHOST.",
            "127.0.0.1",
            "::1",
            "0:0:0:0:0:0:0:1",
        ] {
            assert!(server.covers(covered), "{covered}");
        }
        for not_covered in ["broker.invalid", "sub.localhost", "127.0.0.2", ""] {
            assert!(!server.covers(not_covered), "{not_covered}");
        }
        assert_eq!(server.covered_names(), ["localhost", "127.0.0.1", "::1"]);
    }

    #[test]
    fn without_dns_names_the_common_name_is_the_name() {
        let v1 = fixture("client-v1.pem");
        assert!(v1.covers("iotdoctor test device v1"));
        assert!(!v1.covers("localhost"));
        assert_eq!(v1.covered_names(), ["iotdoctor test device v1"]);
    }

    #[test]
    fn a_wildcard_stands_for_one_label() {
        assert!(dns_name_matches("*.iot.example", "a.iot.example"));
        assert!(!dns_name_matches("*.iot.example", "a.b.iot.example"));
        assert!(!dns_name_matches("*.iot.example", "iot.example"));
        assert!(!dns_name_matches("*.iot.example", ".iot.example"));
        assert!(dns_name_matches("iot.example", "iot.example"));
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        let err = CertInfo::from_der(&CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x01]))
            .unwrap_err();
        assert!(err.contains("not a valid X.509 certificate"), "{err}");
    }
}
