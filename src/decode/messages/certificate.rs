//! Certificate: the chain a side presents, in TLS 1.2's layout or TLS 1.3's (a request context,
//! and extensions after each certificate).

use crate::credentials::inspect::CertInfo;
use crate::decode::reader::Reader;
use crate::model::Side;

/// The certificates of a Certificate body `from` sent in `record`; the ones that do not parse
/// are left out, with a note in `notes`. The layout follows `tls13`; the other one is tried when
/// it does not fit, for a message seen before (or without) a ServerHello.
pub fn decode(
    body: &[u8],
    tls13: bool,
    from: Side,
    record: u32,
    notes: &mut Vec<String>,
) -> Result<Vec<CertInfo>, String> {
    let ders = list(body, tls13).or_else(|why| list(body, !tls13).map_err(|_| why))?;
    let mut certificates = Vec::with_capacity(ders.len());
    for (number, der) in ders.iter().enumerate() {
        match CertInfo::from_der_cached(der) {
            Ok(info) => certificates.push(info),
            Err(why) => notes.push(format!(
                "record {record}: certificate {} of the {from}'s Certificate message is left out: {why}",
                number + 1
            )),
        }
    }
    Ok(certificates)
}

/// Cuts a Certificate message into its DER certificates. TLS 1.2: a u24-length-prefixed list
/// of u24-length-prefixed DER certificates. TLS 1.3 (`tls13`): a u8-length-prefixed request
/// context first, and u16-length-prefixed extensions after each certificate.
fn list(body: &[u8], tls13: bool) -> Result<Vec<&[u8]>, &'static str> {
    let mut reader = Reader(body);
    if tls13 {
        reader
            .vec8()
            .ok_or("the request context is longer than the message")?;
    }
    let mut list = Reader(
        reader
            .vec24()
            .ok_or("the certificate list is longer than the message")?,
    );
    if !reader.is_empty() {
        return Err("bytes follow the certificate list");
    }
    let mut certificates = Vec::new();
    while !list.is_empty() {
        certificates.push(
            list.vec24()
                .ok_or("a certificate is longer than the certificate list")?,
        );
        if tls13 {
            list.vec16()
                .ok_or("a certificate's extensions are longer than the certificate list")?;
        }
    }
    Ok(certificates)
}

#[cfg(test)]
mod tests {
    use super::super::build::{cert_der, vec8, vec16, vec24};
    use super::*;

    #[test]
    fn both_layouts_whatever_the_version_said() {
        let leaf = cert_der("client-ec.pem");
        let tls12 = vec24(&[vec24(&leaf), vec24(b"not a certificate")].concat());
        let tls13 = [vec8(&[]), vec24(&[vec24(&leaf), vec16(&[])].concat())].concat();
        for body in [&tls12, &tls13] {
            for tls13 in [false, true] {
                let mut notes = Vec::new();
                let certificates =
                    decode(body, tls13, Side::Client, 4, &mut notes).expect("decodes");
                assert_eq!(certificates.len(), 1);
                assert_eq!(certificates[0].raw.der, leaf);
                let bad = body == &tls12;
                assert_eq!(notes.len(), usize::from(bad), "{notes:?}");
                assert!(notes.iter().all(|n| n.starts_with(
                    "record 4: certificate 2 of the client's Certificate message is left out"
                )));
            }
        }
    }

    #[test]
    fn the_empty_certificate_a_client_without_one_sends() {
        // TLS 1.2: an empty list; TLS 1.3: an empty context and an empty list.
        let count = |body: &[u8], tls13| {
            decode(body, tls13, Side::Client, 1, &mut Vec::new()).map(|list| list.len())
        };
        assert_eq!(count(&[0, 0, 0], false), Ok(0));
        assert_eq!(count(&[0, 0, 0, 0], true), Ok(0));
        assert_eq!(
            count(&[0, 0, 9, 1], false),
            Err("the certificate list is longer than the message".to_string())
        );
    }
}
