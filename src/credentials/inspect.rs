//! Reading what a certificate says about itself: x509-parser parses the DER once into the
//! owned summary of `model::certificate`.

use rustls::pki_types::CertificateDer;
use x509_parser::oid_registry::{self, Oid};
use x509_parser::prelude::*;

use super::der;
pub use crate::model::certificate::{
    CertInfo, CertSummary, Curve, PublicKeyId, PublicKeyInfo, RawParts, SignatureAlgorithm,
    Timestamp, colon_hex, short_dn, significant_bits,
};

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

        Ok(CertInfo::new(CertSummary {
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
        }))
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
        // As openssl x509 -text names them, not in Rust's debug notation.
        GeneralName::OtherName(oid, _) => format!("othername:{oid}"),
        GeneralName::RegisteredID(oid) => format!("Registered ID:{oid}"),
        GeneralName::X400Address(_) => "X400Name:<unsupported>".into(),
        GeneralName::EDIPartyName(_) => "EdiPartyName:<unsupported>".into(),
        GeneralName::Invalid(tag, _) => format!("<invalid name, tag {}>", tag.0),
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
}

impl PublicKeyId {
    pub fn from_spki(spki: &SubjectPublicKeyInfo<'_>) -> PublicKeyId {
        match spki.parsed() {
            Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => {
                PublicKeyId::rsa_modulus(rsa.modulus)
            }
            Ok(x509_parser::public_key::PublicKey::EC(point)) => {
                PublicKeyId::EcPoint(point.data().to_vec())
            }
            _ => PublicKeyId::Raw(spki.subject_public_key.data.to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn garbage_is_not_a_certificate() {
        let err = CertInfo::from_der(&CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x01]))
            .unwrap_err();
        assert!(err.contains("not a valid X.509 certificate"), "{err}");
    }
}
