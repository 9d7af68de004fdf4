//! The catalogue of causes: stable ids (add, never rename), what each means, and the generic fixes.

use std::fmt;

use serde::Serialize;

/// Why a TLS connection failed. Serialised as the kebab-case id users grep for and CI parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
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
    /// The server chain does not verify against the CA given.
    ServerCaUntrusted,
    /// The server did not send the intermediates needed.
    ServerChainIncomplete,
    /// The server certificate does not cover the name / SNI used.
    ServerNameMismatch,
    /// The server certificate is outside its validity period.
    ServerCertExpired,
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

impl CauseId {
    /// Every cause, in catalogue order.
    pub const ALL: [CauseId; 27] = {
        use CauseId::*;
        [
            ClientCertNotSent,
            ClientKeyMismatch,
            ClientSigalgMismatch,
            ClientChainIncomplete,
            ClientCaUntrusted,
            ClientCertExpired,
            ClientCertUsage,
            ClientCertRevoked,
            ServerCaUntrusted,
            ServerChainIncomplete,
            ServerNameMismatch,
            ServerCertExpired,
            ProtocolVersionMismatch,
            NoCommonCipher,
            SniRequired,
            AlpnMismatch,
            NotTls,
            PeerClosed,
            DnsFailed,
            ConnectRefused,
            NetworkUnreachable,
            Timeout,
            MqttRejected,
            MqttClosedAfterConnect,
            AlertUnexplained,
            ClientKeyUnusable,
            HandshakeIncomplete,
        ]
    };

