//! Wire numbers and their IANA names. Unknown values keep their number and print as hex, so
//! nothing a peer sends is ever lost or fails to print.

use std::fmt;

use serde::Serialize;

/// A wire value with its registered name, when it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Named {
    pub code: u16,
    /// From the static tables of this module: a ClientHello alone names dozens of values, and
    /// a capture holds thousands of ClientHellos, so names are not copied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'static str>,
}

impl Named {
    fn new(code: u16, name: Option<&'static str>) -> Named {
        Named { code, name }
    }
}

impl fmt::Display for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => f.write_str(name),
            None => write!(f, "0x{:04x}", self.code),
        }
    }
}

pub fn version(code: u16) -> Named {
    let name = match code {
        0x0300 => Some("SSLv3"),
        0x0301 => Some("TLSv1.0"),
        0x0302 => Some("TLSv1.1"),
        0x0303 => Some("TLSv1.2"),
        0x0304 => Some("TLSv1.3"),
        _ if code & 0x0f0f == 0x0a0a => Some("GREASE"),
        _ => None,
    };
    Named::new(code, name)
}

pub fn content_type(code: u8) -> Named {
    let name = match code {
        20 => Some("change_cipher_spec"),
        21 => Some("alert"),
        22 => Some("handshake"),
        23 => Some("application_data"),
        24 => Some("heartbeat"),
        _ => None,
    };
    Named::new(code.into(), name)
}

pub fn cipher_suite(code: u16) -> Named {
    let name = cipher_suite_info(code).map(|suite| suite.name);
    let name = name.or(if code & 0x0f0f == 0x0a0a {
        Some("GREASE")
    } else {
        None
    });
    Named::new(code, name)
}

/// tls-parser's description of a cipher suite. Its own lookup hashes the code with SipHash;
/// a ClientHello offers dozens of suites, so a sorted copy of its table is searched instead.
pub fn cipher_suite_info(code: u16) -> Option<&'static tls_parser::TlsCipherSuite> {
    static SORTED: std::sync::OnceLock<Vec<(u16, &'static tls_parser::TlsCipherSuite)>> =
        std::sync::OnceLock::new();
    let sorted = SORTED.get_or_init(|| {
        let mut all: Vec<_> = tls_parser::CIPHERS
            .entries()
            .map(|(&c, s)| (c, s))
            .collect();
        all.sort_unstable_by_key(|&(c, _)| c);
        all
    });
    let at = sorted.binary_search_by_key(&code, |&(c, _)| c).ok()?;
    Some(sorted[at].1)
}

pub fn group(code: u16) -> Named {
    let name = match code {
        0x0017 => Some("secp256r1"),
        0x0018 => Some("secp384r1"),
        0x0019 => Some("secp521r1"),
        0x001a => Some("brainpoolP256r1"),
        0x001b => Some("brainpoolP384r1"),
        0x001c => Some("brainpoolP512r1"),
        0x001d => Some("x25519"),
        0x001e => Some("x448"),
        0x0100 => Some("ffdhe2048"),
        0x0101 => Some("ffdhe3072"),
        0x0102 => Some("ffdhe4096"),
        0x0103 => Some("ffdhe6144"),
        0x0104 => Some("ffdhe8192"),
        0x0200 => Some("MLKEM512"),
        0x0201 => Some("MLKEM768"),
        0x0202 => Some("MLKEM1024"),
        0x11eb => Some("SecP256r1MLKEM768"),
        0x11ec => Some("X25519MLKEM768"),
        0x11ed => Some("SecP384r1MLKEM1024"),
        0x6399 => Some("X25519Kyber768Draft00"),
        _ if code & 0x0f0f == 0x0a0a => Some("GREASE"),
        _ => None,
    };
    Named::new(code, name)
}

