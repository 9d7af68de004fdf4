//! How sure a cause is, by name. Every rule, from a transcript or from a debug log, takes its
//! confidence from this one ladder, so that causes of different rules compare fairly and a level
//! is tuned in one place. Each level says what kind of evidence earns it.

/// The system said it in words: the resolver found no address, the peer refused the TCP
/// connection.
pub const REPORTED: f32 = 0.99;

/// Seen, and nothing else produces what was seen: bytes that are not TLS, a CONNACK refusing
/// the CONNECT, a signature that fails under the alert a wrong key draws.
pub const CERTAIN: f32 = 0.97;

/// The fact itself was seen: the empty Certificate refused by an alert, iotdoctor's own verdict
/// on a certificate, a fault in the credential files.
pub const SEEN: f32 = 0.95;

/// Seen, with the refusal an alert rather than the fact: a key iotdoctor could not use for any
/// scheme the server accepts.
pub const NEAR_CERTAIN: f32 = 0.92;

/// The facts point here and nowhere else known: an alert that names the cause, an offer that
/// settles it.
pub const STRONG: f32 = 0.9;

/// The facts point here, through one inference: an alert about the certificate sent, a
/// verification error at the depth it names.
pub const LIKELY: f32 = 0.85;

/// The facts fit, and the peer's answer confirms it less than it could: a close instead of the
/// telling alert.
pub const PROBABLE: f32 = 0.8;

/// More likely than not, with what would settle it out of sight (a silent close, a log that
/// does not show the certificate).
pub const FAIR: f32 = 0.75;

/// The first reading of what was seen, with another reading open.
pub const SUGGESTED: f32 = 0.7;

/// A reading that fits, among others that fit as well.
pub const PLAUSIBLE: f32 = 0.6;

/// A reading that fits a little better than its alternative.
pub const SLIGHT_LEAN: f32 = 0.55;

/// As likely as not: what was seen reads two ways.
pub const POSSIBLE: f32 = 0.5;

/// Consistent with what was seen, which does not show the fact itself.
pub const DOUBTFUL: f32 = 0.45;

/// The second reading of what was seen.
pub const UNLIKELY: f32 = 0.4;

/// A reading to keep in mind, behind the likelier one; or the fallback when the likely causes
/// are ruled out.
pub const ALTERNATIVE: f32 = 0.35;

/// What an alert or error code means by itself, no rule having explained it; or a reading of a
/// capture that lost bytes.
pub const WEAK: f32 = 0.3;

/// A faint hint, worth a line (ALPN offered to a server that refused the hello).
pub const FAINT: f32 = 0.2;

/// A step below another reading of the same facts.
pub const SHADE: f32 = 0.1;

/// A cause of the client certificate's chain when another cause already explains the refusal:
/// its confidence is scaled by this.
pub const OTHERWISE_EXPLAINED: f32 = 0.5;

/// A cause established by reading the credential files themselves: a fact, not an inference
/// from what a peer sent.
pub const FROM_FILES: f32 = SEEN;
