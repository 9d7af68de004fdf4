//! The causes of a failed TLS connection: their ids (as users grep for them and CI parses them)
//! and the catalogue of what each means, what to change (whatever the TLS stack, then per
//! stack), and how it ranks against causes of equal confidence. Reports, `explain`, and both
//! diagnoses (transcripts and debug logs) read this one table, so a cause reads the same
//! everywhere.

use std::fmt;

use serde::Serialize;

/// Why a TLS connection failed. Serialised as the kebab-case id users grep for and CI parses.
/// Stable: add, never rename. A new variant needs its entry in [`CAUSES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, strum::VariantArray)]
#[serde(rename_all = "kebab-case")]
pub enum CauseId {
    /// The server asked for a client certificate; the client's Certificate message was empty.
    ClientCertNotSent,
    /// The private key does not belong to the client certificate.
    ClientKeyMismatch,
    /// The client key can make none of the signature schemes the server accepts.
    ClientSigalgMismatch,
    /// The client did not send the intermediate(s) its certificate needs.
    ClientChainIncomplete,
    /// The client certificate does not chain to a CA the server accepts.
    ClientCaUntrusted,
    /// The client certificate is outside its validity period.
    ClientCertExpired,
    /// The client certificate is not usable for TLS client auth (EKU, key usage, CA cert, v1).
    ClientCertUsage,
    /// The server reports the certificate revoked or inactive.
    ClientCertRevoked,
    /// The client does not trust the CA of the server's chain.
    ServerCaUntrusted,
    /// The server did not send the intermediates needed.
    ServerChainIncomplete,
    /// The server certificate does not cover the name / SNI used.
    ServerNameMismatch,
    /// The server certificate is outside its validity period.
    ServerCertExpired,
    /// The server certificate may not serve as one: no serverAuth usage, or a CA certificate.
    ServerCertUsage,
    /// No TLS version in common.
    ProtocolVersionMismatch,
    /// No cipher suite or group in common.
    NoCommonCipher,
    /// The server needs SNI, or a different SNI.
    SniRequired,
    /// ALPN refused or required.
    AlpnMismatch,
    /// The peer spoke something other than TLS.
    NotTls,
    /// The peer closed or reset the connection without an alert.
    PeerClosed,
    /// The host name could not be resolved.
    DnsFailed,
    /// The TCP connection was refused.
    ConnectRefused,
    /// No route to the host or network.
    NetworkUnreachable,
    /// The peer did not answer in time.
    Timeout,
    /// MQTT CONNACK with a non-zero return / reason code.
    MqttRejected,
    /// TLS fine, the broker closed after CONNECT.
    MqttClosedAfterConnect,
    /// An alert no rule could attribute.
    AlertUnexplained,
    /// The client's private key could not be used to sign (not loaded, wrong password, a type
    /// the stack cannot use).
    ClientKeyUnusable,
    /// The handshake stopped before it finished, and nothing seen says why: no alert, no error.
    HandshakeIncomplete,
}

/// What the catalogue knows of one cause.
pub struct CauseInfo {
    pub id: CauseId,
    /// One sentence saying what the cause means, for reports and `explain`.
    pub summary: &'static str,
    /// What to change, whatever the TLS stack.
    pub fixes: &'static [&'static str],
    /// Fixes for the TLS stacks devices use, where the cause is a known trap of each.
    pub stack_fixes: &'static [&'static str],
    /// Among causes of equal confidence, lower comes first: a cause that makes the others moot
    /// (a key that does not match breaks the handshake whatever the chain looks like) leads.
    pub tie_break: u8,
}

/// Where a cause ranks when no other cause of equal confidence makes it moot.
const UNRANKED: u8 = 5;