pub fn signature_scheme(code: u16) -> Named {
    let name = match code {
        0x0201 => Some("rsa_pkcs1_sha1"),
        0x0203 => Some("ecdsa_sha1"),
        0x0401 => Some("rsa_pkcs1_sha256"),
        0x0501 => Some("rsa_pkcs1_sha384"),
        0x0601 => Some("rsa_pkcs1_sha512"),
        0x0403 => Some("ecdsa_secp256r1_sha256"),
        0x0503 => Some("ecdsa_secp384r1_sha384"),
        0x0603 => Some("ecdsa_secp521r1_sha512"),
        0x0804 => Some("rsa_pss_rsae_sha256"),
        0x0805 => Some("rsa_pss_rsae_sha384"),
        0x0806 => Some("rsa_pss_rsae_sha512"),
        0x0807 => Some("ed25519"),
        0x0808 => Some("ed448"),
        0x0809 => Some("rsa_pss_pss_sha256"),
        0x080a => Some("rsa_pss_pss_sha384"),
        0x080b => Some("rsa_pss_pss_sha512"),
        0x081a => Some("ecdsa_brainpoolP256r1tls13_sha256"),
        0x081b => Some("ecdsa_brainpoolP384r1tls13_sha384"),
        0x081c => Some("ecdsa_brainpoolP512r1tls13_sha512"),
        0x0904 => Some("mldsa44"),
        0x0905 => Some("mldsa65"),
        0x0906 => Some("mldsa87"),
        0x0402 => Some("dsa_sha256"),
        0x0202 => Some("dsa_sha1"),
        0x0301 => Some("rsa_sha224"),
        0x0303 => Some("ecdsa_sha224"),
        _ if code & 0x0f0f == 0x0a0a => Some("GREASE"),
        _ => None,
    };
    Named::new(code, name)
}

/// The code of a signature scheme named as the IANA registry names it.
pub fn signature_scheme_code(name: &str) -> Option<u16> {
    const KNOWN: [u16; 23] = [
        0x0201, 0x0203, 0x0401, 0x0501, 0x0601, 0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806,
        0x0807, 0x0808, 0x0809, 0x080a, 0x080b, 0x081a, 0x081b, 0x081c, 0x0904, 0x0905, 0x0906,
        0x0402,
    ];
    KNOWN
        .into_iter()
        .find(|&code| signature_scheme(code).name == Some(name))
}

/// TLS 1.2 ClientCertificateType values of a CertificateRequest.
pub fn certificate_type(code: u8) -> Named {
    let name = match code {
        1 => Some("rsa_sign"),
        2 => Some("dss_sign"),
        3 => Some("rsa_fixed_dh"),
        4 => Some("dss_fixed_dh"),
        64 => Some("ecdsa_sign"),
        65 => Some("rsa_fixed_ecdh"),
        66 => Some("ecdsa_fixed_ecdh"),
        _ => None,
    };
    Named::new(code.into(), name)
}

pub fn alert_level(code: u8) -> Named {
    let name = match code {
        1 => Some("warning"),
        2 => Some("fatal"),
        _ => None,
    };
    Named::new(code.into(), name)
}

/// Alert descriptions of RFC 5246, RFC 8446 and their extensions.
pub fn alert(code: u8) -> Named {
    Named::new(code.into(), alert_name(code))
}

pub fn alert_name(code: u8) -> Option<&'static str> {
    Some(match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        121 => "ech_required",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sorted_cipher_suite_table_agrees_with_tls_parser() {
        for code in 0..=u16::MAX {
            let ours = cipher_suite_info(code).map(|s| s.name);
            let theirs = tls_parser::TlsCipherSuite::from_id(code).map(|s| s.name);
            assert_eq!(ours, theirs, "{code:#06x}");
        }
    }

    #[test]
    fn known_values_have_names_and_unknown_ones_print_as_hex() {
        assert_eq!(version(0x0304).to_string(), "TLSv1.3");
        assert_eq!(cipher_suite(0x1301).to_string(), "TLS_AES_128_GCM_SHA256");
        assert_eq!(
            signature_scheme(0x0403).to_string(),
            "ecdsa_secp256r1_sha256"
        );
        assert_eq!(alert(116).to_string(), "certificate_required");
        assert_eq!(group(0xfefe).to_string(), "0xfefe");
        assert_eq!(alert(200).to_string(), "0x00c8");
        assert_eq!(group(0x3a3a).to_string(), "GREASE");
    }
}
