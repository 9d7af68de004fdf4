//! Findings: facts about credential files, each with a stable id, a severity and a plain message.

use std::fmt;

use serde::Serialize;

use crate::model::CauseId;

/// How much a finding matters. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// Stable ids of findings (add, never rename). Ids shared with causes mean the same thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, strum::VariantArray)]
#[serde(rename_all = "kebab-case")]
pub enum FindingId {
    /// The private key does not belong to the certificate.
    ClientKeyMismatch,
    /// No chain from the certificate to any CA given.
    ClientCaUntrusted,
    /// The chain needs an intermediate that is in none of the files given.
    ClientChainIncomplete,
    /// A certificate of the chain is expired or not yet valid.
    ClientCertExpired,
    /// The certificate cannot be used for TLS client auth (EKU, key usage, CA:TRUE, X.509 v1).
    ClientCertUsage,
    /// A certificate expires within the warning period (`--warn-days`).
    CertExpiringSoon,
    /// A key too weak for servers to accept (RSA under 2048 bits).
    WeakKey,
    /// A signature made with a broken hash (SHA-1, MD5).
    WeakSignature,
    /// A key algorithm or curve TLS servers built on rustls, and most cloud brokers, cannot use.
    UnsupportedKey,
    /// The certificates in a file are not in leaf-to-root order.
    ChainOrder,
    /// The same certificate appears more than once.
    DuplicateCertificate,
    /// A certificate in the device's file is not part of its chain.
    UnrelatedCertificate,
    /// Trust was not checked: no CA to check against.
    ChainNotChecked,
    /// The key could not be compared with the certificate.
    KeyNotChecked,
    /// The device's files hold no certificate (a PKCS#12 bundle exported with `-nocerts`).
    ClientCertMissing,
    /// A PEM block that was not used (EC PARAMETERS, CSR, ...).
    IgnoredPemBlock,
    /// The CA file lacks the Amazon root CA the AWS IoT ATS endpoint chains to.
    AwsRootCaMissing,
    /// A key or signature algorithm AWS IoT Core does not accept on device certificates.
    AwsUnsupportedAlgorithm,
    /// `--insecure`: the server's certificate was not allowed to stop the handshake.
    VerificationDisabled,
    /// `serve`: the device sent no SNI, which AWS IoT Core and most cloud brokers need.
    SniNotSent,
    /// AWS IoT Core: no SNI, or one that is not the endpoint.
    AwsSniMissing,
    /// AWS IoT Core on port 443 without the ALPN protocol x-amzn-mqtt-ca.
    AwsAlpnMissing,
    /// A legacy (non-ATS) AWS IoT Core endpoint.
    AwsLegacyEndpoint,
    /// The server accepted a client chain that does not reach a CA it named (an intermediate
    /// not sent, or a CA it did not name): it did not verify it, and a strict server will not
    /// accept it.
    ClientChainUnverified,
}

impl FindingId {
    /// Every finding id.
    pub const ALL: &'static [FindingId] = <FindingId as strum::VariantArray>::VARIANTS;

    /// The cause this finding establishes by itself, when it is one.
    pub fn cause(self) -> Option<CauseId> {
        match self {
            FindingId::ClientKeyMismatch => Some(CauseId::ClientKeyMismatch),
            FindingId::ClientCaUntrusted => Some(CauseId::ClientCaUntrusted),
            FindingId::ClientChainIncomplete => Some(CauseId::ClientChainIncomplete),
            FindingId::ClientCertExpired => Some(CauseId::ClientCertExpired),
            FindingId::ClientCertUsage => Some(CauseId::ClientCertUsage),
            _ => None,
        }
    }
}

impl fmt::Display for FindingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::model::cause::serde_name(self))
    }
}

/// One fact about the credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub id: FindingId,
    pub severity: Severity,
    /// What the finding is about: a file, or a certificate by name.
    pub subject: String,
    pub message: String,
    /// What to do about it, when there is something specific to say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Finding {
    pub fn new(
        id: FindingId,
        severity: Severity,
        subject: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            id,
            severity,
            subject: subject.into(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}
