//! CertificateRequest: what a server asks of a client certificate (certificate types, signature
//! schemes, the CA names it accepts), in TLS 1.2's layout (1.0/1.1: without the schemes) or TLS
//! 1.3's (extensions).

use std::fmt::Write as _;

use x509_parser::prelude::{FromDer, X509Name};

use crate::decode::reader::{Reader, u16_list};
use crate::model::{Seen, What, codes};

/// Certificate types, signature schemes and CA names of a CertificateRequest.
type RequestParts<'a> = (Vec<u8>, Vec<u16>, Vec<&'a [u8]>);

/// A CertificateRequest body seen in the clear in `record`. `tls13`: the negotiated version is
/// TLS 1.3; `with_schemes`: it is TLS 1.2 (or not known), whose request lists signature schemes.
pub fn decode(body: &[u8], tls13: bool, with_schemes: bool, record: u32) -> Result<What, String> {
    let (certificate_types, schemes, ca_names) = if tls13 {
        parts_tls13(body)?
    } else {
        parts_tls12(body, with_schemes)?
    };
    Ok(What::CertificateRequest {
        record: Some(record),
        seen: Seen::Wire,
        certificate_types: certificate_types
            .iter()
            .map(|&t| codes::certificate_type(t))
            .collect(),
        signature_schemes: schemes.into_iter().map(codes::signature_scheme).collect(),
        ca_names: ca_names.into_iter().map(distinguished_name).collect(),
    })
}

/// TLS 1.2 (and, without the signature schemes, 1.0/1.1) CertificateRequest.
fn parts_tls12(body: &[u8], with_schemes: bool) -> Result<RequestParts<'_>, &'static str> {
    let mut reader = Reader(body);
    let types = reader
        .vec8()
        .ok_or("the certificate types are longer than the message")?
        .to_vec();
    let schemes = if with_schemes {
        u16_list(
            reader
                .vec16()
                .ok_or("the signature schemes are longer than the message")?,
        )
        .ok_or("the signature scheme list has an odd length")?
    } else {
        Vec::new()
    };
    let names = name_list(
        reader
            .vec16()
            .ok_or("the CA names are longer than the message")?,
    )?;
    if !reader.is_empty() {
        return Err("bytes follow the CA names");
    }
    Ok((types, schemes, names))
}

/// TLS 1.3 CertificateRequest: a request context and extensions, of which
/// signature_algorithms (13) and certificate_authorities (47) matter here.
fn parts_tls13(body: &[u8]) -> Result<RequestParts<'_>, &'static str> {
    let mut reader = Reader(body);
    reader
        .vec8()
        .ok_or("the request context is longer than the message")?;
    let mut extensions = Reader(
        reader
            .vec16()
            .ok_or("the extensions are longer than the message")?,
    );
    let mut schemes = Vec::new();
    let mut names = Vec::new();
    while !extensions.is_empty() {
        let ext_type = extensions.u16().ok_or("an extension is cut short")?;
        let mut data = Reader(
            extensions
                .vec16()
                .ok_or("an extension is longer than the extensions")?,
        );
        match ext_type {
            13 => {
                schemes = u16_list(data.vec16().ok_or("malformed signature_algorithms")?)
                    .ok_or("the signature scheme list has an odd length")?;
            }
            47 => names = name_list(data.vec16().ok_or("malformed certificate_authorities")?)?,
            _ => {}
        }
    }
    Ok((Vec::new(), schemes, names))
}

/// A list of u16-length-prefixed DER distinguished names.
fn name_list(bytes: &[u8]) -> Result<Vec<&[u8]>, &'static str> {
    let mut reader = Reader(bytes);
    let mut names = Vec::new();
    while !reader.is_empty() {
        names.push(
            reader
                .vec16()
                .ok_or("a CA name is longer than the CA name list")?,
        );
    }
    Ok(names)
}

