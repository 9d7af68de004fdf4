//! Decoders of single handshake messages and alerts, one message per file: bytes of one whole
//! message body in, a transcript value (or a reason it does not decode) out. What depends on the
//! connection (the negotiated version, the cipher suite) is passed in; the connection's state
//! stays with `super::wire`.

pub mod alert;
pub mod certificate;
pub mod certificate_request;
pub mod certificate_verify;
pub mod client_hello;
pub mod server_hello;
pub mod server_key_exchange;

use super::reader::Reader;

pub const CLIENT_HELLO: u8 = 1;
pub const SERVER_HELLO: u8 = 2;
pub const NEW_SESSION_TICKET: u8 = 4;
pub const ENCRYPTED_EXTENSIONS: u8 = 8;
pub const CERTIFICATE: u8 = 11;
pub const SERVER_KEY_EXCHANGE: u8 = 12;
pub const CERTIFICATE_REQUEST: u8 = 13;
pub const SERVER_HELLO_DONE: u8 = 14;
pub const CERTIFICATE_VERIFY: u8 = 15;
pub const CLIENT_KEY_EXCHANGE: u8 = 16;
pub const FINISHED: u8 = 20;
pub const KEY_UPDATE: u8 = 24;

/// Cuts an extensions block into (type, whole extension) pairs, so that the extension parsers
/// see one extension at a time and a malformed one does not hide the others.
fn split_extensions<'a>(
    block: &'a [u8],
    message: &str,
    notes: &mut Vec<String>,
) -> Vec<(u16, &'a [u8])> {
    let mut extensions = Vec::new();
    let mut reader = Reader(block);
    while !reader.is_empty() {
        let start = reader.rest();
        let (Some(ext_type), Some(data)) = (reader.u16(), reader.vec16()) else {
            notes.push(format!(
                "the {message}'s extensions end with {} undecodable bytes",
                start.len()
            ));
            break;
        };
        extensions.push((ext_type, start.get(..4 + data.len()).unwrap_or_default()));
    }
    extensions
}

fn malformed_extension(message: &str, ext_type: u16) -> String {
    format!("the {message}'s extension 0x{ext_type:04x} is malformed and was ignored")
}

/// Bytes built for the tests of the message decoders.
#[cfg(test)]
mod build {
    /// A u8/u16/u24-length-prefixed vector.
    pub fn vec8(bytes: &[u8]) -> Vec<u8> {
        let mut v = vec![bytes.len() as u8];
        v.extend_from_slice(bytes);
        v
    }

    pub fn vec16(bytes: &[u8]) -> Vec<u8> {
        let mut v = (bytes.len() as u16).to_be_bytes().to_vec();
        v.extend_from_slice(bytes);
        v
    }

    pub fn vec24(bytes: &[u8]) -> Vec<u8> {
        let mut v = (bytes.len() as u32).to_be_bytes()[1..].to_vec();
        v.extend_from_slice(bytes);
        v
    }

    /// One extension: type and u16-length-prefixed data.
    pub fn extension(ext_type: u16, data: &[u8]) -> Vec<u8> {
        let mut v = ext_type.to_be_bytes().to_vec();
        v.extend(vec16(data));
        v
    }

    /// A u16 list as bytes.
    pub fn u16s(list: &[u16]) -> Vec<u8> {
        list.iter().flat_map(|v| v.to_be_bytes()).collect()
    }

    /// The DER of a certificate of the test PKI.
    pub fn cert_der(file: &str) -> Vec<u8> {
        crate::test_support::certs(file)
            .into_iter()
            .next()
            .expect("a certificate")
            .to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_extension_does_not_hide_the_others() {
        let mut notes = Vec::new();
        let mut block = build::extension(0, b"abc");
        block.extend(build::extension(16, b""));
        block.extend([0x00, 0x2b, 0x00]);
        let split = split_extensions(&block, "ClientHello", &mut notes);
        assert_eq!(
            split.iter().map(|(t, e)| (*t, e.len())).collect::<Vec<_>>(),
            [(0, 7), (16, 4)]
        );
        assert_eq!(
            notes,
            ["the ClientHello's extensions end with 3 undecodable bytes"]
        );
    }
}
