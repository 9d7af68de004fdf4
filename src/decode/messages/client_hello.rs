//! ClientHello: what the client offers (versions, cipher suites, groups and key shares,
//! signature schemes, SNI, ALPN).

use tls_parser::{SNIType, TlsExtension};

use super::{malformed_extension, split_extensions};
use crate::decode::plaintext::printable;
use crate::decode::reader::Reader;
use crate::model::{Handshake, codes};

/// A ClientHello body. Its fixed fields must decode; a malformed extension is left out with a
/// note in `notes`, the others still read.
pub fn decode(body: &[u8], notes: &mut Vec<String>) -> Result<Handshake, String> {
    let (_, hello) = tls_parser::parse_tls_handshake_client_hello(body)
        .map_err(|_| "its fixed fields are cut short or malformed".to_string())?;
    let mut versions = None;
    let mut groups = Vec::new();
    let mut key_shares = Vec::new();
    let mut signature_schemes = Vec::new();
    let mut sni = None;
    let mut alpn = Vec::new();
    for (ext_type, whole) in split_extensions(hello.ext.unwrap_or_default(), "ClientHello", notes) {
        match tls_parser::parse_tls_client_hello_extension(whole) {
            Ok((_, TlsExtension::SupportedVersions(list))) => {
                versions = Some(list.iter().map(|v| codes::version(v.0)).collect());
            }
            Ok((_, TlsExtension::EllipticCurves(list))) => {
                groups = list.iter().map(|g| codes::group(g.0)).collect()
            }
            Ok((_, TlsExtension::SignatureAlgorithms(list))) => {
                signature_schemes = list.into_iter().map(codes::signature_scheme).collect();
            }
            Ok((_, TlsExtension::SNI(names))) => {
                sni = names
                    .iter()
                    .find(|(kind, _)| *kind == SNIType::HostName)
                    .map(|(_, name)| printable(name));
            }
            Ok((_, TlsExtension::ALPN(protocols))) => {
                alpn = protocols.iter().map(|p| printable(p)).collect()
            }
            Ok((_, TlsExtension::KeyShare(shares))) => match key_share_groups(shares) {
                Some(list) => key_shares = list.into_iter().map(codes::group).collect(),
                None => notes.push(malformed_extension("ClientHello", ext_type)),
            },
            Ok(_) => {}
            Err(_) => notes.push(malformed_extension("ClientHello", ext_type)),
        }
    }
    Ok(Handshake::ClientHello {
        versions: versions.unwrap_or_else(|| vec![codes::version(hello.version.0)]),
        cipher_suites: hello
            .ciphers
            .iter()
            .map(|c| codes::cipher_suite(c.0))
            .collect(),
        groups,
        key_shares,
        signature_schemes,
        sni,
        alpn,
    })
}

/// The 32-byte random of a ClientHello body, which a key log is keyed by: right after the
/// 2-byte legacy_version.
pub fn random(body: &[u8]) -> Option<[u8; 32]> {
    body.get(2..34).and_then(|r| r.try_into().ok())
}

/// The groups of a ClientHello key_share extension: a u16-length-prefixed list of
/// (group, u16-length-prefixed key) entries.
fn key_share_groups(extension: &[u8]) -> Option<Vec<u16>> {
    let mut outer = Reader(extension);
    let mut entries = Reader(outer.vec16()?);
    let mut groups = Vec::new();
    while !entries.is_empty() {
        groups.push(entries.u16()?);
        entries.vec16()?;
    }
    Some(groups)
}

#[cfg(test)]
mod tests {
    use super::super::build::{extension, u16s, vec8, vec16};
    use super::*;

    /// A ClientHello body: version 3.3, a random of 7s, no session id, the suites, null
    /// compression, the extensions.
    fn hello(suites: &[u16], extensions: &[Vec<u8>]) -> Vec<u8> {
        let mut body = vec![3, 3];
        body.extend([7; 32]);
        body.extend(vec8(&[]));
        body.extend(vec16(&u16s(suites)));
        body.extend(vec8(&[0]));
        body.extend(vec16(&extensions.concat()));
        body
    }

    fn names(list: &[crate::model::Named]) -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn what_a_client_offers() {
        let mut sni = vec![0];
        sni.extend(vec16(b"a1b2.iot.example"));
        let mut shares = u16s(&[0x001d]);
        shares.extend(vec16(&[9; 32]));
        let body = hello(
            &[0x1301, 0xc02b],
            &[
                extension(0, &vec16(&sni)),
                extension(10, &vec16(&u16s(&[0x001d, 0x0017]))),
                extension(13, &vec16(&u16s(&[0x0403]))),
                extension(16, &vec16(&vec8(b"x-amzn-mqtt-ca"))),
                extension(43, &vec8(&u16s(&[0x0304, 0x0303]))),
                extension(51, &vec16(&shares)),
            ],
        );
        let mut notes = Vec::new();
        let Handshake::ClientHello {
            versions,
            cipher_suites,
            groups,
            key_shares,
            signature_schemes,
            sni,
            alpn,
        } = decode(&body, &mut notes).expect("decodes")
        else {
            panic!("not a ClientHello");
        };
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(names(&versions), ["TLSv1.3", "TLSv1.2"]);
        assert_eq!(
            names(&cipher_suites),
            [
                "TLS_AES_128_GCM_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
            ]
        );
        assert_eq!(names(&groups), ["x25519", "secp256r1"]);
        assert_eq!(names(&key_shares), ["x25519"]);
        assert_eq!(names(&signature_schemes), ["ecdsa_secp256r1_sha256"]);
        assert_eq!(sni.as_deref(), Some("a1b2.iot.example"));
        assert_eq!(alpn, ["x-amzn-mqtt-ca"]);
        assert_eq!(random(&body), Some([7; 32]));
    }

    #[test]
    fn a_bad_extension_is_a_note_a_bad_hello_an_error() {
        // A key_share whose entry is cut short; the legacy version stands for the versions.
        let body = hello(&[0x002f], &[extension(51, &vec16(&[0, 0x1d, 0, 32, 1]))]);
        let mut notes = Vec::new();
        let Ok(Handshake::ClientHello { versions, .. }) = decode(&body, &mut notes) else {
            panic!("not a ClientHello");
        };
        assert_eq!(names(&versions), ["TLSv1.2"]);
        assert_eq!(
            notes,
            ["the ClientHello's extension 0x0033 is malformed and was ignored"]
        );
        assert!(decode(&body[..20], &mut notes).is_err());
        assert_eq!(random(&body[..20]), None);
    }
}