    /// One sentence saying what the cause means, for reports and `explain`.
    pub fn summary(self) -> &'static str {
        use CauseId::*;
        match self {
            ClientCertNotSent => {
                "the server asked for a client certificate and the client sent none"
            }
            ClientKeyMismatch => "the private key does not belong to the client certificate",
            ClientSigalgMismatch => {
                "the client key can make none of the signature schemes the server accepts"
            }
            ClientChainIncomplete => "the client certificate's chain is missing an intermediate CA",
            ClientCaUntrusted => "the client certificate does not chain to the CA expected",
            ClientCertExpired => "a client certificate is outside its validity period",
            ClientCertUsage => "the client certificate is not usable for TLS client authentication",
            ClientCertRevoked => "the server reports the client certificate revoked or inactive",
            ServerCaUntrusted => "the server's chain does not verify against the CA given",
            ServerChainIncomplete => {
                "the server did not send the intermediate CAs its certificate needs"
            }
            ServerNameMismatch => "the server certificate does not cover the name used",
            ServerCertExpired => "the server certificate is outside its validity period",
            ProtocolVersionMismatch => "client and server have no TLS version in common",
            NoCommonCipher => "client and server have no cipher suite or group in common",
            SniRequired => "the server needs SNI, or a different SNI",
            AlpnMismatch => "ALPN was refused or is required",
            NotTls => "the peer does not speak TLS",
            PeerClosed => "the peer closed the connection without an alert",
            DnsFailed => "the host name could not be resolved",
            ConnectRefused => "the TCP connection was refused",
            NetworkUnreachable => "there is no route to the host",
            Timeout => "the peer did not answer in time",
            MqttRejected => "the MQTT broker refused the CONNECT",
            MqttClosedAfterConnect => {
                "TLS succeeded, then the broker closed the connection after CONNECT"
            }
            AlertUnexplained => "an alert no rule could attribute",
            ClientKeyUnusable => "the client's private key could not be used to sign",
            HandshakeIncomplete => {
                "the handshake stopped before it finished, with no alert to say why"
            }
        }
    }

    /// What to change, whatever the TLS stack.
    pub fn fixes(self) -> &'static [&'static str] {
        use CauseId::*;
        match self {
            ClientKeyMismatch => &[
                "Use the private key that was generated with the certificate's CSR; compare `openssl x509 -noout -pubkey -in CERT` with `openssl pkey -pubout -in KEY`.",
                "If the key was regenerated, issue (or register) a new certificate for it.",
            ],
            ClientChainIncomplete => &[
                "Append the missing intermediate CA certificate(s) after the device certificate in the certificate file (leaf first), or load them as the chain.",
            ],
            ClientCaUntrusted => &[
                "Use a device certificate issued by the CA the server trusts, or register this CA with the server (for AWS IoT: register the CA certificate, or use an AWS-issued certificate).",
            ],
            ClientCertExpired => &[
                "Issue a new certificate; check the device clock too (a device without RTC/NTP often believes it is 1970).",
            ],
            ClientCertUsage => &[
                "Issue the device certificate as an end-entity certificate (basicConstraints CA:FALSE) in X.509 v3 with extendedKeyUsage clientAuth and keyUsage digitalSignature.",
            ],
            ClientCertNotSent => &[
                "Load the client certificate and key before the TLS session is created, and check the load calls' return values.",
            ],
            ClientSigalgMismatch => &[
                "Use a key type the server accepts (see the signature schemes in its CertificateRequest), or enable the matching signature algorithms in the client.",
            ],
            ClientCertRevoked => &[
                "Activate the certificate on the server (AWS IoT: certificate status ACTIVE), or issue a new one.",
            ],
            ServerCaUntrusted => &[
                "Give the CA certificate that issued the server's chain (for AWS IoT ATS endpoints: Amazon Root CA 1 for RSA, Amazon Root CA 3 for ECC).",
            ],
            ServerChainIncomplete => &[
                "Configure the server to send its intermediate CA certificates, or add them to the client's CA file.",
            ],
            ServerNameMismatch => &[
                "Connect with the name the certificate was issued for, or set SNI / the verification name to it.",
            ],
            ServerCertExpired => &["Renew the server certificate; check the client's clock."],
            ProtocolVersionMismatch => {
                &["Enable a TLS version the other side supports (TLS 1.2 at least)."]
            }
            NoCommonCipher => &[
                "Enable a cipher suite and group the other side supports (ECDHE with AES-GCM is the common ground).",
                "A server restricted to a few signature schemes (OpenSSL -sigalgs or SSL_CTX_set1_sigalgs_list) must keep one its certificate's key can make and the client offers: ecdsa_secp256r1_sha256 for a P-256 key, rsa_pss_rsae_sha256 for RSA.",
            ],
            SniRequired => &["Send SNI with the server's host name."],
            AlpnMismatch => &[
                "Offer the ALPN protocol the server expects (AWS IoT on port 443: x-amzn-mqtt-ca).",
            ],
            NotTls => &["Check the port: the service there does not speak TLS."],
            PeerClosed => &["Look at the server's logs: it closed without saying why."],
            DnsFailed => &["Check the host name and the resolver."],
            ConnectRefused => &["Check the host and port, and that the service is running."],
            NetworkUnreachable => {
                &["Check the network connection, routes and the address (IPv4 or IPv6)."]
            }
            Timeout => &["Check firewalls and the port; raise --timeout for slow links."],
            MqttRejected => {
                &["Fix what the CONNACK code names (client id, credentials, authorisation)."]
            }
            MqttClosedAfterConnect => &[
                "Read the broker's log for this client: it refused the CONNECT without a word (authorisation of the certificate's identity, client id, ACL; AWS IoT: policy attached to an ACTIVE certificate, client id allowed).",
            ],
            AlertUnexplained => &["Read the alert's meaning and the peer's logs."],
            ClientKeyUnusable => &[
                "Check that the key file loads: the load call's return value (mbedtls_pk_parse_keyfile returns 0, wolfSSL_CTX_use_PrivateKey_file WOLFSSL_SUCCESS, SSL_CTX_use_PrivateKey_file 1); an encrypted key needs its password; `iotdoctor check-certs --cert CERT --key KEY` reads it as the device would need it.",
                "A key of a size or type servers refuse (RSA under 2048 bits, curves such as secp256k1): generate an EC P-256 or RSA 2048 key and have a new certificate issued for it.",
            ],
            HandshakeIncomplete => &[
                "If the capture stopped early or lost packets, capture again from before the connection starts, whole packets (tcpdump -s 0), on the device's side of any proxy.",
                "A client that closes without an alert has usually given up on its own: read its log (a server certificate it does not trust, a credential it could not load, a timeout of its own).",
                "A ClientHello that gets no answer: the server side is not a TLS server, or a firewall or load balancer holds the connection; try iotdoctor connect against the same address.",
            ],
        }
    }
}

impl CauseId {
    /// Fixes for the TLS stacks devices use, where the cause is a known trap of each.
    pub fn stack_fixes(self) -> &'static [&'static str] {
        match self {
            CauseId::ClientCertNotSent => &[
                "wolfSSL: load the certificate and key into the WOLFSSL_CTX (wolfSSL_CTX_use_certificate_file / wolfSSL_CTX_use_PrivateKey_file) BEFORE wolfSSL_new(): a session copies the context's credentials when it is created. Or load them on the session with wolfSSL_use_certificate_file / wolfSSL_use_PrivateKey_file. Check every call returns WOLFSSL_SUCCESS.",
                "mbedTLS: call mbedtls_ssl_conf_own_cert() before mbedtls_ssl_setup(), and check its return value.",
                "OpenSSL: SSL_CTX_use_certificate_chain_file() and SSL_CTX_use_PrivateKey_file() before SSL_new(), or SSL_use_certificate() / SSL_use_PrivateKey() on the SSL itself; SSL_CTX_check_private_key() confirms the pair.",
                "GnuTLS: gnutls_certificate_set_x509_key_file() on the certificate credentials, then gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred) before gnutls_handshake(); check both return 0.",
                "AWS IoT Core answers a missing client certificate with alert 42 bad_certificate; OpenSSL servers with 40 (TLS 1.2) or 116 (TLS 1.3).",
            ],
            _ => &[],
        }
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
}