/// Every cause, in catalogue order. `CauseId::ALL` is this order.
pub const CAUSES: &[CauseInfo] = &[
    CauseInfo {
        id: CauseId::ClientCertNotSent,
        summary: "the server asked for a client certificate and the client sent none",
        fixes: &[
            "Load the client certificate and key before the TLS session is created, and check the load calls' return values.",
        ],
        stack_fixes: &[
            "wolfSSL: load the certificate and key into the WOLFSSL_CTX (wolfSSL_CTX_use_certificate_file / wolfSSL_CTX_use_PrivateKey_file) BEFORE wolfSSL_new(): a session copies the context's credentials when it is created. Or load them on the session with wolfSSL_use_certificate_file / wolfSSL_use_PrivateKey_file. Check every call returns WOLFSSL_SUCCESS.",
            "mbedTLS: call mbedtls_ssl_conf_own_cert() before mbedtls_ssl_setup(), and check its return value.",
            "OpenSSL: SSL_CTX_use_certificate_chain_file() and SSL_CTX_use_PrivateKey_file() before SSL_new(), or SSL_use_certificate() / SSL_use_PrivateKey() on the SSL itself; SSL_CTX_check_private_key() confirms the pair.",
            "GnuTLS: gnutls_certificate_set_x509_key_file() on the certificate credentials, then gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred) before gnutls_handshake(); check both return 0.",
            "AWS IoT Core answers a missing client certificate with alert 42 bad_certificate; OpenSSL servers with 40 (TLS 1.2) or 116 (TLS 1.3).",
        ],
        tie_break: UNRANKED,
    },
    CauseInfo {
        id: CauseId::ClientKeyMismatch,
        summary: "the private key does not belong to the client certificate",
        fixes: &[
            "Use the private key that was generated with the certificate's CSR; compare `openssl x509 -noout -pubkey -in CERT` with `openssl pkey -pubout -in KEY`.",
            "If the key was regenerated, issue (or register) a new certificate for it.",
        ],
        stack_fixes: &[],
        tie_break: 0,
    },
    CauseInfo {
        id: CauseId::ClientSigalgMismatch,
        summary: "the client key can make none of the signature schemes the server accepts",
        fixes: &[
            "Use a key type the server accepts (see the signature schemes in its CertificateRequest), or enable the matching signature algorithms in the client.",
        ],
        stack_fixes: &[],
        tie_break: UNRANKED,
    },
    CauseInfo {
        id: CauseId::ClientChainIncomplete,
        summary: "the client certificate's chain is missing an intermediate CA",
        fixes: &[
            "Append the missing intermediate CA certificate(s) after the device certificate in the certificate file (leaf first), or load them as the chain.",
        ],
        stack_fixes: &[],
        tie_break: 4,
    },
    CauseInfo {
        id: CauseId::ClientCaUntrusted,
        summary: "the client certificate does not chain to the CA expected",
        fixes: &[
            "Use a device certificate issued by the CA the server trusts, or register this CA with the server (for AWS IoT: register the CA certificate, or use an AWS-issued certificate).",
        ],
        stack_fixes: &[],
        tie_break: 3,
    },
    CauseInfo {
        id: CauseId::ClientCertExpired,
        summary: "a client certificate is outside its validity period",
        fixes: &[
            "Issue a new certificate; check the device clock too (a device without RTC/NTP often believes it is 1970).",
        ],
        stack_fixes: &[],
        tie_break: 1,
    },
    CauseInfo {
        id: CauseId::ClientCertUsage,
        summary: "the client certificate is not usable for TLS client authentication",
        fixes: &[
            "Issue the device certificate as an end-entity certificate (basicConstraints CA:FALSE) in X.509 v3 with extendedKeyUsage clientAuth and keyUsage digitalSignature.",
        ],
        stack_fixes: &[],
        tie_break: 2,
    },
    CauseInfo {
        id: CauseId::ClientCertRevoked,
        summary: "the server reports the client certificate revoked or inactive",
        fixes: &[
            "Activate the certificate on the server (AWS IoT: certificate status ACTIVE), or issue a new one.",
        ],
        stack_fixes: &[],
        tie_break: UNRANKED,
    },
    CauseInfo {
        id: CauseId::ServerCaUntrusted,
        summary: "the client does not trust the CA of the server's chain",
        fixes: &[
            "Give the CA certificate that issued the server's chain (for AWS IoT ATS endpoints: Amazon Root CA 1 for RSA, Amazon Root CA 3 for ECC).",
        ],
        stack_fixes: &[],
        tie_break: UNRANKED,
    },
    CauseInfo {
        id: CauseId::ServerChainIncomplete,
        summary: "the server did not send the intermediate CAs its certificate needs",
        fixes: &[
            "Configure the server to send its intermediate CA certificates, or add them to the client's CA file.",
        ],
        stack_fixes: &[],
        tie_break: UNRANKED,
    },
    CauseInfo {
        id: CauseId::ServerNameMismatch,
        summary: "the server certificate does not cover the name used",
        fixes: &[
            "Connect with the name the certificate was issued for, or set SNI / the verification name to it.",
        ],
        stack_fixes: &[],
        tie_break: UNRANKED,
    },
    CauseInfo {
        id: CauseId::ServerCertExpired,
        summary: "the server certificate is outside its validity period",
        fixes: &["Renew the server certificate; check the client's clock."],
        stack_fixes: &[],
        tie_break: UNRANKED,
    },
    CauseInfo {
        id: CauseId::ServerCertUsage,
        summary: "the server certificate is not usable as a TLS server's certificate",
        fixes: &[
            "Issue the server certificate as an end-entity certificate (basicConstraints CA:FALSE) with extendedKeyUsage serverAuth and the server's name in subjectAltName, signed by a CA the devices trust. A self-signed certificate made with `openssl req -x509` is a CA certificate: make a CA with it, then a server certificate it signs.",
        ],
        stack_fixes: &[],
        tie_break: UNRANKED,
    },
    CauseInfo {
        id: CauseId::ProtocolVersionMismatch,
        summary: "client and server have no TLS version in common",
        fixes: &["Enable a TLS version the other side supports (TLS 1.2 at least)."],
        stack_fixes: &[],
        tie_break: UNRANKED,
    },
    CauseInfo {
        id: CauseId::NoCommonCipher,
        summary: "client and server have no cipher suite or group in common",
        fixes: &[
            "Enable a cipher suite and group the other side supports (ECDHE with AES-GCM is the common ground).",
            "A server restricted to a few signature schemes (OpenSSL -sigalgs or SSL_CTX_set1_sigalgs_list) must keep one its certificate's key can make and the client offers: ecdsa_secp256r1_sha256 for a P-256 key, rsa_pss_rsae_sha256 for RSA.",
        ],
        stack_fixes: &[],
        tie_break: UNRANKED,
    },
    CauseInfo {
        id: CauseId::SniRequired,
        summary: "the server needs SNI, or a different SNI",
        fixes: &["Send SNI with the server's host name."],
        stack_fixes: &[],
        tie_break: UNRANKED,
    },
    CauseInfo {
        id: CauseId::AlpnMismatch,
        summary: "ALPN was refused or is required",
        fixes: &[
            "Offer the ALPN protocol the server expects (AWS IoT on port 443: x-amzn-mqtt-ca).",
        ],
        stack_fixes: &[],
        tie_break: UNRANKED,
    },
    CauseInfo {
        id: CauseId::NotTls,
        summary: "the peer does not speak TLS",
        fixes: &["Check the port: the service there does not speak TLS."],
        stack_fixes: &[],
        tie_break: UNRANKED,
    },
    CauseInfo {
        id: CauseId::PeerClosed,
        summary: "the peer closed the connection without an alert",
        fixes: &["Look at the server's logs: it closed without saying why."],
        stack_fixes: &[],
        tie_break: UNRANKED,
    },
    CauseInfo {
        id: CauseId::DnsFailed,
        summary: "the host name could not be resolved",
        fixes: &["Check the host name and the resolver."],
        stack_fixes: &[],
        tie_break: UNRANKED,
    },
    CauseInfo {
        id: CauseId::ConnectRefused,
        summary: "the TCP connection was refused",
        fixes: &["Check the host and port, and that the service is running."],
        stack_fixes: &[],
        tie_break: UNRANKED,
    },
    CauseInfo {
        id: CauseId::NetworkUnreachable,
        summary: "there is no route to the host",
        fixes: &["Check the network connection, routes and the address (IPv4 or IPv6)."],
        stack_fixes: &[],
        tie_break: UNRANKED,
    },
    CauseInfo {
        id: CauseId::Timeout,
        summary: "the peer did not answer in time",
        fixes: &["Check firewalls and the port; raise --timeout for slow links."],
        stack_fixes: &[],
        tie_break: UNRANKED,
    },
    CauseInfo {
        id: CauseId::MqttRejected,
        summary: "the MQTT broker refused the CONNECT",
        fixes: &["Fix what the CONNACK code names (client id, credentials, authorisation)."],
        stack_fixes: &[],
        tie_break: UNRANKED,
    },
    CauseInfo {
        id: CauseId::MqttClosedAfterConnect,
        summary: "TLS succeeded, then the broker closed the connection after CONNECT",
        fixes: &[
            "Read the broker's log for this client: it refused the CONNECT without a word (authorisation of the certificate's identity, client id, ACL; AWS IoT: policy attached to an ACTIVE certificate, client id allowed).",
        ],
        stack_fixes: &[],
        tie_break: UNRANKED,
    },
    CauseInfo {
        id: CauseId::AlertUnexplained,
        summary: "an alert no rule could attribute",
        fixes: &["Read the alert's meaning and the peer's logs."],
        stack_fixes: &[],
        tie_break: UNRANKED,
    },
    CauseInfo {
        id: CauseId::ClientKeyUnusable,
        summary: "the client's private key could not be used to sign",
        fixes: &[
            "Check that the key file loads: the load call's return value (mbedtls_pk_parse_keyfile returns 0, wolfSSL_CTX_use_PrivateKey_file WOLFSSL_SUCCESS, SSL_CTX_use_PrivateKey_file 1); an encrypted key needs its password; `iotdoctor check-certs --cert CERT --key KEY` reads it as the device would need it.",
            "A key of a size or type servers refuse (RSA under 2048 bits, curves such as secp256k1): generate an EC P-256 or RSA 2048 key and have a new certificate issued for it.",
        ],
        stack_fixes: &[],
        tie_break: UNRANKED,
    },
    CauseInfo {
        id: CauseId::HandshakeIncomplete,
        summary: "the handshake stopped before it finished, with no alert to say why",
        fixes: &[
            "If the capture stopped early or lost packets, capture again from before the connection starts, whole packets (tcpdump -s 0), on the device's side of any proxy.",
            "A client that closes without an alert has usually given up on its own: read its log (a server certificate it does not trust, a credential it could not load, a timeout of its own).",
            "A ClientHello that gets no answer: the server side is not a TLS server, or a firewall or load balancer holds the connection; try iotdoctor connect against the same address.",
        ],
        stack_fixes: &[],
        tie_break: UNRANKED,
    },
];

