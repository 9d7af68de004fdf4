//! Alerts: each two bytes of a plaintext (or decrypted) alert record are one alert, a level and a
//! description.

use crate::model::{Seen, What, codes};

/// The alerts of an alert record's body, seen in `record`; a lone byte at the end becomes a note.
pub fn decode(body: &[u8], record: u32) -> Vec<What> {
    body.chunks(2)
        .map(|alert| match *alert {
            [level, description] => What::Alert {
                record: Some(record),
                seen: Seen::Wire,
                level: codes::alert_level(level),
                description: codes::alert(description),
            },
            _ => What::Note {
                message: format!("record {record}: the alert record ends with a lone byte"),
            },
        })
        .collect()
}

/// Whether an alert record's body reads as plaintext alerts: each two bytes a level of warning
/// or fatal. An encrypted one (TLS 1.2: 18 bytes with ChaCha20, 26 with AES-GCM, more with CBC)
/// fails this but for odds far below one in a million, and must not be read as alerts.
pub fn plaintext(body: &[u8]) -> bool {
    !body.is_empty() && body.chunks_exact(2).all(|alert| matches!(alert[0], 1 | 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_bytes_an_alert() {
        let alerts: Vec<String> = decode(&[2, 42, 1, 0, 2], 5)
            .iter()
            .map(|what| match what {
                What::Alert {
                    level, description, ..
                } => format!("{level} {description}"),
                What::Note { message } => message.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            alerts,
            [
                "fatal bad_certificate",
                "warning close_notify",
                "record 5: the alert record ends with a lone byte"
            ]
        );
        assert!(decode(&[], 5).is_empty());
    }

    #[test]
    fn an_encrypted_alert_does_not_read_as_plaintext() {
        assert!(plaintext(&[2, 42]) && plaintext(&[1, 100, 2, 40]) && plaintext(&[2, 42, 1]));
        // An encrypted ChaCha20 alert: 2 bytes and a 16-byte tag, as a TLS 1.2 capture shows it.
        let chacha = [
            0x5c, 0x1f, 0x93, 0x02, 0xa8, 0x41, 0x07, 0xee, 0x12, 0x9b, 0x33, 0xd0, 0x6a, 0x80,
            0x01, 0xc4, 0x75, 0x2e,
        ];
        assert!(!plaintext(&chacha));
        assert!(!plaintext(&[]));
    }
}
