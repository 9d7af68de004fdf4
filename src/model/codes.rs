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

/// The record content types.
pub const CHANGE_CIPHER_SPEC: u8 = 20;
pub const ALERT: u8 = 21;
pub const HANDSHAKE: u8 = 22;
pub const APPLICATION_DATA: u8 = 23;
/// Heartbeat (RFC 6520): the last content type TLS defines up to 1.3. tls12_cid (25) and later
/// are DTLS-only.
pub const HEARTBEAT: u8 = 24;

pub fn content_type(code: u8) -> Named {
    let name = match code {
        CHANGE_CIPHER_SPEC => Some("change_cipher_spec"),
        ALERT => Some("alert"),
        HANDSHAKE => Some("handshake"),
        APPLICATION_DATA => Some("application_data"),
        HEARTBEAT => Some("heartbeat"),
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
        // RFC 8422 deprecates these, but embedded stacks still offer them.
        0x0012 => Some("secp192k1"),
        0x0013 => Some("secp192r1"),
        0x0014 => Some("secp224k1"),
        0x0015 => Some("secp224r1"),
        0x0016 => Some("secp256k1"),
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

/// One TLS alert description: its number, its RFC name, and what its sender is saying (the
/// words evidence lines and `alert-unexplained` use; `None` where iotdoctor has nothing to add).
pub struct Alert {
    pub code: u8,
    pub name: &'static str,
    pub meaning: Option<&'static str>,
}

/// Alert descriptions of RFC 5246, RFC 8446 and their extensions, in code order.
pub const ALERTS: &[Alert] = &[
    Alert {
        code: 0,
        name: "close_notify",
        meaning: Some("the sender is closing the connection normally"),
    },
    Alert {
        code: 10,
        name: "unexpected_message",
        meaning: Some(
            "the sender received a message it did not expect at this point of the handshake",
        ),
    },
    Alert {
        code: 20,
        name: "bad_record_mac",
        meaning: Some(
            "a record failed its integrity check (wrong keys, corruption, or a middlebox)",
        ),
    },
    Alert {
        code: 21,
        name: "decryption_failed",
        meaning: None,
    },
    Alert {
        code: 22,
        name: "record_overflow",
        meaning: Some("a record was too long"),
    },
    Alert {
        code: 30,
        name: "decompression_failure",
        meaning: None,
    },
    Alert {
        code: 40,
        name: "handshake_failure",
        meaning: Some(
            "the sender could not agree on security parameters; OpenSSL also sends it in TLS 1.2 when a required client certificate is missing",
        ),
    },
    Alert {
        code: 41,
        name: "no_certificate",
        meaning: Some("no certificate (SSLv3 only)"),
    },
    Alert {
        code: 42,
        name: "bad_certificate",
        meaning: Some(
            "the sender rejects the certificate it received (AWS IoT Core also sends it when no client certificate was sent)",
        ),
    },
    Alert {
        code: 43,
        name: "unsupported_certificate",
        meaning: Some(
            "the certificate is of a type the sender does not support (key usage, EKU or algorithm)",
        ),
    },
    Alert {
        code: 44,
        name: "certificate_revoked",
        meaning: Some("the certificate was revoked by its issuer"),
    },
    Alert {
        code: 45,
        name: "certificate_expired",
        meaning: Some("the certificate expired or is not yet valid (check both clocks)"),
    },
    Alert {
        code: 46,
        name: "certificate_unknown",
        meaning: Some("some unspecified problem with the certificate made it unacceptable"),
    },
    Alert {
        code: 47,
        name: "illegal_parameter",
        meaning: Some("a field of the handshake was out of range or inconsistent"),
    },
    Alert {
        code: 48,
        name: "unknown_ca",
        meaning: Some(
            "the certificate chain does not lead to a CA the sender trusts (or an intermediate is missing)",
        ),
    },
    Alert {
        code: 49,
        name: "access_denied",
        meaning: Some("a valid certificate was received but access was denied"),
    },
    Alert {
        code: 50,
        name: "decode_error",
        meaning: Some("a message could not be decoded"),
    },
    Alert {
        code: 51,
        name: "decrypt_error",
        meaning: Some(
            "a signature or the Finished check failed: often a private key that does not belong to the certificate",
        ),
    },
    Alert {
        code: 60,
        name: "export_restriction",
        meaning: None,
    },
    Alert {
        code: 70,
        name: "protocol_version",
        meaning: Some("the sender does not support the protocol version offered"),
    },
    Alert {
        code: 71,
        name: "insufficient_security",
        meaning: Some("the sender requires stronger cipher suites than offered"),
    },
    Alert {
        code: 80,
        name: "internal_error",
        meaning: Some("the sender had an internal error unrelated to the peer"),
    },
    Alert {
        code: 86,
        name: "inappropriate_fallback",
        meaning: Some("an inappropriate fallback to an older version was detected"),
    },
    Alert {
        code: 90,
        name: "user_canceled",
        meaning: Some("the handshake was cancelled by the sender"),
    },
    Alert {
        code: 100,
        name: "no_renegotiation",
        meaning: Some(
            "the sender refuses to renegotiate: it will start no new handshake on this connection",
        ),
    },
    Alert {
        code: 109,
        name: "missing_extension",
        meaning: Some("a mandatory extension is missing"),
    },
    Alert {
        code: 110,
        name: "unsupported_extension",
        meaning: Some("an extension was received that the sender did not offer"),
    },
    Alert {
        code: 111,
        name: "certificate_unobtainable",
        meaning: None,
    },
    Alert {
        code: 112,
        name: "unrecognized_name",
        meaning: Some("the server does not recognise the name sent in SNI (or needs one)"),
    },
    Alert {
        code: 113,
        name: "bad_certificate_status_response",
        meaning: Some("the certificate status (OCSP) response was invalid"),
    },
    Alert {
        code: 114,
        name: "bad_certificate_hash_value",
        meaning: None,
    },
    Alert {
        code: 115,
        name: "unknown_psk_identity",
        meaning: None,
    },
    Alert {
        code: 116,
        name: "certificate_required",
        meaning: Some(
            "the server requires a client certificate and none was sent (an alert of TLS 1.3; rustls servers send it in TLS 1.2 too, where others send 40 or 42)",
        ),
    },
    Alert {
        code: 120,
        name: "no_application_protocol",
        meaning: Some("the server supports none of the ALPN protocols offered"),
    },
    Alert {
        code: 121,
        name: "ech_required",
        meaning: None,
    },
];

fn alert_entry(code: u8) -> Option<&'static Alert> {
    ALERTS.iter().find(|alert| alert.code == code)
}

pub fn alert_name(code: u8) -> Option<&'static str> {
    alert_entry(code).map(|alert| alert.name)
}

