//! ServerKeyExchange (TLS 1.2 and below): the group the server's ephemeral key is on, and the
//! scheme it signed its parameters with, where the bytes show them.

use crate::decode::reader::Reader;
use crate::model::{Handshake, codes};

/// A ServerKeyExchange body. `dhe`: the cipher suite's key exchange is finite-field
/// Diffie-Hellman, whose parameters name no group; `tls12`: the signature names its scheme
/// (TLS 1.2, or a version not known). Never fails: what cannot be read is left out.
pub fn decode(body: &[u8], dhe: bool, tls12: bool) -> Handshake {
    let mut reader = Reader(body);
    let (group, params_read) = if dhe {
        // ServerDHParams: p, g and Ys, each u16-length-prefixed; they name no group.
        (None, skip_dh_params(&mut reader).is_some())
    } else if body.first() == Some(&3) {
        // ServerECDHParams: curve_type 3 (named_curve), group, u8-length-prefixed point.
        let group = reader.u8().and_then(|_| reader.u16());
        (group, group.is_some() && reader.vec8().is_some())
    } else {
        (None, false)
    };
    let scheme = if params_read && tls12 {
        reader.u16()
    } else {
        None
    };
    Handshake::ServerKeyExchange {
        group: group.map(codes::group),
        scheme: scheme.map(codes::signature_scheme),
    }
}

/// Reads past ServerDHParams: p, g and Ys.
fn skip_dh_params(reader: &mut Reader<'_>) -> Option<()> {
    reader.vec16()?;
    reader.vec16()?;
    reader.vec16()?;
    Some(())
}

#[cfg(test)]
mod tests {
    use super::super::build::{vec8, vec16};
    use super::*;

    fn shown(message: Handshake) -> (Option<String>, Option<String>) {
        let Handshake::ServerKeyExchange { group, scheme } = message else {
            panic!("{message:?}");
        };
        (group.map(|g| g.to_string()), scheme.map(|s| s.to_string()))
    }

    #[test]
    fn ecdhe_names_its_group_and_scheme() {
        let body = [
            vec![3, 0x00, 0x17],
            vec8(&[4; 65]),
            vec![0x04, 0x03],
            vec16(&[1; 70]),
        ]
        .concat();
        assert_eq!(
            shown(decode(&body, false, true)),
            (
                Some("secp256r1".into()),
                Some("ecdsa_secp256r1_sha256".into())
            )
        );
        // TLS 1.0 and 1.1 sign without naming a scheme.
        assert_eq!(
            shown(decode(&body, false, false)),
            (Some("secp256r1".into()), None)
        );
        // Cut inside the point: the group is read, no scheme.
        assert_eq!(
            shown(decode(&body[..20], false, true)),
            (Some("secp256r1".into()), None)
        );
    }

    #[test]
    fn dhe_names_only_its_scheme() {
        let body = [
            vec16(&[0xff; 256]),
            vec16(&[2]),
            vec16(&[9; 256]),
            vec![0x08, 0x04],
        ]
        .concat();
        assert_eq!(
            shown(decode(&body, true, true)),
            (None, Some("rsa_pss_rsae_sha256".into()))
        );
        assert_eq!(shown(decode(&body, false, true)), (None, None));
    }
}
