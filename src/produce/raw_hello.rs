//! A ClientHello written byte by byte from an [`Offer`], for the offers rustls cannot make (TLS
//! 1.0 and 1.1, CBC and CCM suites, groups and signature schemes it lacks): it is enough to read
//! the server's answer to the offer, never to finish a handshake.

use aws_lc_rs::agreement::{ECDH_P256, EphemeralPrivateKey, X25519};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use super::offer::{DEFAULT_GROUPS, DEFAULT_SIGALGS, Offer, TLS12, TLS13};

const SERVER_NAME: u16 = 0;
const MAX_FRAGMENT_LENGTH: u16 = 1;
const SUPPORTED_GROUPS: u16 = 10;
const EC_POINT_FORMATS: u16 = 11;
const SIGNATURE_ALGORITHMS: u16 = 13;
const ALPN: u16 = 16;
const EXTENDED_MASTER_SECRET: u16 = 23;
const SUPPORTED_VERSIONS: u16 = 43;
const PSK_KEY_EXCHANGE_MODES: u16 = 45;
const KEY_SHARE: u16 = 51;

/// The groups a key share can be made for.
const X25519_GROUP: u16 = 0x001d;
const SECP256R1_GROUP: u16 = 0x0017;

/// The ClientHello of `offer` in one handshake record, with SNI `sni` and ALPN `alpn`. Suites,
/// groups and schemes the offer leaves empty are iotdoctor's own (`default_suites` for suites).
pub fn client_hello(
    offer: &Offer,
    default_suites: &[u16],
    sni: Option<&str>,
    alpn: &[String],
) -> Result<Vec<u8>, String> {
    let versions = offer.versions();
    let highest = versions[0];
    let suites = if offer.suites.is_empty() {
        default_suites
    } else {
        &offer.suites[..]
    };
    let groups = if offer.groups.is_empty() {
        DEFAULT_GROUPS
    } else {
        &offer.groups[..]
    };
    let sigalgs = if offer.sigalgs.is_empty() {
        DEFAULT_SIGALGS
    } else {
        &offer.sigalgs[..]
    };
    let random = SystemRandom::new();
    let mut client_random = [0u8; 32];
    random
        .fill(&mut client_random)
        .map_err(|_| "no random bytes for the ClientHello".to_string())?;

    let mut body = Vec::new();
    // TLS 1.3 says it in supported_versions; the legacy field stays at TLS 1.2.
    put16(&mut body, highest.min(TLS12));
    body.extend_from_slice(&client_random);
    if highest >= TLS13 {
        // A session id of its own, as TLS 1.3 clients send for middlebox compatibility.
        let mut session = [0u8; 32];
        random
            .fill(&mut session)
            .map_err(|_| "no random bytes for the ClientHello".to_string())?;
        body.push(32);
        body.extend_from_slice(&session);
    } else {
        body.push(0);
    }
    put16(&mut body, (suites.len() * 2) as u16);
    for &suite in suites {
        put16(&mut body, suite);
    }
    // No compression.
    body.extend_from_slice(&[1, 0]);

    let mut extensions = Vec::new();
    if let Some(name) = sni {
        let mut list = vec![0u8];
        put16(&mut list, name.len() as u16);
        list.extend_from_slice(name.as_bytes());
        extension(&mut extensions, SERVER_NAME, &vec16(&list));
    }
    if let Some(code) = offer.max_fragment_length {
        if !(1..=4).contains(&code) {
            return Err(format!(
                "max_fragment_length {code} is not one of 1..=4 (512..4096 bytes)"
            ));
        }
        extension(&mut extensions, MAX_FRAGMENT_LENGTH, &[code]);
    }
    extension(&mut extensions, SUPPORTED_GROUPS, &vec16(&u16s(groups)));
    extension(&mut extensions, EC_POINT_FORMATS, &[1, 0]);
    if highest >= TLS12 {
        extension(
            &mut extensions,
            SIGNATURE_ALGORITHMS,
            &vec16(&u16s(sigalgs)),
        );
    }
    if !alpn.is_empty() {
        let mut list = Vec::new();
        for protocol in alpn {
            list.push(protocol.len() as u8);
            list.extend_from_slice(protocol.as_bytes());
        }
        extension(&mut extensions, ALPN, &vec16(&list));
    }
    extension(&mut extensions, EXTENDED_MASTER_SECRET, &[]);
    if highest >= TLS13 {
        let listed = u16s(&versions);
        let mut supported = vec![listed.len() as u8];
        supported.extend_from_slice(&listed);
        extension(&mut extensions, SUPPORTED_VERSIONS, &supported);
        // psk_dhe_ke: what every TLS 1.3 client says, though it has no ticket.
        extension(&mut extensions, PSK_KEY_EXCHANGE_MODES, &[1, 1]);
        // One share, for the first group a share can be made for; none leaves the server to
        // ask for one (HelloRetryRequest).
        let mut shares = Vec::new();
        if let Some(&group) = groups
            .iter()
            .find(|&&g| g == X25519_GROUP || g == SECP256R1_GROUP)
        {
            let algorithm = if group == X25519_GROUP {
                &X25519
            } else {
                &ECDH_P256
            };
            // The private half is dropped here: the handshake never gets as far as using it.
            let key = EphemeralPrivateKey::generate(algorithm, &random)
                .map_err(|_| "no key share for the ClientHello".to_string())?;
            let public = key
                .compute_public_key()
                .map_err(|_| "no key share for the ClientHello".to_string())?;
            put16(&mut shares, group);
            put16(&mut shares, public.as_ref().len() as u16);
            shares.extend_from_slice(public.as_ref());
        }
        extension(&mut extensions, KEY_SHARE, &vec16(&shares));
    }
    put16(&mut body, extensions.len() as u16);
    body.extend_from_slice(&extensions);

    let mut handshake = vec![1u8];
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);
    // The record says TLS 1.0, as clients do for servers that read it as the lowest version.
    let mut record = vec![22, 0x03, 0x01];
    put16(&mut record, handshake.len() as u16);
    record.extend_from_slice(&handshake);
    Ok(record)
}