impl CauseId {
    /// Every cause, in catalogue order: the ids of [`CAUSES`].
    pub const ALL: [CauseId; CAUSES.len()] = {
        let mut all = [CauseId::ClientCertNotSent; CAUSES.len()];
        let mut i = 0;
        while i < CAUSES.len() {
            all[i] = CAUSES[i].id;
            i += 1;
        }
        all
    };

    /// This cause's entry in the catalogue.
    pub fn info(self) -> &'static CauseInfo {
        CAUSES
            .iter()
            .find(|c| c.id == self)
            .expect("every CauseId has its entry in CAUSES (see the test the_catalogue_holds_every_cause_once)")
    }

    /// One sentence saying what the cause means, for reports and `explain`.
    pub fn summary(self) -> &'static str {
        self.info().summary
    }

    /// What to change, whatever the TLS stack.
    pub fn fixes(self) -> &'static [&'static str] {
        self.info().fixes
    }

    /// Fixes for the TLS stacks devices use, where the cause is a known trap of each.
    pub fn stack_fixes(self) -> &'static [&'static str] {
        self.info().stack_fixes
    }

    /// Among causes of equal confidence, lower comes first.
    pub fn tie_break(self) -> u8 {
        self.info().tie_break
    }
}

/// The id of a unit enum variant as serde names it, so text and JSON always agree.
pub(crate) fn serde_name(value: &impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl fmt::Display for CauseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&serde_name(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_documented_kebab_case_names() {
        assert_eq!(
            CauseId::ClientCertNotSent.to_string(),
            "client-cert-not-sent"
        );
        assert_eq!(
            CauseId::MqttClosedAfterConnect.to_string(),
            "mqtt-closed-after-connect"
        );
        assert_eq!(CauseId::NotTls.to_string(), "not-tls");
    }

    #[test]
    fn the_catalogue_holds_every_cause_once() {
        // strum lists the enum's variants, so a variant added without an entry fails here.
        let every = <CauseId as strum::VariantArray>::VARIANTS;
        for &id in every {
            let entries = CAUSES.iter().filter(|c| c.id == id).count();
            assert_eq!(entries, 1, "{id} has {entries} entries in CAUSES");
        }
        assert_eq!(CAUSES.len(), every.len(), "CAUSES lists a cause twice");
        assert_eq!(CauseId::ALL.len(), every.len());
    }

    #[test]
    fn every_cause_says_what_it_means_and_what_to_change() {
        for cause in CAUSES {
            assert!(!cause.summary.is_empty(), "{}", cause.id);
            assert!(!cause.fixes.is_empty(), "{}", cause.id);
        }
    }

    #[test]
    fn a_key_that_does_not_match_ranks_before_the_chain_it_would_break() {
        use CauseId::*;
        let order = [
            ClientKeyMismatch,
            ClientCertExpired,
            ClientCertUsage,
            ClientCaUntrusted,
            ClientChainIncomplete,
            ClientCertNotSent,
        ];
        for pair in order.windows(2) {
            assert!(
                pair[0].tie_break() < pair[1].tie_break(),
                "{} before {}",
                pair[0],
                pair[1]
            );
        }
    }
}
