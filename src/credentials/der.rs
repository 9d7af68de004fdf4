//! Cutting pieces out of DER structures (asn1-rs reads the elements): AlgorithmIdentifiers out
//! of certificates, certificates out of PKCS#7 bundles. Never panics on bad bytes.

use x509_parser::asn1_rs::{Any, FromDer};

/// One DER element: its contents, and what follows it.
struct Element<'a> {
    contents: &'a [u8],
    rest: &'a [u8],
}

/// Reads one tag-length-value element.
fn element(input: &[u8]) -> Option<Element<'_>> {
    let (rest, any) = Any::from_der(input).ok()?;
    Some(Element {
        contents: any.data,
        rest,
    })
}

/// The contents of the first element inside a SEQUENCE: for a SubjectPublicKeyInfo,
/// the contents of its AlgorithmIdentifier.
pub fn first_element_contents(sequence: &[u8]) -> Option<&[u8]> {
    let outer = element(sequence)?;
    Some(element(outer.contents)?.contents)
}

/// The contents of a Certificate's signatureAlgorithm (the second element of the outer SEQUENCE).
pub fn signature_algorithm_contents(certificate: &[u8]) -> Option<&[u8]> {
    let outer = element(certificate)?;
    let tbs = element(outer.contents)?;
    Some(element(tbs.rest)?.contents)
}

/// The certificates of a PKCS#7 (CMS) SignedData bundle (`.p7b`, `.p7c`: what CAs and
/// Windows export a chain as), each as its whole DER; `None` when the bytes are not one.
pub fn pkcs7_certificates(bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
    /// 1.2.840.113549.1.7.2, signedData.
    const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
    let content_info = element(bytes)?;
    let content_type = element(content_info.contents)?;
    if content_type.contents != SIGNED_DATA {
        return None;
    }
    // content [0] EXPLICIT SignedData.
    let signed_data = element(element(content_type.rest)?.contents)?;
    // version, digestAlgorithms, encapContentInfo; then certificates [0] IMPLICIT, if present.
    let mut rest = signed_data.contents;
    for _ in 0..3 {
        rest = element(rest)?.rest;
    }
    if rest.first() != Some(&0xa0) {
        return Some(Vec::new());
    }
    let mut certificates = Vec::new();
    let mut inside = element(rest)?.contents;
    while !inside.is_empty() {
        let next = element(inside)?;
        let whole = inside.len() - next.rest.len();
        certificates.push(inside[..whole].to_vec());
        inside = next.rest;
    }
    Some(certificates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths() {
        // SEQUENCE { SEQUENCE { OID 1.2 } , INTEGER 5 }
        let der = [0x30, 0x08, 0x30, 0x03, 0x06, 0x01, 0x2a, 0x02, 0x01, 0x05];
        assert_eq!(first_element_contents(&der), Some(&[0x06, 0x01, 0x2a][..]));
        assert_eq!(signature_algorithm_contents(&der), Some(&[0x05][..]));
        let long = [0x30, 0x81, 0x03, 0x04, 0x01, 0xff];
        assert_eq!(first_element_contents(&long), Some(&[0xff][..]));
    }

    #[test]
    fn truncated_or_hostile_input_gives_none() {
        assert_eq!(first_element_contents(&[]), None);
        assert_eq!(first_element_contents(&[0x30]), None);
        assert_eq!(first_element_contents(&[0x30, 0x85, 1, 1, 1, 1, 1]), None);
        assert_eq!(
            first_element_contents(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
            None
        );
        assert_eq!(
            signature_algorithm_contents(&[0x30, 0x02, 0x30, 0x00]),
            None
        );
    }
}
