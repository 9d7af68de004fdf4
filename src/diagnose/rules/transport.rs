//! Failures beneath TLS, as the producer reported them: DNS, refused, unreachable, timeout.

use crate::diagnose::confidence::{PLAUSIBLE, REPORTED, SEEN, STRONG};
use crate::model::{CauseId, Side, TransportProblem, TransportStage, What};

use super::{Input, Proposal};

/// The connection failed beneath TLS: the name, the route, the TCP connection, or time ran out.
pub(super) fn rule(input: &Input<'_>, _: &[Proposal], out: &mut Vec<Proposal>) {
    let f = input.facts;
    let Some((_, stage, problem, message)) = f.transport else {
        return;
    };
    let evidence = vec![format!("{stage}: {message}")];
    let proposal = match (stage, problem) {
        (TransportStage::Resolve, _) => Proposal::new(CauseId::DnsFailed, REPORTED, evidence),
        (_, TransportProblem::Refused) => {
            Proposal::new(CauseId::ConnectRefused, REPORTED, evidence)
        }
        (_, TransportProblem::Unreachable) => {
            Proposal::new(CauseId::NetworkUnreachable, SEEN, evidence)
        }
        (_, TransportProblem::Timeout) => {
            let mut evidence = evidence;
            let server_spoke = f.events.iter().any(|e| {
                e.from == Side::Server
                    && matches!(e.what, What::Record { .. } | What::PartialRecord { .. })
            });
            if stage == TransportStage::Handshake
                && f.server_hello.is_none()
                && f.client_hello.is_some()
                && !server_spoke
            {
                evidence.push(
                    "the ClientHello got no answer at all: a TLS server answers it at once, so something other than TLS (or a firewall) holds this port"
                        .into(),
                );
            }
            Proposal::new(CauseId::Timeout, STRONG, evidence)
        }
        (TransportStage::Handshake, TransportProblem::Reset) => return,
        _ => Proposal::new(CauseId::ConnectRefused, PLAUSIBLE, evidence),
    };
    out.push(proposal);
}