fn put16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_be_bytes());
}

fn u16s(values: &[u16]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

fn vec16(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 2);
    put16(&mut out, bytes.len() as u16);
    out.extend_from_slice(bytes);
    out
}

fn extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    put16(out, kind);
    put16(out, data.len() as u16);
    out.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::wire::Wire;
    use crate::model::{Handshake, Side, What};

    /// What iotdoctor's own decoder reads back from a hello.
    fn read_back(bytes: &[u8]) -> Handshake {
        let mut wire = Wire::new();
        let events = wire.feed(Side::Client, bytes, 0.0);
        events
            .into_iter()
            .find_map(|e| match e.what {
                What::Handshake { message, .. } => Some(message),
                _ => None,
            })
            .expect("a ClientHello")
    }

    #[test]
    fn the_hello_offers_exactly_the_offer() {
        let offer = Offer {
            versions: vec![0x0301, 0x0302, 0x0303],
            suites: vec![0xc0ae, 0xc023],
            groups: vec![0x0017, 0x0018],
            sigalgs: vec![0x0403, 0x0201],
            ..Offer::default()
        };
        let alpn = vec!["mqtt".to_string()];
        let bytes = client_hello(&offer, &[], Some("device.example"), &alpn).unwrap();
        let Handshake::ClientHello {
            versions,
            cipher_suites,
            groups,
            key_shares,
            signature_schemes,
            sni,
            alpn,
        } = read_back(&bytes)
        else {
            panic!("not a ClientHello")
        };
        // Without supported_versions, the legacy version is the highest offered.
        assert_eq!(
            versions.iter().map(|v| v.code).collect::<Vec<_>>(),
            [0x0303]
        );
        let codes = |n: &[crate::model::codes::Named]| n.iter().map(|n| n.code).collect::<Vec<_>>();
        assert_eq!(codes(&cipher_suites), [0xc0ae, 0xc023]);
        assert_eq!(codes(&groups), [0x0017, 0x0018]);
        assert_eq!(codes(&signature_schemes), [0x0403, 0x0201]);
        assert!(key_shares.is_empty());
        assert_eq!(sni.as_deref(), Some("device.example"));
        assert_eq!(alpn, ["mqtt"]);
    }

    #[test]
    fn a_tls13_hello_carries_a_share_for_the_first_group_it_can() {
        let offer = Offer {
            versions: vec![TLS13, TLS12],
            suites: vec![0x1301, 0xc02b],
            groups: vec![0x0018, 0x0017, 0x001d],
            ..Offer::default()
        };
        let bytes = client_hello(&offer, &[], None, &[]).unwrap();
        let Handshake::ClientHello {
            versions,
            key_shares,
            sni,
            ..
        } = read_back(&bytes)
        else {
            panic!("not a ClientHello")
        };
        assert_eq!(
            versions.iter().map(|v| v.code).collect::<Vec<_>>(),
            [TLS13, TLS12]
        );
        assert_eq!(
            key_shares.iter().map(|k| k.code).collect::<Vec<_>>(),
            [0x0017]
        );
        assert_eq!(sni, None);
    }

    #[test]
    fn max_fragment_length_is_sent_as_its_one_byte_code_and_only_when_valid() {
        let offer = Offer {
            versions: vec![TLS12],
            suites: vec![0xc0ae],
            max_fragment_length: Some(1),
            ..Offer::default()
        };
        let bytes = client_hello(&offer, &[], None, &[]).unwrap();
        // type 1, length 1, code 1 (512 bytes), right after the compression methods.
        let compression = 5 + 4 + 2 + 32 + 1 + 2 + 2;
        assert_eq!(&bytes[compression..compression + 2], [1, 0]);
        assert_eq!(&bytes[compression + 4..compression + 9], [0, 1, 0, 1, 1]);
        let offer = Offer {
            max_fragment_length: Some(5),
            ..offer
        };
        assert!(client_hello(&offer, &[], None, &[]).is_err());
    }
}
