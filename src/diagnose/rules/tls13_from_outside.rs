//! TLS 1.3 seen without keys: the record sizes are all that is left to read a refusal from.

use crate::diagnose::confidence::ALTERNATIVE;
use crate::model::CauseId;

use super::{Input, Proposal};

/// TLS 1.3 without keys: say what is hidden and what the record sizes still suggest.
pub(super) fn rule(input: &Input<'_>, _: &[Proposal], out: &mut Vec<Proposal>) {
    let f = input.facts;
    let Some((reply, length)) = f.opaque_rejection() else {
        return;
    };
    out.push(
        Proposal::new(
            CauseId::AlertUnexplained,
            ALTERNATIVE,
            vec![
                "TLS 1.3 encrypts everything after the ServerHello and no key log was given: the certificates, the \
                 CertificateRequest and the alerts are not visible"
                    .into(),
                format!(
                    "after the client's last flight the server sent one encrypted record of {length} bytes ({}), the size \
                     of an alert, and nothing more{}",
                    f.at(reply),
                    if f.server_close.is_some_and(|(close, _)| close > reply) {
                        ": it closed the connection"
                    } else {
                        ""
                    }
                ),
                "most likely the server rejected the client's certificate (none sent, an untrusted CA, or a key that \
                 does not match): the key log would tell which"
                    .into(),
            ],
        )
        .fix("Capture again with the client's key log (SSLKEYLOGFILE, or iotdoctor connect --keylog) and run analyze --keylog FILE."),
    );
}