/// One sentence on what the sender of this alert is saying.
pub fn alert_meaning(code: u8) -> &'static str {
    alert_entry(code)
        .and_then(|alert| alert.meaning)
        .unwrap_or("an alert iotdoctor has no description for")
}

/// Handshake message types (RFC 5246 section 7.4, RFC 8446 section 4), as the RFCs name them.
pub const HANDSHAKE_TYPES: &[(u8, &str)] = &[
    (0, "HelloRequest"),
    (1, "ClientHello"),
    (2, "ServerHello"),
    (4, "NewSessionTicket"),
    (5, "EndOfEarlyData"),
    (8, "EncryptedExtensions"),
    (11, "Certificate"),
    (12, "ServerKeyExchange"),
    (13, "CertificateRequest"),
    (14, "ServerHelloDone"),
    (15, "CertificateVerify"),
    (16, "ClientKeyExchange"),
    (20, "Finished"),
    (22, "CertificateStatus"),
    (24, "KeyUpdate"),
];

/// A handshake message's name; "handshake message" for a type without one.
pub fn handshake_type_name(code: u8) -> &'static str {
    HANDSHAKE_TYPES
        .iter()
        .find(|(known, _)| *known == code)
        .map_or("handshake message", |(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_alert_and_message_type_is_listed_once_in_code_order() {
        assert!(ALERTS.windows(2).all(|pair| pair[0].code < pair[1].code));
        assert!(HANDSHAKE_TYPES.windows(2).all(|pair| pair[0].0 < pair[1].0));
        assert_eq!(
            alert_meaning(200),
            "an alert iotdoctor has no description for"
        );
        assert_eq!(handshake_type_name(14), "ServerHelloDone");
        assert_eq!(handshake_type_name(99), "handshake message");
    }

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
