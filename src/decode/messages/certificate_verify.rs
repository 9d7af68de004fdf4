//! CertificateVerify: the signature scheme and signature a side proves its key with, the content
//! that signature covers, and the check of it against the side's certificate.

use crate::credentials::keys::verify_tls_signature;
use crate::decode::reader::Reader;
use crate::model::{CertInfo, Event, Seen, Side, What, codes};

/// The detail of a CertificateVerify whose check waits for [`DeferredChecks::settle`].
pub(crate) const DEFERRED: &str = "check deferred";

/// A CertificateVerify body seen in `record` (TLS 1.2 and 1.3; before TLS 1.2 it names no
/// scheme, and is not decoded).
pub fn decode(body: &[u8], record: u32) -> Result<What, String> {
    let mut reader = Reader(body);
    let scheme = reader.u16().ok_or("no signature scheme")?;
    let signature = reader
        .vec16()
        .ok_or("the signature is longer than the message")?;
    Ok(What::CertificateVerify {
        record: Some(record),
        seen: Seen::Wire,
        scheme: codes::signature_scheme(scheme),
        signature_length: signature.len(),
        verified: None,
        detail: None,
    })
}

/// The scheme and signature of a CertificateVerify body.
pub fn scheme_and_signature(body: &[u8]) -> Option<(u16, &[u8])> {
    let mut reader = Reader(body);
    Some((reader.u16()?, reader.vec16()?))
}

/// What a CertificateVerify signs: in TLS 1.3 (RFC 8446 section 4.4.3) 64 spaces, a context
/// string naming the sender, a zero byte, and the hash of the handshake messages before it
/// (SHA-384 with TLS_AES_256_GCM_SHA384, else SHA-256); before TLS 1.3 the messages themselves.
pub fn signed_content(log: &[u8], tls13: bool, from: Side, sha384: bool) -> Vec<u8> {
    if !tls13 {
        return log.to_vec();
    }
    let context: &[u8] = match from {
        Side::Server => b"TLS 1.3, server CertificateVerify",
        Side::Client => b"TLS 1.3, client CertificateVerify",
    };
    let algorithm = if sha384 {
        &aws_lc_rs::digest::SHA384
    } else {
        &aws_lc_rs::digest::SHA256
    };
    let mut content = vec![0x20; 64];
    content.extend_from_slice(context);
    content.push(0);
    content.extend_from_slice(aws_lc_rs::digest::digest(algorithm, log).as_ref());
    content
}

/// A CertificateVerify signature and what it must verify against.
#[derive(Debug)]
pub(crate) struct SignatureCheck {
    pub(crate) cert: CertInfo,
    pub(crate) scheme: u16,
    pub(crate) message: Vec<u8>,
    pub(crate) signature: Vec<u8>,
}

impl SignatureCheck {
    /// The verdict and its detail, as a CertificateVerify event carries them.
    pub(crate) fn run(&self) -> (Option<bool>, Option<String>) {
        let name = self.cert.short_name();
        let verified = verify_tls_signature(
            &self.cert,
            rustls::SignatureScheme::from(self.scheme),
            &self.message,
            &self.signature,
        );
        match verified {
            Some(true) => (Some(true), Some(format!("verifies against '{name}'"))),
            Some(false) => (
                Some(false),
                Some(format!(
                    "does NOT verify against '{name}': the signing key does not belong to that certificate"
                )),
            ),
            None => (
                None,
                Some("a signature scheme iotdoctor cannot check".into()),
            ),
        }
    }
}

/// TLS 1.2 CertificateVerify checks a decoder set aside, taken out with
/// `Wire::take_deferred_checks`.
#[derive(Debug, Default)]
pub struct DeferredChecks {
    /// (record, sender, check).
    pub(crate) checks: Vec<(u32, Side, SignatureCheck)>,
    /// The record that carried the server's ChangeCipherSpec.
    pub(crate) server_ccs_record: Option<u32>,
}

impl DeferredChecks {
    /// Checks each CertificateVerify set aside, except those the server accepted (a server that
    /// goes on to send its ChangeCipherSpec verified the signature itself), and writes the
    /// verdicts into the matching events of `events`.
    pub fn settle(self, events: &mut [Event]) {
        for (record, from, check) in self.checks {
            let accepted = self.server_ccs_record.is_some_and(|ccs| ccs > record);
            let verdict = if accepted {
                (None, Some("not checked: the server accepted it (it sent its ChangeCipherSpec after it)".into()))
            } else {
                check.run()
            };
            let event = events.iter_mut().find(|e| {
                e.from == from
                    && matches!(&e.what, What::CertificateVerify { record: Some(r), detail: Some(d), .. }
                        if *r == record && d == DEFERRED)
            });
            if let Some(Event {
                what:
                    What::CertificateVerify {
                        verified, detail, ..
                    },
                ..
            }) = event
            {
                (*verified, *detail) = verdict;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::build::vec16;
    use super::*;

    #[test]
    fn scheme_and_signature_length() {
        let body = [0x04u8, 0x03]
            .into_iter()
            .chain(vec16(&[7; 71]))
            .collect::<Vec<_>>();
        let What::CertificateVerify {
            scheme,
            signature_length,
            record,
            ..
        } = decode(&body, 6).expect("decodes")
        else {
            panic!("not a CertificateVerify");
        };
        assert_eq!(scheme.to_string(), "ecdsa_secp256r1_sha256");
        assert_eq!((signature_length, record), (71, Some(6)));
        assert_eq!(scheme_and_signature(&body), Some((0x0403, &[7; 71][..])));
        assert_eq!(
            decode(&body[..40], 6).map(|_| ()),
            Err("the signature is longer than the message".to_string())
        );
        assert_eq!(
            decode(&[4], 6).map(|_| ()),
            Err("no signature scheme".to_string())
        );
    }

    #[test]
    fn tls13_signs_a_padded_context_and_the_transcript_hash() {
        let content = signed_content(b"messages", true, Side::Client, false);
        assert_eq!(content.len(), 64 + 33 + 1 + 32);
        assert!(content[..64].iter().all(|&b| b == b' '));
        assert_eq!(&content[64..98], b"TLS 1.3, client CertificateVerify\0");
        assert_eq!(
            signed_content(b"messages", true, Side::Server, true).len(),
            64 + 33 + 1 + 48
        );
        assert_eq!(
            signed_content(b"messages", false, Side::Client, true),
            b"messages"
        );
    }
}
