//! What a private key is and whether it belongs to a certificate, without ever showing its secret.
//!
//! rustls (aws-lc-rs) loads the key and derives its public key; for keys rustls refuses
//! (secp256k1, RSA under 2048 bits, ...) the public part is read from the key's own encoding.

use rustls::pki_types::PrivateKeyDer;
use serde::Serialize;
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::model::certificate::{CertInfo, Curve, PublicKeyId, PublicKeyInfo, significant_bits};

/// What is known about a private key.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    /// Algorithm and strength, when iotdoctor can tell.
    pub algorithm: Option<PublicKeyInfo>,
    /// The public half, for comparison with a certificate.
    pub public: Option<PublicKeyId>,
    /// Why rustls cannot sign with this key, if it cannot.
    pub rustls_refusal: Option<String>,
}

/// Whether a key belongs to a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyMatch {
    Matches,
    DoesNotMatch,
    /// The key's public half could not be derived, so the pair could not be compared.
    Unknown,
}

impl KeyInfo {
    pub fn inspect(der: &PrivateKeyDer<'_>) -> KeyInfo {
        match rustls::crypto::aws_lc_rs::sign::any_supported_type(der) {
            Ok(signing_key) => {
                let spki = signing_key.public_key();
                let parsed = spki
                    .as_ref()
                    .and_then(|spki| SubjectPublicKeyInfo::from_der(spki.as_ref()).ok());
                match parsed {
                    Some((_, spki)) => KeyInfo {
                        algorithm: Some(PublicKeyInfo::from_spki(&spki)),
                        public: Some(PublicKeyId::from_spki(&spki)),
                        rustls_refusal: None,
                    },
                    None => KeyInfo {
                        algorithm: None,
                        public: None,
                        rustls_refusal: None,
                    },
                }
            }
            Err(e) => {
                let mut info = from_encoding(der);
                info.rustls_refusal = Some(e.to_string());
                info
            }
        }
    }

    /// Compares this key with a certificate's public key.
    pub fn matches(&self, cert: &CertInfo) -> KeyMatch {
        match &self.public {
            Some(public) if *public == cert.raw.public_key_id => KeyMatch::Matches,
            Some(_) => KeyMatch::DoesNotMatch,
            None => KeyMatch::Unknown,
        }
    }
}

/// Reads algorithm and public half straight from the key's encoding.
fn from_encoding(der: &PrivateKeyDer<'_>) -> KeyInfo {
    let unknown = KeyInfo {
        algorithm: None,
        public: None,
        rustls_refusal: None,
    };
    match der {
        PrivateKeyDer::Pkcs1(k) => from_pkcs1(k.secret_pkcs1_der()).unwrap_or(unknown),
        PrivateKeyDer::Sec1(k) => from_sec1(k.secret_sec1_der(), None).unwrap_or(unknown),
        PrivateKeyDer::Pkcs8(k) => from_pkcs8(k.secret_pkcs8_der()).unwrap_or(unknown),
        _ => unknown,
    }
}

fn from_pkcs1(der: &[u8]) -> Option<KeyInfo> {
    let key = pkcs1::RsaPrivateKeyRef::try_from(der).ok()?;
    let modulus = key.modulus.as_bytes();
    Some(KeyInfo {
        algorithm: Some(PublicKeyInfo::Rsa {
            bits: significant_bits(modulus),
        }),
        public: Some(PublicKeyId::rsa_modulus(modulus)),
        rustls_refusal: None,
    })
}

fn from_sec1(der: &[u8], curve_from_pkcs8: Option<Curve>) -> Option<KeyInfo> {
    let key = sec1::EcPrivateKey::try_from(der).ok()?;
    let curve = key
        .parameters
        .and_then(|p| p.named_curve())
        .map(|oid| curve_from_der_oid(oid.as_bytes()))
        .or(curve_from_pkcs8);
    Some(KeyInfo {
        algorithm: curve.map(|curve| PublicKeyInfo::Ec { curve }),
        public: key
            .public_key
            .map(|point| PublicKeyId::EcPoint(point.to_vec())),
        rustls_refusal: None,
    })
}

fn from_pkcs8(der: &[u8]) -> Option<KeyInfo> {
    let info = pkcs8::PrivateKeyInfoRef::try_from(der).ok()?;
    let oid = info.algorithm.oid.to_string();
    let inner = info.private_key.as_bytes();
    match oid.as_str() {
        "1.2.840.113549.1.1.1" => from_pkcs1(inner),
        "1.2.840.10045.2.1" => {
            let curve = info
                .algorithm
                .parameters
                .and_then(|p| p.decode_as::<pkcs8::ObjectIdentifier>().ok())
                .map(|oid| curve_from_der_oid(oid.as_bytes()));
            from_sec1(inner, curve)
        }
        "1.3.101.112" => Some(KeyInfo {
            algorithm: Some(PublicKeyInfo::Ed25519),
            public: None,
            rustls_refusal: None,
        }),
        "1.3.101.113" => Some(KeyInfo {
            algorithm: Some(PublicKeyInfo::Ed448),
            public: None,
            rustls_refusal: None,
        }),
        _ => Some(KeyInfo {
            algorithm: Some(PublicKeyInfo::Other { oid }),
            public: None,
            rustls_refusal: None,
        }),
    }
}

/// Maps an OID given as its DER contents (as the RustCrypto crates hold it) to a curve.
fn curve_from_der_oid(contents: &[u8]) -> Curve {
    Curve::from_oid(&x509_parser::der_parser::oid::Oid::new(contents.into()))
}

/// Whether `signature` over `message`, made with TLS signature `scheme`, verifies against the
/// certificate's public key. `None` when rustls has no verifier for the scheme and key type.
pub fn verify_tls_signature(
    cert: &CertInfo,
    scheme: rustls::SignatureScheme,
    message: &[u8],
    signature: &[u8],
) -> Option<bool> {
    // Built once: a provider is a handful of vectors, and a capture may hold thousands of checks.
    static VERIFIERS: std::sync::LazyLock<rustls::crypto::WebPkiSupportedAlgorithms> =
        std::sync::LazyLock::new(|| {
            rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms
        });
    let (_, algorithms) = VERIFIERS.mapping.iter().find(|(s, _)| *s == scheme)?;
    let mut candidates = algorithms
        .iter()
        .filter(|alg| alg.public_key_alg_id().as_ref() == cert.raw.spki_alg_id.as_slice())
        .peekable();
    candidates.peek()?;
    Some(candidates.any(|alg| {
        alg.verify_signature(&cert.raw.public_key, message, signature)
            .is_ok()
    }))
}
