//! Cutting AlgorithmIdentifiers out of certificates (asn1-rs reads the elements); never panics
//! on bad bytes.

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