/// A DER distinguished name as x509-parser prints it, or its hex bytes when it does not parse.
pub(crate) fn distinguished_name(der: &[u8]) -> String {
    use std::cell::RefCell;
    use std::collections::HashMap;
    /// Names remembered: a server asks every client for the same CAs.
    const REMEMBERED: usize = 1024;
    thread_local! {
        static NAMES: RefCell<HashMap<Vec<u8>, String>> = RefCell::new(HashMap::new());
    }
    if let Some(name) = NAMES.with(|names| names.borrow().get(der).cloned()) {
        return name;
    }
    let name = decode_distinguished_name(der);
    NAMES.with(|names| {
        let mut names = names.borrow_mut();
        if names.len() >= REMEMBERED {
            names.clear();
        }
        names.insert(der.to_vec(), name.clone());
    });
    name
}

/// A distinguished name as x509-parser prints it, or its bytes in hex when it does not parse.
fn decode_distinguished_name(der: &[u8]) -> String {
    X509Name::from_der(der)
        .ok()
        .and_then(|(_, name)| {
            let mut text = String::new();
            write!(text, "{name}").ok()?;
            (!text.starts_with("<X509Error")).then_some(text)
        })
        .unwrap_or_else(|| {
            let hex: String = der.iter().map(|b| format!("{b:02x}")).collect();
            format!("(undecodable name) {hex}")
        })
}

#[cfg(test)]
mod tests {
    use x509_parser::prelude::X509Certificate;

    use super::super::build::{cert_der, extension, u16s, vec8, vec16};
    use super::*;

    /// The DER subject of a CA of the test PKI, and how it prints.
    fn ca_name() -> (Vec<u8>, String) {
        let der = cert_der("root-ca.pem");
        let (_, cert) = X509Certificate::from_der(&der).expect("certificate");
        (cert.subject().as_raw().to_vec(), cert.subject().to_string())
    }

    fn decoded(what: What) -> (Vec<String>, Vec<String>, Vec<String>) {
        let What::CertificateRequest {
            certificate_types,
            signature_schemes,
            ca_names,
            ..
        } = what
        else {
            panic!("{what:?}");
        };
        let names = |list: Vec<crate::model::Named>| list.iter().map(ToString::to_string).collect();
        (names(certificate_types), names(signature_schemes), ca_names)
    }

    #[test]
    fn tls12_and_tls10_layouts() {
        let (der, printed) = ca_name();
        let names = vec16(&[vec16(&der), vec16(&[0x01, 0x02])].concat());
        let body = [
            vec8(&[64, 1]),
            vec16(&u16s(&[0x0403, 0x0804])),
            names.clone(),
        ]
        .concat();
        let (types, schemes, cas) = decoded(decode(&body, false, true, 3).expect("decodes"));
        assert_eq!(types, ["ecdsa_sign", "rsa_sign"]);
        assert_eq!(schemes, ["ecdsa_secp256r1_sha256", "rsa_pss_rsae_sha256"]);
        assert_eq!(cas, [printed, "(undecodable name) 0102".to_string()]);
        // TLS 1.0 and 1.1 name no schemes.
        let body = [vec8(&[1]), names].concat();
        let (_, schemes, cas) = decoded(decode(&body, false, false, 3).expect("decodes"));
        assert!(schemes.is_empty());
        assert_eq!(cas.len(), 2);
        assert_eq!(
            decode(&[1, 64, 0, 3, 4, 3, 8, 0, 0], false, true, 3).map(|_| ()),
            Err("the signature scheme list has an odd length".to_string())
        );
    }

    #[test]
    fn tls13_layout() {
        let (der, printed) = ca_name();
        let extensions = [
            extension(13, &vec16(&u16s(&[0x0807]))),
            extension(47, &vec16(&vec16(&der))),
            extension(0xff01, b""),
        ]
        .concat();
        let body = [vec8(&[]), vec16(&extensions)].concat();
        let (types, schemes, cas) = decoded(decode(&body, true, true, 9).expect("decodes"));
        assert!(types.is_empty());
        assert_eq!(schemes, ["ed25519"]);
        assert_eq!(cas, [printed]);
        assert!(decode(&body[..body.len() - 1], true, true, 9).is_err());
    }
}
