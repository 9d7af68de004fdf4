//! The types every layer shares, and nothing else: what happened on a connection
//! ([`Transcript`]), the TLS code points and their names ([`codes`]), and what an offline check
//! found ([`Finding`]). Producers fill them in, `diagnose` reads them, `report` renders them.

pub mod cause;
pub mod certificate;
pub mod codes;
pub mod finding;
pub mod transcript;

pub use cause::CauseId;
pub use certificate::CertInfo;
pub use codes::Named;
pub use finding::{Finding, FindingId, Severity};
pub use transcript::*;
