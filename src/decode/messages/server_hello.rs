//! ServerHello and HelloRetryRequest (a ServerHello with a fixed random): the version, cipher
//! suite and group the server chose, and its ALPN.

use tls_parser::TlsExtension;

use super::{malformed_extension, split_extensions};
use crate::decode::plaintext::printable;
use crate::decode::reader::Reader;
use crate::model::{Handshake, codes};

/// The ServerHello random that marks a HelloRetryRequest: SHA-256("HelloRetryRequest").
pub(crate) const HELLO_RETRY_REQUEST_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// A decoded ServerHello or HelloRetryRequest, with the code points the connection goes on with.
#[derive(Debug)]
pub struct ServerHello {
    pub message: Handshake,
    /// The version chosen: the supported_versions extension when present, else the legacy
    /// version.
    pub version: u16,
    pub cipher_suite: u16,
}

/// A ServerHello (or HelloRetryRequest) body. Its fixed fields must decode; a malformed
/// extension is left out with a note in `notes`.
pub fn decode(body: &[u8], notes: &mut Vec<String>) -> Result<ServerHello, String> {
    let (_, hello) = tls_parser::parse_tls_handshake_server_hello(body)
        .map_err(|_| "its fixed fields are cut short or malformed".to_string())?;
    let retry = hello.random == HELLO_RETRY_REQUEST_RANDOM;
    let what = if retry {
        "HelloRetryRequest"
    } else {
        "ServerHello"
    };
    let mut selected_version = None;
    let mut key_share = None;
    let mut alpn = None;
    let mut max_fragment_length = None;
    for (ext_type, whole) in split_extensions(hello.ext.unwrap_or_default(), what, notes) {
        match tls_parser::parse_tls_server_hello_extension(whole) {
            Ok((_, TlsExtension::SupportedVersions(versions))) => {
                selected_version = versions.first().map(|v| v.0);
            }
            Ok((_, TlsExtension::KeyShare(share))) => {
                key_share = Reader(share).u16().map(codes::group)
            }
            Ok((_, TlsExtension::ALPN(protocols))) => {
                alpn = protocols.first().map(|p| printable(p))
            }
            // RFC 6066: 1..=4 stand for 2^9..=2^12 bytes; another value is not a length.
            Ok((_, TlsExtension::MaxFragmentLength(code @ 1..=4))) => {
                max_fragment_length = Some(256u16 << code)
            }
            Ok(_) => {}
            Err(_) => notes.push(malformed_extension(what, ext_type)),
        }
    }
    let version = selected_version.unwrap_or(hello.version.0);
    let cipher_suite = codes::cipher_suite(hello.cipher.0);
    let message = if retry {
        Handshake::HelloRetryRequest {
            cipher_suite,
            key_share,
        }
    } else {
        Handshake::ServerHello {
            version: codes::version(version),
            cipher_suite,
            key_share,
            alpn,
            max_fragment_length,
        }
    };
    Ok(ServerHello {
        message,
        version,
        cipher_suite: hello.cipher.0,
    })
}

#[cfg(test)]
mod tests {
    use super::super::build::{extension, u16s, vec8, vec16};
    use super::*;

    fn hello(random: [u8; 32], suite: u16, extensions: &[Vec<u8>]) -> Vec<u8> {
        let mut body = vec![3, 3];
        body.extend(random);
        body.extend(vec8(&[5; 32]));
        body.extend(suite.to_be_bytes());
        body.push(0);
        body.extend(vec16(&extensions.concat()));
        body
    }

    #[test]
    fn a_tls13_server_hello_names_its_version_from_the_extension() {
        let mut share = u16s(&[0x001d]);
        share.extend(vec16(&[1; 32]));
        let body = hello(
            [3; 32],
            0x1302,
            &[extension(43, &u16s(&[0x0304])), extension(51, &share)],
        );
        let mut notes = Vec::new();
        let hello = decode(&body, &mut notes).expect("decodes");
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!((hello.version, hello.cipher_suite), (0x0304, 0x1302));
        let Handshake::ServerHello {
            version, key_share, ..
        } = hello.message
        else {
            panic!("{:?}", hello.message);
        };
        assert_eq!(version.to_string(), "TLSv1.3");
        assert_eq!(key_share.map(|g| g.to_string()).as_deref(), Some("x25519"));
    }

    #[test]
    fn the_retry_random_makes_a_hello_retry_request() {
        let body = hello(
            HELLO_RETRY_REQUEST_RANDOM,
            0x1301,
            &[
                extension(43, &u16s(&[0x0304])),
                extension(51, &u16s(&[0x0017])),
            ],
        );
        let hello = decode(&body, &mut Vec::new()).expect("decodes");
        let Handshake::HelloRetryRequest { key_share, .. } = hello.message else {
            panic!("{:?}", hello.message);
        };
        assert_eq!(
            key_share.map(|g| g.to_string()).as_deref(),
            Some("secp256r1")
        );
    }

    #[test]
    fn a_tls12_server_hello_keeps_its_legacy_version_and_its_alpn() {
        let body = hello(
            [3; 32],
            0xc02f,
            &[extension(16, &vec16(&vec8(b"x-amzn-mqtt-ca")))],
        );
        let hello = decode(&body, &mut Vec::new()).expect("decodes");
        assert_eq!(hello.version, 0x0303);
        let Handshake::ServerHello { alpn, .. } = hello.message else {
            panic!("{:?}", hello.message);
        };
        assert_eq!(alpn.as_deref(), Some("x-amzn-mqtt-ca"));
        assert!(decode(&body[..30], &mut Vec::new()).is_err());
    }

    #[test]
    fn an_echoed_max_fragment_length_is_read_in_bytes() {
        let body = hello([3; 32], 0xc0ae, &[extension(1, &[1])]);
        let mut notes = Vec::new();
        let hello = decode(&body, &mut notes).expect("decodes");
        let Handshake::ServerHello {
            max_fragment_length,
            ..
        } = hello.message
        else {
            panic!("{:?}", hello.message);
        };
        assert_eq!(max_fragment_length, Some(512));
        let body = self::hello([3; 32], 0xc0ae, &[]);
        let Handshake::ServerHello {
            max_fragment_length,
            ..
        } = decode(&body, &mut notes).expect("decodes").message
        else {
            panic!("not a ServerHello");
        };
        assert_eq!(max_fragment_length, None);
    }
}
