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
}
