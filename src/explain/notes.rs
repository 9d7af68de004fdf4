//! What the codes mean for a device developer, written by hand: the TLS alerts, and the codes of
//! each stack that are met when a connection fails, with their likely causes.
//!
//! Statements marked "observed" were seen on this project's bench: wolfSSL 5.5.4, mbedTLS 2.28.3
//! and GnuTLS 3.7.9 clients and `openssl s_client` (OpenSSL 3.0) against `openssl s_server` and
//! `gnutls-serv`, with the test PKI of `fixtures/pki` (missing client certificate, client
//! certificate of another CA or without its intermediate, expired and not-yet-valid
//! certificates, a key of another certificate, a certificate without the right extended key
//! usage, a wrong host name, no common version or cipher suite, SNI and ALPN refused) and against
//! TCP servers that close, reset or answer HTTP or SSH.

use crate::model::CauseId::{self, *};

/// The iotdoctor command to run next. The placeholders are for the user to fill in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Next {
    /// Reproduce the handshake with the device's files and see it step by step.
    Connect,
    /// Reproduce it, or read a capture of the device's own attempt.
    ConnectOrAnalyze,
    /// Check the server's chain and names against the CA the device trusts.
    ServerCa,
    /// Check the device's certificate and key offline.
    CheckCerts,
    /// Go past the handshake: the MQTT CONNECT and the broker's answer.
    Mqtt,
}

impl Next {
    pub(super) fn command(self) -> &'static str {
        match self {
            Next::Connect => "iotdoctor connect --endpoint HOST --ca CA --cert CERT --key KEY",
            Next::ConnectOrAnalyze => {
                "iotdoctor connect --endpoint HOST --ca CA --cert CERT --key KEY (or iotdoctor analyze CAPTURE.pcap on a capture of the device's own attempt)"
            }
            Next::ServerCa => "iotdoctor connect --endpoint HOST --ca CA",
            Next::CheckCerts => "iotdoctor check-certs --cert CERT --key KEY",
            Next::Mqtt => {
                "iotdoctor connect --endpoint HOST --ca CA --cert CERT --key KEY --mqtt --client-id ID"
            }
        }
    }
}

/// What a TLS alert means, who sends it, and the causes by sender.
#[derive(Debug)]
pub(super) struct AlertNote {
    pub code: u8,
    pub meaning: &'static str,
    pub sender: &'static str,
    /// Likely causes when the server sent it (what a device usually receives), most likely first.
    pub from_server: &'static [CauseId],
    /// Likely causes when the client sent it.
    pub from_client: &'static [CauseId],
    pub next: Next,
}

/// What one code of a stack means. `name` is the header's name of the code (or of the
/// verification flag).
#[derive(Debug)]
pub(super) struct Note {
    pub name: &'static str,
    pub meaning: &'static str,
    pub sender: Option<&'static str>,
    pub causes: &'static [CauseId],
    pub next: Next,
}

const fn n(
    name: &'static str,
    meaning: &'static str,
    causes: &'static [CauseId],
    next: Next,
) -> Note {
    Note {
        name,
        meaning,
        sender: None,
        causes,
        next,
    }
}

/// A note for an "alert received" code: the sender is the peer.
const fn received(name: &'static str, meaning: &'static str, causes: &'static [CauseId]) -> Note {
    Note {
        name,
        meaning,
        sender: Some(ALERT_RECEIVED_SENDER),
        causes,
        next: Next::ConnectOrAnalyze,
    }
}

/// Who sends the alert behind a stack's "fatal alert received" error.
pub(super) const ALERT_RECEIVED_SENDER: &str = "The peer sent it: for a device, the server refused the handshake. Observed answers of OpenSSL and GnuTLS servers: 40 handshake_failure (OpenSSL, TLS 1.2) or 50 decode_error (GnuTLS, TLS 1.2) for a missing client certificate, 116 certificate_required for one in TLS 1.3, 48 unknown_ca for a client certificate of another CA or sent without its intermediate, 45 for an expired one, 43 for one without clientAuth, 51 decrypt_error for a key that does not belong to the certificate, 70 protocol_version for no common TLS version, 40 for no common cipher suite. AWS IoT Core answers a missing client certificate with 42 bad_certificate.";

/// The causes behind a fatal alert received by a device, before the alert number is known.
const ALERT_RECEIVED_CAUSES: &[CauseId] = &[
    ClientCertNotSent,
    ClientCaUntrusted,
    ClientChainIncomplete,
    ClientKeyMismatch,
    ClientCertExpired,
    ClientCertUsage,
    ProtocolVersionMismatch,
    NoCommonCipher,
];

/// The causes of a failed verification of the server's certificate, on the device.
const SERVER_VERIFY: &[CauseId] = &[
    ServerCaUntrusted,
    ServerChainIncomplete,
    ServerNameMismatch,
    ServerCertExpired,
];

/// Every TLS alert of `model::codes::alert_name`.
pub(super) const ALERTS: &[AlertNote] = &[
    AlertNote {
        code: 0,
        meaning: "The sender is closing the connection in an orderly way. Not an error in itself; it is one when it comes during the handshake or right after the device's first message.",
        sender: "Either side. A broker that closes the connection right after the device's MQTT CONNECT is refusing the client (AWS IoT Core: the policy attached to the certificate, the certificate's status, the client id).",
        from_server: &[MqttClosedAfterConnect],
        from_client: &[],
        next: Next::Connect,
    },
    AlertNote {
        code: 10,
        meaning: "The sender received a message it did not expect at this point of the protocol: the two sides disagree on the order of the handshake. A bug or an incompatibility of the implementations, or a middlebox that alters the traffic, rarely a credential problem.",
        sender: "Either side: the one that saw the other break the expected order.",
        from_server: &[],
        from_client: &[],
        next: Next::ConnectOrAnalyze,
    },
    AlertNote {
        code: 20,
        meaning: "A record failed its integrity check: the two sides do not hold the same keys, or bytes were changed on the way (a middlebox, a broken network stack, a faulty hardware crypto accelerator).",
        sender: "Either side: the one that could not verify a record it received.",
        from_server: &[],
        from_client: &[],
        next: Next::ConnectOrAnalyze,
    },
    AlertNote {
        code: 21,
        meaning: "A record could not be decrypted. Reserved since TLS 1.1: TLS 1.2 and 1.3 stacks send bad_record_mac (20) instead, so a peer sending it is very old.",
        sender: "Either side, in TLS 1.0 and older.",
        from_server: &[],
        from_client: &[],
        next: Next::ConnectOrAnalyze,
    },
    AlertNote {
        code: 22,
        meaning: "A record was longer than TLS allows (16 KB of plaintext) or than the maximum fragment length negotiated. Devices built with a receive buffer smaller than 16 KB that did not negotiate a smaller max_fragment_length can meet full-size records they cannot take, e.g. a long certificate chain.",
        sender: "Either side: the one that received the over-long record.",
        from_server: &[],
        from_client: &[],
        next: Next::ConnectOrAnalyze,
    },
    AlertNote {
        code: 30,
        meaning: "The sender could not decompress a record. TLS compression is obsolete (TLS 1.3 removed it); a peer should not have negotiated it.",
        sender: "Either side.",
        from_server: &[],
        from_client: &[],
        next: Next::ConnectOrAnalyze,
    },
    AlertNote {
        code: 40,
        meaning: "The sender refuses the handshake without a more specific reason. Usually no cipher suite, group or signature algorithm in common; an OpenSSL server also sends it in TLS 1.2 when it requires a client certificate and the client sent none (observed; in TLS 1.3 it sends 116).",
        sender: "Mostly the server, refusing the ClientHello or the client's credentials (observed from OpenSSL 3.0 for no shared cipher suite and for a missing client certificate in TLS 1.2). From a client: it does not accept what the server chose.",
        from_server: &[
            NoCommonCipher,
            ClientCertNotSent,
            ClientSigalgMismatch,
            ProtocolVersionMismatch,
        ],
        from_client: &[NoCommonCipher],
        next: Next::ConnectOrAnalyze,
    },
    AlertNote {
        code: 41,
        meaning: "SSL 3.0 only: the client had no certificate to send. TLS clients send an empty Certificate message instead, so a modern peer never sends this alert.",
        sender: "The client, in SSL 3.0.",
        from_server: &[],
        from_client: &[ClientCertNotSent],
        next: Next::ConnectOrAnalyze,
    },
    AlertNote {
        code: 42,
        meaning: "The sender rejects the certificate it received: it is corrupt, its signature does not verify, or a check failed that has no more specific alert. AWS IoT Core also sends it when the device sent no client certificate at all.",
        sender: "From the server (what a device usually receives): the client certificate was refused, or none was sent (AWS IoT Core); an OpenSSL server also sends it for a client certificate that is not yet valid (observed). From the client: it refuses the server's certificate; OpenSSL, wolfSSL and mbedTLS clients send it for a host name that the certificate does not cover, GnuTLS clients for any failed verification (observed).",
        from_server: &[
            ClientCertNotSent,
            ClientKeyMismatch,
            ClientCaUntrusted,
            ClientCertExpired,
            ClientCertUsage,
        ],
        from_client: &[
            ServerNameMismatch,
            ServerCaUntrusted,
            ServerChainIncomplete,
            ServerCertExpired,
        ],
        next: Next::ConnectOrAnalyze,
    },
    AlertNote {
        code: 43,
        meaning: "The certificate is of a kind the sender does not accept for this use: typically a client certificate without clientAuth in its extended key usage (observed: an OpenSSL server answers one with 43), or a key type the sender does not support.",
        sender: "Usually the server, about the client certificate. From a client: the server certificate's key usage does not allow its role (observed from mbedTLS and OpenSSL clients for a server certificate without serverAuth).",
        from_server: &[ClientCertUsage],
        from_client: &[ServerCertUsage],
        next: Next::CheckCerts,
    },
    AlertNote {
        code: 44,
        meaning: "The certificate was revoked by its issuer: the sender found it on a CRL or in an OCSP response.",
        sender: "Usually the server, about the client certificate; from a client, about the server's.",
        from_server: &[ClientCertRevoked],
        from_client: &[],
        next: Next::Connect,
    },
    AlertNote {
        code: 45,
        meaning: "A certificate is outside its validity period. Check the clock of the side that sent it as well as the certificate: a device without RTC or NTP often believes it is 1970, and then every certificate is 'not yet valid'; wolfSSL sends this alert for that too (observed).",
        sender: "From the server: the client certificate or its chain is expired (observed from OpenSSL), or the server's clock is wrong. From the client: the server certificate is expired (observed from wolfSSL, mbedTLS and OpenSSL clients), or not yet valid by the device's clock (wolfSSL).",
        from_server: &[ClientCertExpired],
        from_client: &[ServerCertExpired],
        next: Next::CheckCerts,
    },
    AlertNote {
        code: 46,
        meaning: "Some other problem with the certificate made it unacceptable; the sender gives no detail.",
        sender: "Either side, about the certificate it received. Observed: mbedTLS clients send it for a server certificate that is not yet valid (check the device clock).",
        from_server: &[
            ClientCaUntrusted,
            ClientChainIncomplete,
            ClientCertUsage,
            ClientCertExpired,
        ],
        from_client: &[ServerCertExpired, ServerCaUntrusted, ServerChainIncomplete],
        next: Next::ConnectOrAnalyze,
    },
    AlertNote {
        code: 47,
        meaning: "A field of a handshake message was out of range or inconsistent with the rest (e.g. a group or signature scheme the sender never offered). An interoperability problem of the implementations, rarely a credential problem.",
        sender: "Either side.",
        from_server: &[],
        from_client: &[],
        next: Next::ConnectOrAnalyze,
    },
    AlertNote {
        code: 48,
        meaning: "The certificate chain received does not lead to a CA the sender trusts, or an intermediate CA certificate is missing from it.",
        sender: "From the server: the client certificate was not issued by a CA the server trusts, or the client did not send the intermediate it needs (observed from OpenSSL for both). From the client: the server's chain does not verify against the device's CA file, e.g. the wrong Amazon root or a missing intermediate (observed from OpenSSL, wolfSSL and mbedTLS clients).",
        from_server: &[ClientCaUntrusted, ClientChainIncomplete],
        from_client: &[ServerCaUntrusted, ServerChainIncomplete],
        next: Next::ConnectOrAnalyze,
    },
    AlertNote {
        code: 49,
        meaning: "A valid certificate or PSK was received, but the sender's access control refused it.",
        sender: "Usually the server, about the client's credentials.",
        from_server: &[ClientCertRevoked],
        from_client: &[],
        next: Next::Connect,
    },
    AlertNote {
        code: 50,
        meaning: "A message could not be decoded: a length or a value was out of range. Usually an interoperability bug or a truncated message; a GnuTLS server also sends it in TLS 1.2 for an empty client Certificate when it requires one (observed).",
        sender: "Either side. Observed from a GnuTLS 3.7 server that requires a client certificate and received none (TLS 1.2).",
        from_server: &[ClientCertNotSent],
        from_client: &[],
        next: Next::ConnectOrAnalyze,
    },
    AlertNote {
        code: 51,
        meaning: "A handshake signature or the Finished check failed. From the server, the classic reason is a client private key that does not belong to the client certificate: its CertificateVerify signature does not verify (observed from OpenSSL in TLS 1.2 and 1.3).",
        sender: "From the server: the client's CertificateVerify failed. From the client: the server's signature failed.",
        from_server: &[ClientKeyMismatch],
        from_client: &[],
        next: Next::CheckCerts,
    },
    AlertNote {
        code: 60,
        meaning: "Export restrictions: obsolete since TLS 1.1, never sent by current stacks.",
        sender: "Either side, in TLS 1.0 and older.",
        from_server: &[],
        from_client: &[],
        next: Next::ConnectOrAnalyze,
    },
    AlertNote {
        code: 70,
        meaning: "The sender does not support the TLS version offered or chosen (observed: an OpenSSL server limited to TLS 1.3 answers a TLS 1.2-only client with 70, and the reverse).",
        sender: "Usually the server, refusing the versions of the ClientHello. wolfSSL clients also send it when the answer is not TLS at all (observed against HTTP and SSH servers).",
        from_server: &[ProtocolVersionMismatch],
        from_client: &[ProtocolVersionMismatch, NotTls],
        next: Next::Connect,
    },
    AlertNote {
        code: 71,
        meaning: "The sender requires stronger security than the peer offered: cipher suites, key sizes or groups below its minimum.",
        sender: "Usually the server, about the ClientHello.",
        from_server: &[NoCommonCipher],
        from_client: &[NoCommonCipher],
        next: Next::Connect,
    },
    AlertNote {
        code: 80,
        meaning: "The sender failed for a reason unrelated to the peer or the protocol (out of memory, a failed crypto operation, a bug). Only the sender's logs say more.",
        sender: "Either side, about itself.",
        from_server: &[],
        from_client: &[],
        next: Next::ConnectOrAnalyze,
    },
    AlertNote {
        code: 86,
        meaning: "The client retried with a lower TLS version after a failed attempt and said so (TLS_FALLBACK_SCSV); the server supports a higher version and refuses the downgrade. Look at why the first attempt failed.",
        sender: "The server.",
        from_server: &[],
        from_client: &[],
        next: Next::ConnectOrAnalyze,
    },
    AlertNote {
        code: 90,
        meaning: "The sender cancelled the handshake for a reason unrelated to the protocol; usually followed by close_notify.",
        sender: "Either side.",
        from_server: &[],
        from_client: &[],
        next: Next::ConnectOrAnalyze,
    },
    AlertNote {
        code: 100,
        meaning: "The sender refuses to renegotiate (TLS 1.2 and older; TLS 1.3 has no renegotiation). Usually a warning, not the end of the connection.",
        sender: "Either side.",
        from_server: &[],
        from_client: &[],
        next: Next::ConnectOrAnalyze,
    },
    AlertNote {
        code: 109,
        meaning: "A message lacks an extension the sender requires (TLS 1.3): e.g. supported_versions, key_share, signature_algorithms, or server_name for a server that requires SNI (RFC 8446 tells such servers to answer a ClientHello without it with this alert).",
        sender: "Usually the server, about the ClientHello.",
        from_server: &[SniRequired],
        from_client: &[],
        next: Next::Connect,
    },
    AlertNote {
        code: 110,
        meaning: "The sender received an extension it cannot accept in that message, typically a server answering with an extension the client never offered.",
        sender: "Usually the client, about the server's answer.",
        from_server: &[],
        from_client: &[],
        next: Next::ConnectOrAnalyze,
    },
    AlertNote {
        code: 111,
        meaning: "The server could not obtain a certificate from a URL the client gave (client_certificate_url extension). Practically never seen.",
        sender: "The server.",
        from_server: &[],
        from_client: &[],
        next: Next::ConnectOrAnalyze,
    },
    AlertNote {
        code: 112,
        meaning: "The server does not recognise the name sent in SNI (not a host it serves), or needs one (observed from an OpenSSL server configured to refuse unknown names).",
        sender: "The server, about the ClientHello's server_name.",
        from_server: &[SniRequired],
        from_client: &[],
        next: Next::Connect,
    },
    AlertNote {
        code: 113,
        meaning: "The client received an invalid OCSP response (stapled certificate status) from the server.",
        sender: "The client.",
        from_server: &[],
        from_client: &[],
        next: Next::ConnectOrAnalyze,
    },
    AlertNote {
        code: 114,
        meaning: "A certificate fetched from a URL did not match its hash (client_certificate_url extension). Practically never seen.",
        sender: "The server.",
        from_server: &[],
        from_client: &[],
        next: Next::ConnectOrAnalyze,
    },
    AlertNote {
        code: 115,
        meaning: "The server does not know the PSK identity the client sent (pre-shared key cipher suites).",
        sender: "The server.",
        from_server: &[],
        from_client: &[],
        next: Next::Connect,
    },
    AlertNote {
        code: 116,
        meaning: "The server requires a client certificate and the client sent none (TLS 1.3, which defined this alert; rustls servers, iotdoctor serve among them, send it in TLS 1.2 too, where other servers send 40 handshake_failure or 42 bad_certificate). In TLS 1.3 it comes after the client already considers the handshake complete, so the device sees it on its first read or write, not when connecting (observed with wolfSSL: wolfSSL_connect() succeeds, wolfSSL_read() fails with -313).",
        sender: "The server (observed from OpenSSL and GnuTLS servers).",
        from_server: &[ClientCertNotSent],
        from_client: &[],
        next: Next::ConnectOrAnalyze,
    },
    AlertNote {
        code: 120,
        meaning: "The server supports none of the ALPN protocols the client offered (observed from an OpenSSL server). AWS IoT Core on port 443 needs the ALPN protocol x-amzn-mqtt-ca for MQTT.",
        sender: "The server.",
        from_server: &[AlpnMismatch],
        from_client: &[],
        next: Next::Connect,
    },
    AlertNote {
        code: 121,
        meaning: "The server requires Encrypted Client Hello and the client did not use it.",
        sender: "The server.",
        from_server: &[],
        from_client: &[],
        next: Next::Connect,
    },
];

/// wolfSSL codes met in connection failures.
pub(super) const WOLFSSL: &[Note] = &[
    n(
        "WOLFSSL_FATAL_ERROR",
        "The generic failure return of wolfSSL_connect(), wolfSSL_accept(), wolfSSL_read() and wolfSSL_write(), not the reason: call wolfSSL_get_error(ssl, ret) for the real code (-313, -188, -308, ...) and look that one up.",
        &[],
        Next::Connect,
    ),
    received(
        "FATAL_ERROR",
        "wolfSSL received a fatal alert: the peer refused the handshake. The alert number says why: read it with wolfSSL_get_alert_history(ssl, &h) (h.last_rx.code), from wolfSSL's debug log, or on the wire with iotdoctor connect / analyze, then look that number up. In TLS 1.3 a server rejects the client certificate after wolfSSL_connect() has returned success, so -313 can come from the first wolfSSL_read() or wolfSSL_write() (observed with alert 116).",
        ALERT_RECEIVED_CAUSES,
    ),
    n(
        "SOCKET_ERROR_E",
        "The connection failed under wolfSSL at the socket level, with no alert: the peer closed (FIN) or reset (RST) the TCP connection during the handshake, or send/recv failed (observed for both a close and a reset right after the ClientHello). The peer did not say why: look at its logs; a firewall or proxy can also cut the connection.",
        &[PeerClosed],
        Next::ConnectOrAnalyze,
    ),
    n(
        "SOCKET_PEER_CLOSED_E",
        "The peer closed the TCP connection (observed on a read after the handshake; during the handshake wolfSSL 5.5 reports the same event as -308). A broker that closes right after the device's MQTT CONNECT is refusing the client (AWS IoT Core: the policy attached to the certificate, the certificate's status, the client id).",
        &[MqttClosedAfterConnect, PeerClosed],
        Next::Connect,
    ),
    n(
        "ZERO_RETURN",
        "The peer sent close_notify: it closed the TLS connection in an orderly way. Right after the device's MQTT CONNECT, that is the broker refusing the client.",
        &[MqttClosedAfterConnect, PeerClosed],
        Next::Connect,
    ),
    n(
        "ASN_NO_SIGNER_E",
        "wolfSSL found no CA among those loaded (wolfSSL_CTX_load_verify_locations / _buffer) that signed a certificate of the peer's chain: the wrong CA file (e.g. the other Amazon root), no CA loaded, or the peer did not send an intermediate that the CA file does not hold either (observed for both; wolfSSL then sends alert 48 unknown_ca). wolfSSL builds with OPENSSL_EXTRA print it as 'certificate verify failed'.",
        &[
            ServerCaUntrusted,
            ServerChainIncomplete,
            ClientCaUntrusted,
            ClientChainIncomplete,
        ],
        Next::ServerCa,
    ),
    n(
        "ASN_BEFORE_DATE_E",
        "A certificate of the peer's chain is not valid yet by the device's clock. On a device this is almost always a clock that was never set (no RTC or NTP, the time is 1970 or the build date); rarely a certificate issued with a start date in the future. wolfSSL sends alert 45 certificate_expired (observed).",
        &[ServerCertExpired, ClientCertExpired],
        Next::ServerCa,
    ),
    n(
        "ASN_AFTER_DATE_E",
        "A certificate of the peer's chain has expired by the device's clock: renew it, or fix the clock if it runs ahead. wolfSSL sends alert 45 certificate_expired (observed).",
        &[ServerCertExpired, ClientCertExpired],
        Next::ServerCa,
    ),
    n(
        "DOMAIN_NAME_MISMATCH",
        "The server certificate does not cover the name wolfSSL was told to check (wolfSSL_check_domain_name()): none of its names match. wolfSSL sends alert 42 bad_certificate (observed).",
        &[ServerNameMismatch],
        Next::ServerCa,
    ),
    n(
        "IPADDR_MISMATCH",
        "The server certificate does not contain the IP address being checked: connecting by address needs an IP entry in the certificate's subject alternative names.",
        &[ServerNameMismatch],
        Next::ServerCa,
    ),
    n(
        "VERSION_ERROR",
        "A record came with a version wolfSSL did not expect. Most often the port does not speak TLS at all: an HTTP, plain MQTT (1883) or SSH service (observed against HTTP and SSH servers; wolfSSL then sends alert 70).",
        &[NotTls, ProtocolVersionMismatch],
        Next::Connect,
    ),
    n(
        "UNKNOWN_RECORD_TYPE",
        "A record header carried a type that TLS does not have: the peer is most likely not speaking TLS, or the stream is out of step.",
        &[NotTls],
        Next::Connect,
    ),
    n(
        "VERIFY_CERT_ERROR",
        "A certificate check failed in wolfSSL's TLS layer: on a client, usually the application's verify callback rejected the server certificate; on a server, the client's CertificateVerify signature did not verify with its certificate (a client key that does not belong to the certificate).",
        &[
            ServerCaUntrusted,
            ServerNameMismatch,
            ServerCertExpired,
            ClientKeyMismatch,
        ],
        Next::ServerCa,
    ),
    n(
        "VERIFY_SIGN_ERROR",
        "A handshake signature did not verify: the peer's private key does not belong to the certificate it sent, or the signature was made with an algorithm the two sides handle differently.",
        &[ClientKeyMismatch],
        Next::ConnectOrAnalyze,
    ),
    n(
        "ASN_SIG_CONFIRM_E",
        "A certificate's signature does not verify with its issuer's key: the CA or intermediate loaded has the right name but another key (a re-keyed CA), or the certificate is corrupt.",
        &[ServerCaUntrusted, ServerChainIncomplete, ClientCaUntrusted],
        Next::ServerCa,
    ),
    n(
        "EXTKEYUSE_AUTH_E",
        "The peer's certificate has an extended key usage that does not allow its role. On a device: the server certificate lacks serverAuth (observed with a server certificate that has only clientAuth; wolfSSL sends alert 42), to be fixed on the server. On a wolfSSL server: the client certificate lacks clientAuth (client-cert-usage).",
        &[ServerCertUsage, ClientCertUsage],
        Next::ServerCa,
    ),
    n(
        "KEYUSE_SIGNATURE_E",
        "The peer's certificate has a key usage extension without digitalSignature, but its key must sign in this handshake: on a device, a server certificate to fix on the server; on a wolfSSL server, the client certificate (client-cert-usage).",
        &[],
        Next::ServerCa,
    ),
    n(
        "KEYUSE_ENCIPHER_E",
        "The peer's certificate has a key usage extension without keyEncipherment, which an RSA key-exchange cipher suite needs.",
        &[],
        Next::ServerCa,
    ),
    n(
        "NOT_CA_ERROR",
        "A certificate in the issuer position of the chain is not a CA (basicConstraints CA:FALSE): a wrong certificate in the chain or in the CA file (e.g. the server's own certificate given as the CA).",
        &[ServerCaUntrusted, ServerChainIncomplete],
        Next::ServerCa,
    ),
    n(
        "MAX_CHAIN_ERROR",
        "The peer's chain is longer than the maximum depth wolfSSL accepts (wolfSSL_CTX_set_verify_depth / MAX_CHAIN_DEPTH).",
        &[],
        Next::ServerCa,
    ),
    n(
        "NO_PEER_CERT",
        "The peer sent no certificate where one is required: on a wolfSSL server that requires client certificates, the client's Certificate message was empty.",
        &[ClientCertNotSent],
        Next::ConnectOrAnalyze,
    ),
    n(
        "NO_PRIVATE_KEY",
        "wolfSSL has a certificate but no private key to use with it: load the key (wolfSSL_CTX_use_PrivateKey_file / _buffer) and check the call returns WOLFSSL_SUCCESS.",
        &[ClientKeyUnusable],
        Next::CheckCerts,
    ),
    n(
        "ASN_NO_PEM_HEADER",
        "No '-----BEGIN ...-----' line was found where PEM was expected (observed: wolfSSL_CTX_load_verify_buffer() on non-PEM data): a DER file loaded as PEM (use WOLFSSL_FILETYPE_ASN1), an empty buffer, or a certificate pasted into code without its header line.",
        &[],
        Next::CheckCerts,
    ),
    n(
        "ASN_PARSE_E",
        "wolfSSL could not parse ASN.1 data (observed: wolfSSL_CTX_load_verify_buffer() on data that is not DER): a certificate or key in the wrong format (PEM loaded as DER or the reverse), a truncated or corrupt file, or a certificate from the peer it cannot decode.",
        &[],
        Next::CheckCerts,
    ),
    n(
        "ASN_SIG_HASH_E",
        "A certificate is signed with a hash algorithm this wolfSSL build does not support.",
        &[],
        Next::ServerCa,
    ),
    n(
        "ASN_SIG_KEY_E",
        "A certificate is signed with a key type this wolfSSL build does not support (e.g. RSA or ECC disabled, or an unsupported curve).",
        &[],
        Next::ServerCa,
    ),
    n(
        "ECC_CURVE_OID_E",
        "An EC key or certificate uses a curve this wolfSSL build does not support.",
        &[],
        Next::CheckCerts,
    ),
    n(
        "RSA_KEY_SIZE_E",
        "An RSA key is smaller than the minimum wolfSSL accepts (wolfSSL_CTX_SetMinRsaKey_Sz / the build's default).",
        &[],
        Next::CheckCerts,
    ),
    n(
        "ECC_KEY_SIZE_E",
        "An ECC key is smaller than the minimum wolfSSL accepts (wolfSSL_CTX_SetMinEccKey_Sz / the build's default).",
        &[],
        Next::CheckCerts,
    ),
    n(
        "MATCH_SUITE_ERROR",
        "No cipher suite in common: what the two sides enable does not overlap (check the build's enabled suites and wolfSSL_CTX_set_cipher_list).",
        &[NoCommonCipher],
        Next::Connect,
    ),
    n(
        "UNSUPPORTED_SUITE",
        "The cipher suite chosen or requested is not supported by this wolfSSL build.",
        &[NoCommonCipher],
        Next::Connect,
    ),
    n(
        "KEY_SHARE_ERROR",
        "TLS 1.3: no key share group in common (e.g. the server wants X25519 and the build only has P-256, or the reverse).",
        &[NoCommonCipher],
        Next::Connect,
    ),
    n(
        "UNSUPPORTED_PROTO_VERSION",
        "The TLS version offered or chosen is not supported by this side: the method (e.g. wolfTLSv1_2_client_method()) or the build does not allow the version the peer uses. Builds with OPENSSL_EXTRA print it as 'WRONG_SSL_VERSION'.",
        &[ProtocolVersionMismatch],
        Next::Connect,
    ),
    n(
        "UNKNOWN_SNI_HOST_NAME_E",
        "The server did not recognise the SNI host name the client sent.",
        &[SniRequired],
        Next::Connect,
    ),
    n(
        "SNI_ABSENT_ERROR",
        "The server requires SNI and the ClientHello carried none: call wolfSSL_UseSNI() with the server's host name.",
        &[SniRequired],
        Next::Connect,
    ),
    n(
        "UNKNOWN_ALPN_PROTOCOL_NAME_E",
        "No ALPN protocol in common (AWS IoT Core on port 443 needs x-amzn-mqtt-ca for MQTT).",
        &[AlpnMismatch],
        Next::Connect,
    ),
    n(
        "OCSP_CERT_REVOKED",
        "The OCSP responder reports the peer's certificate revoked.",
        &[ClientCertRevoked],
        Next::ServerCa,
    ),
    n(
        "CRL_CERT_REVOKED",
        "The peer's certificate is on a loaded CRL: it was revoked.",
        &[ClientCertRevoked],
        Next::ServerCa,
    ),
    n(
        "MEMORY_E",
        "Out of memory in wolfCrypt: on a device, the heap (or static memory pool) is too small for the operation; certificate chains and RSA keys are the large items of a handshake.",
        &[],
        Next::Connect,
    ),
    n(
        "MEMORY_ERROR",
        "Out of memory in the TLS layer: on a device, the heap (or static memory pool) is too small for the handshake; large certificate chains and RSA keys need the most.",
        &[],
        Next::Connect,
    ),
    n(
        "WANT_READ",
        "Not an error: on a non-blocking socket wolfSSL needs more data. Call the same function again when the socket is readable.",
        &[],
        Next::Connect,
    ),
    n(
        "WANT_WRITE",
        "Not an error: on a non-blocking socket wolfSSL could not send everything. Call the same function again when the socket is writable.",
        &[],
        Next::Connect,
    ),
    n(
        "BAD_FUNC_ARG",
        "A wolfSSL function received an invalid argument, often NULL: a context or session that was not created, or a buffer or length that is wrong.",
        &[],
        Next::CheckCerts,
    ),
    n(
        "NOT_COMPILED_IN",
        "The feature needed (an algorithm, a curve, TLS 1.3, a file system function...) is not compiled into this wolfSSL build.",
        &[],
        Next::Connect,
    ),
    n(
        "WC_TIMEOUT_E",
        "An operation timed out.",
        &[Timeout],
        Next::Connect,
    ),
];

/// mbedTLS codes and verification flags met in connection failures.
pub(super) const MBEDTLS: &[Note] = &[
    received(
        "MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE",
        "mbedTLS received a fatal alert: the peer refused the handshake. The alert number says why: with mbedtls_debug_set_threshold(2) or more the debug log shows 'got an alert message, type: [2:N]' (observed), or see it on the wire with iotdoctor connect / analyze; then look that number up.",
        ALERT_RECEIVED_CAUSES,
    ),
    n(
        "MBEDTLS_ERR_SSL_NON_FATAL",
        "A warning alert was received (the library's text: 'The alert message received indicates a non-fatal error'); a warning does not end the connection by itself.",
        &[],
        Next::ConnectOrAnalyze,
    ),
    n(
        "MBEDTLS_ERR_X509_CERT_VERIFY_FAILED",
        "The peer's certificate chain failed verification. Which check failed is in the flags of mbedtls_ssl_get_verify_result(); mbedtls_x509_crt_verify_info() prints them (observed: 0x08 'not correctly signed by the trusted CA' for the wrong CA file or a missing intermediate, with alert 48 sent; 0x04 'Common Name (CN) does not match' for a wrong host name, alert 42; 0x01 'validity has expired', alert 45; 0x0200 'validity starts in the future', alert 46, usually the device clock).",
        SERVER_VERIFY,
        Next::ServerCa,
    ),
    n(
        "MBEDTLS_ERR_SSL_PEER_VERIFY_FAILED",
        "Verification of the peer failed. Print the flags of mbedtls_ssl_get_verify_result() with mbedtls_x509_crt_verify_info() to see which check.",
        SERVER_VERIFY,
        Next::ServerCa,
    ),
    n(
        "MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED",
        "Peer verification is required but no CA chain was set: call mbedtls_ssl_conf_ca_chain() with the CA certificate(s) that issued the server's chain.",
        &[ServerCaUntrusted],
        Next::ServerCa,
    ),
    n(
        "MBEDTLS_ERR_SSL_INVALID_RECORD",
        "An invalid TLS record arrived. Most often the port does not speak TLS (observed against HTTP and SSH servers); it can also be a record larger than the device's receive buffer (MBEDTLS_SSL_IN_CONTENT_LEN / MBEDTLS_SSL_MAX_CONTENT_LEN).",
        &[NotTls],
        Next::Connect,
    ),
    n(
        "MBEDTLS_ERR_SSL_CONN_EOF",
        "The peer closed the TCP connection without an alert (observed when a server closes right after the ClientHello). The peer did not say why: look at its logs. A broker closing right after the device's MQTT CONNECT is refusing the client.",
        &[PeerClosed, MqttClosedAfterConnect],
        Next::ConnectOrAnalyze,
    ),
    n(
        "MBEDTLS_ERR_NET_CONN_RESET",
        "The peer reset the TCP connection (observed when a server resets right after the ClientHello): it dropped the connection without an alert; a firewall or proxy can do the same.",
        &[PeerClosed],
        Next::ConnectOrAnalyze,
    ),
    n(
        "MBEDTLS_ERR_NET_RECV_FAILED",
        "recv() on the socket failed: the connection was reset or broken under mbedTLS.",
        &[PeerClosed],
        Next::ConnectOrAnalyze,
    ),
    n(
        "MBEDTLS_ERR_NET_SEND_FAILED",
        "send() on the socket failed: the peer closed or reset the connection.",
        &[PeerClosed],
        Next::ConnectOrAnalyze,
    ),
    n(
        "MBEDTLS_ERR_NET_CONNECT_FAILED",
        "The TCP connection to the server could not be made: refused, unreachable or timed out. TLS did not start.",
        &[ConnectRefused, NetworkUnreachable, Timeout],
        Next::Connect,
    ),
    n(
        "MBEDTLS_ERR_NET_UNKNOWN_HOST",
        "The host name could not be resolved to an address (DNS).",
        &[DnsFailed],
        Next::Connect,
    ),
    n(
        "MBEDTLS_ERR_SSL_TIMEOUT",
        "The operation timed out (the read timeout set with mbedtls_ssl_conf_read_timeout expired).",
        &[Timeout],
        Next::Connect,
    ),
    n(
        "MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY",
        "The peer sent close_notify: it closed the TLS connection in an orderly way. Right after the device's MQTT CONNECT, that is the broker refusing the client.",
        &[MqttClosedAfterConnect, PeerClosed],
        Next::Connect,
    ),
    n(
        "MBEDTLS_ERR_SSL_WANT_READ",
        "Not an error: the non-blocking transport has no data yet. Call the same function again.",
        &[],
        Next::Connect,
    ),
    n(
        "MBEDTLS_ERR_SSL_WANT_WRITE",
        "Not an error: the non-blocking transport cannot take data yet. Call the same function again.",
        &[],
        Next::Connect,
    ),
    n(
        "MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE",
        "The peer's Certificate message could not be processed: a malformed certificate, or one whose key usage or extended key usage does not allow its role (observed for a server certificate without serverAuth: verification flag 0x1000, alert 43 sent; on a device that is for the server to fix).",
        &[],
        Next::ServerCa,
    ),
    n(
        "MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION",
        "The TLS version of the handshake is outside the minimum and maximum configured (mbedtls_ssl_conf_min_version / max_version) or supported by the build. (A server that refuses the client's versions sends alert 70 instead, seen as -0x7780.)",
        &[ProtocolVersionMismatch],
        Next::Connect,
    ),
    n(
        "MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN",
        "No cipher suite in common between client and server.",
        &[NoCommonCipher],
        Next::Connect,
    ),
    n(
        "MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE",
        "None of the cipher suites in common can be used, e.g. none fits the certificate's key type (the library's text: see the debug messages).",
        &[NoCommonCipher],
        Next::Connect,
    ),
    n(
        "MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE",
        "On an mbedTLS server: the client sent no certificate and the authentication mode requires one.",
        &[ClientCertNotSent],
        Next::ConnectOrAnalyze,
    ),
    n(
        "MBEDTLS_ERR_SSL_CERTIFICATE_REQUIRED",
        "mbedTLS needed its own certificate and none was set (the library's text: 'The own certificate is not set, but needed by the server'): call mbedtls_ssl_conf_own_cert() before mbedtls_ssl_setup() and check it returns 0.",
        &[],
        Next::CheckCerts,
    ),
    n(
        "MBEDTLS_ERR_SSL_PRIVATE_KEY_REQUIRED",
        "The own private key (or pre-shared key) needed is not set: pass the key to mbedtls_ssl_conf_own_cert() (or set the PSK).",
        &[ClientKeyUnusable],
        Next::CheckCerts,
    ),
    n(
        "MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE_VERIFY",
        "The peer's CertificateVerify could not be processed or did not verify: on an mbedTLS server, the client's private key does not belong to its certificate.",
        &[ClientKeyMismatch],
        Next::ConnectOrAnalyze,
    ),
    n(
        "MBEDTLS_ERR_SSL_ALLOC_FAILED",
        "Memory allocation failed in the TLS layer: on a device, the heap is too small for the handshake (the record buffers and the certificate chain are the large items).",
        &[],
        Next::Connect,
    ),
    n(
        "MBEDTLS_ERR_X509_INVALID_FORMAT",
        "A certificate could not be parsed. Common reasons: a PEM buffer passed to mbedtls_x509_crt_parse() without its terminating NUL byte in the length (PEM needs strlen + 1), or a file that is not a certificate.",
        &[],
        Next::CheckCerts,
    ),
    n(
        "MBEDTLS_ERR_X509_CERT_UNKNOWN_FORMAT",
        "The data is neither DER nor PEM: not a certificate file, or a PEM buffer without its terminating NUL byte in the length.",
        &[],
        Next::CheckCerts,
    ),
    n(
        "MBEDTLS_ERR_PK_KEY_INVALID_FORMAT",
        "The private key could not be parsed: not a key file, an unsupported encoding, or a PEM buffer without its terminating NUL byte in the length.",
        &[ClientKeyUnusable],
        Next::CheckCerts,
    ),
    n(
        "MBEDTLS_ERR_PK_PASSWORD_REQUIRED",
        "The private key is encrypted and no password was given to mbedtls_pk_parse_key().",
        &[ClientKeyUnusable],
        Next::CheckCerts,
    ),
    n(
        "MBEDTLS_ERR_PK_PASSWORD_MISMATCH",
        "The password given does not decrypt the private key.",
        &[ClientKeyUnusable],
        Next::CheckCerts,
    ),
    n(
        "MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE",
        "The key's elliptic curve is not supported by this mbedTLS build (enable it in the configuration, or use P-256).",
        &[],
        Next::CheckCerts,
    ),
    n(
        "MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED",
        "The random generator could not get entropy: on a device, no entropy source (hardware RNG) is registered for mbedTLS.",
        &[],
        Next::Connect,
    ),
    n(
        "MBEDTLS_ERR_ENTROPY_SOURCE_FAILED",
        "An entropy source failed: on a device, check the hardware RNG and the entropy sources registered with mbedtls_entropy_add_source().",
        &[],
        Next::Connect,
    ),
    n(
        "MBEDTLS_X509_BADCERT_NOT_TRUSTED",
        "The chain does not lead to a CA in the CA chain configured (mbedtls_ssl_conf_ca_chain): the wrong CA file, or an intermediate the server did not send (observed for both; mbedTLS sends alert 48 unknown_ca).",
        &[ServerCaUntrusted, ServerChainIncomplete],
        Next::ServerCa,
    ),
    n(
        "MBEDTLS_X509_BADCERT_CN_MISMATCH",
        "The server certificate does not cover the host name set with mbedtls_ssl_set_hostname() (its subject alternative names, or its CN when it has none). mbedTLS sends alert 42 (observed).",
        &[ServerNameMismatch],
        Next::ServerCa,
    ),
    n(
        "MBEDTLS_X509_BADCERT_EXPIRED",
        "A certificate of the chain has expired by the device's clock: renew it, or fix a clock that runs ahead. mbedTLS sends alert 45 (observed).",
        &[ServerCertExpired, ClientCertExpired],
        Next::ServerCa,
    ),
    n(
        "MBEDTLS_X509_BADCERT_FUTURE",
        "A certificate of the chain is not valid yet by the device's clock: almost always a device clock that was never set (no RTC or NTP). mbedTLS sends alert 46 (observed).",
        &[ServerCertExpired, ClientCertExpired],
        Next::ServerCa,
    ),
    n(
        "MBEDTLS_X509_BADCERT_MISSING",
        "The peer sent no certificate where one was expected (on a server: no client certificate).",
        &[ClientCertNotSent],
        Next::ConnectOrAnalyze,
    ),
    n(
        "MBEDTLS_X509_BADCERT_REVOKED",
        "A certificate of the chain is on a CRL given to mbedTLS: it was revoked.",
        &[ClientCertRevoked],
        Next::ServerCa,
    ),
    n(
        "MBEDTLS_X509_BADCERT_EXT_KEY_USAGE",
        "The certificate's extended key usage does not allow its role: on a device, the server certificate lacks serverAuth (observed with a server certificate that has only clientAuth); on an mbedTLS server, the client certificate lacks clientAuth (client-cert-usage).",
        &[ServerCertUsage, ClientCertUsage],
        Next::ServerCa,
    ),
    n(
        "MBEDTLS_X509_BADCERT_KEY_USAGE",
        "The certificate's key usage extension does not allow the operation its key must do in this handshake (e.g. digitalSignature missing): on a device, the server's certificate; on an mbedTLS server, the client's (client-cert-usage).",
        &[],
        Next::ServerCa,
    ),
    n(
        "MBEDTLS_X509_BADCERT_BAD_MD",
        "A certificate is signed with a hash algorithm the verification profile in use does not accept (mbedtls_ssl_conf_cert_profile).",
        &[],
        Next::ServerCa,
    ),
    n(
        "MBEDTLS_X509_BADCERT_BAD_PK",
        "A certificate is signed with a public key algorithm the verification profile in use does not accept.",
        &[],
        Next::ServerCa,
    ),
    n(
        "MBEDTLS_X509_BADCERT_BAD_KEY",
        "A certificate is signed with a key the verification profile in use does not accept (curve not allowed, RSA key too short).",
        &[],
        Next::ServerCa,
    ),
    n(
        "MBEDTLS_X509_BADCERT_OTHER",
        "The application's verify callback flagged the certificate for its own reason.",
        &[],
        Next::ServerCa,
    ), // mbedTLS 3.x names (tables::MBEDTLS3_SSL).
    n(
        "MBEDTLS_ERR_SSL_NO_APPLICATION_PROTOCOL",
        "mbedTLS 3.x: no ALPN protocol in common: the server supports none of the protocols the client offered (mbedtls_ssl_conf_alpn_protocols). AWS IoT Core on port 443 needs x-amzn-mqtt-ca.",
        &[AlpnMismatch],
        Next::Connect,
    ),
    n(
        "MBEDTLS_ERR_SSL_BAD_CERTIFICATE",
        "mbedTLS 3.x: the peer's Certificate message could not be processed (the 2.x name is MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE): a malformed certificate, or one whose key usage or extended key usage does not allow its role.",
        &[],
        Next::ServerCa,
    ),
    n(
        "MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION",
        "mbedTLS 3.x: the TLS version is outside the configured minimum and maximum (mbedtls_ssl_conf_min_tls_version / max_tls_version) or those the build supports.",
        &[ProtocolVersionMismatch],
        Next::Connect,
    ),
    n(
        "MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE",
        "mbedTLS 3.x: the handshake negotiation failed: no cipher suite, group or signature algorithm in common, or a credential that fits none of them. The debug log (mbedtls_debug_set_threshold(3)) names the step.",
        &[NoCommonCipher, ClientSigalgMismatch],
        Next::Connect,
    ),
    n(
        "MBEDTLS_ERR_SSL_UNRECOGNIZED_NAME",
        "mbedTLS 3.x: no certificate for the SNI the client sent (on an mbedTLS server), or the peer's unrecognized_name alert.",
        &[SniRequired],
        Next::Connect,
    ),
    n(
        "MBEDTLS_ERR_SSL_DECODE_ERROR",
        "mbedTLS 3.x: a message from the peer could not be parsed. Often a peer that is not speaking TLS on this port, or a record cut by the transport.",
        &[NotTls],
        Next::Connect,
    ),
    n(
        "MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET",
        "mbedTLS 3.x, TLS 1.3: not a failure: mbedtls_ssl_read() reports that a NewSessionTicket arrived. Call it again (it means the server accepted the handshake).",
        &[],
        Next::Connect,
    ),
    n(
        "MBEDTLS_ERR_SSL_CERTIFICATE_VERIFICATION_WITHOUT_HOSTNAME",
        "mbedTLS 3.6+: the client verifies the server's certificate but never set the name to check it against: call mbedtls_ssl_set_hostname() with the broker's host name before the handshake (it also sets SNI, which AWS IoT Core needs).",
        &[SniRequired],
        Next::ServerCa,
    ),
];

/// OpenSSL certificate verification results met in connection failures.
pub(super) const OPENSSL_VERIFY: &[Note] = &[
    n(
        "X509_V_OK",
        "Verification succeeded: the certificate chain is not the problem.",
        &[],
        Next::Connect,
    ),
    n(
        "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT",
        "The chain reached a trusted CA certificate whose own issuer is missing: the CA file holds an intermediate but not the root above it, and OpenSSL wants the chain to end at a self-signed root (observed with only the intermediate in the CA file).",
        &[ServerCaUntrusted],
        Next::ServerCa,
    ),
    n(
        "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
        "The issuer of a certificate is neither in the chain the peer sent nor in the trusted CA file: the peer did not send an intermediate, or the CA file is not the root of this chain, e.g. the wrong Amazon root (observed for both; an OpenSSL client sends alert 48 unknown_ca, an OpenSSL server verifying a client certificate does the same).",
        &[
            ServerChainIncomplete,
            ServerCaUntrusted,
            ClientChainIncomplete,
            ClientCaUntrusted,
        ],
        Next::ServerCa,
    ),
    n(
        "X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE",
        "No signature of the chain could be checked: the peer sent its certificate alone and its issuer is not in the trusted CA file (a missing intermediate, or the wrong CA).",
        &[ServerChainIncomplete, ServerCaUntrusted],
        Next::ServerCa,
    ),
    n(
        "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT",
        "The peer's certificate is self-signed and not in the trusted CA file: a test server with a self-signed certificate (give that certificate as the CA), or a CA certificate configured as the server certificate.",
        &[ServerCaUntrusted],
        Next::ServerCa,
    ),
    n(
        "X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN",
        "The peer's chain ends in a root that is not in the trusted CA file: the CA file is not the root of this chain (observed), e.g. a private CA checked against a public bundle, or a TLS-inspecting proxy's root.",
        &[ServerCaUntrusted],
        Next::ServerCa,
    ),
    n(
        "X509_V_ERR_CERT_NOT_YET_VALID",
        "A certificate of the chain is not valid yet by this machine's clock: on a device, almost always a clock that was never set (no RTC or NTP). An OpenSSL client sends alert 42 for it, an OpenSSL server too (observed).",
        &[ServerCertExpired, ClientCertExpired],
        Next::ServerCa,
    ),
    n(
        "X509_V_ERR_CERT_HAS_EXPIRED",
        "A certificate of the chain has expired by this machine's clock: renew it, or fix the clock. OpenSSL sends alert 45 certificate_expired (observed on both sides).",
        &[ServerCertExpired, ClientCertExpired],
        Next::ServerCa,
    ),
    n(
        "X509_V_ERR_CERT_SIGNATURE_FAILURE",
        "A certificate's signature does not verify with its issuer's key: an issuer with the right name but another key (a re-keyed CA), or a corrupt certificate.",
        &[ServerCaUntrusted, ServerChainIncomplete],
        Next::ServerCa,
    ),
    n(
        "X509_V_ERR_CERT_REVOKED",
        "A certificate of the chain is revoked (CRL or OCSP).",
        &[ClientCertRevoked],
        Next::ServerCa,
    ),
    n(
        "X509_V_ERR_INVALID_PURPOSE",
        "The certificate's extended key usage does not allow its role: a client certificate without clientAuth (observed on an OpenSSL server, which answers with alert 43) or a server certificate without serverAuth (observed on an OpenSSL client).",
        &[ClientCertUsage, ServerCertUsage],
        Next::CheckCerts,
    ),
    n(
        "X509_V_ERR_CERT_UNTRUSTED",
        "The root CA is in the store but not trusted for this purpose (an OpenSSL trusted certificate whose trust settings exclude it).",
        &[ServerCaUntrusted],
        Next::ServerCa,
    ),
    n(
        "X509_V_ERR_CERT_REJECTED",
        "The root CA is in the store but marked to reject this purpose.",
        &[ServerCaUntrusted],
        Next::ServerCa,
    ),
    n(
        "X509_V_ERR_INVALID_CA",
        "A certificate in the issuer position of the chain is not a valid CA certificate (basicConstraints CA:FALSE or missing): a wrong certificate in the chain or in the CA file.",
        &[ServerCaUntrusted, ServerChainIncomplete],
        Next::ServerCa,
    ),
    n(
        "X509_V_ERR_HOSTNAME_MISMATCH",
        "The server certificate does not cover the host name checked (its subject alternative names). An OpenSSL client sends alert 42 (observed).",
        &[ServerNameMismatch],
        Next::ServerCa,
    ),
    n(
        "X509_V_ERR_IP_ADDRESS_MISMATCH",
        "The server certificate does not contain the IP address checked: connecting by address needs an IP entry in its subject alternative names.",
        &[ServerNameMismatch],
        Next::ServerCa,
    ),
    n(
        "X509_V_ERR_EE_KEY_TOO_SMALL",
        "The end-entity certificate's key is smaller than the security level in force allows (SSL_CTX_set_security_level, @SECLEVEL in the cipher string).",
        &[],
        Next::CheckCerts,
    ),
    n(
        "X509_V_ERR_CA_KEY_TOO_SMALL",
        "A CA certificate's key is smaller than the security level in force allows.",
        &[],
        Next::ServerCa,
    ),
    n(
        "X509_V_ERR_CA_MD_TOO_WEAK",
        "A certificate of the chain is signed with a digest (e.g. SHA-1) the security level in force does not allow.",
        &[],
        Next::ServerCa,
    ),
    n(
        "X509_V_ERR_APPLICATION_VERIFICATION",
        "The application's verify callback rejected the certificate for its own reason.",
        &[],
        Next::ServerCa,
    ),
];

/// OpenSSL `ssl` library reasons met in connection failures. The `SSLV3_ALERT_*` /
/// `TLSV1_ALERT_*` reasons (a received alert) are explained from the alert itself.
pub(super) const OPENSSL_REASONS: &[Note] = &[
    n(
        "SSL_R_CERTIFICATE_VERIFY_FAILED",
        "OpenSSL rejected the peer's certificate chain. The reason is the verification result printed with it ('verify error:num=N:...', 'Verify return code: N (...)') or SSL_get_verify_result() in code: look that number up.",
        &[
            ServerCaUntrusted,
            ServerChainIncomplete,
            ServerNameMismatch,
            ServerCertExpired,
        ],
        Next::ServerCa,
    ),
    n(
        "SSL_R_WRONG_VERSION_NUMBER",
        "The first bytes received are not a TLS record: the port speaks something else, e.g. HTTP, plain MQTT on 1883 or SSH (observed against HTTP and SSH servers), or a proxy answered.",
        &[NotTls, ProtocolVersionMismatch],
        Next::Connect,
    ),
    n(
        "SSL_R_PACKET_LENGTH_TOO_LONG",
        "A record header announced more bytes than TLS allows: most often the peer is not speaking TLS and its first bytes were read as a record header (observed).",
        &[NotTls],
        Next::Connect,
    ),
    n(
        "SSL_R_UNEXPECTED_EOF_WHILE_READING",
        "The peer closed the TCP connection without close_notify (observed when a server closes right after the ClientHello): it dropped the connection without saying why. A broker closing right after the device's MQTT CONNECT is refusing the client.",
        &[PeerClosed, MqttClosedAfterConnect],
        Next::ConnectOrAnalyze,
    ),
    n(
        "SSL_R_NO_SHARED_CIPHER",
        "On an OpenSSL server: none of the client's cipher suites can be used with the server's certificate and configuration (observed; the server sends alert 40 handshake_failure).",
        &[NoCommonCipher],
        Next::Connect,
    ),
    n(
        "SSL_R_NO_CIPHERS_AVAILABLE",
        "No cipher suite is usable with this configuration (the cipher list or the security level excludes them all).",
        &[NoCommonCipher],
        Next::Connect,
    ),
    n(
        "SSL_R_NO_SHARED_GROUPS",
        "No key exchange group (curve) in common with the peer.",
        &[NoCommonCipher],
        Next::Connect,
    ),
    n(
        "SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS",
        "No signature algorithm in common with the peer.",
        &[ClientSigalgMismatch],
        Next::Connect,
    ),
    n(
        "SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM",
        "The key cannot make any of the signature schemes the peer accepts.",
        &[ClientSigalgMismatch],
        Next::Connect,
    ),
    n(
        "SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE",
        "On an OpenSSL server: it requires a client certificate and the client sent none (observed; the client then receives alert 40 in TLS 1.2, 116 in TLS 1.3).",
        &[ClientCertNotSent],
        Next::ConnectOrAnalyze,
    ),
    n(
        "SSL_R_BAD_SIGNATURE",
        "A handshake signature did not verify. On an OpenSSL server verifying a client: the client's private key does not belong to its certificate (observed; the server sends alert 51 decrypt_error).",
        &[ClientKeyMismatch],
        Next::CheckCerts,
    ),
    n(
        "SSL_R_UNSUPPORTED_PROTOCOL",
        "No TLS version in common (observed on an OpenSSL server limited to TLS 1.3 receiving a TLS 1.2-only ClientHello, and the reverse; it sends alert 70).",
        &[ProtocolVersionMismatch],
        Next::Connect,
    ),
    n(
        "SSL_R_NO_PROTOCOLS_AVAILABLE",
        "No TLS version is enabled that this side can use (minimum and maximum versions, or the security level, exclude them all).",
        &[ProtocolVersionMismatch],
        Next::Connect,
    ),
    n(
        "SSL_R_VERSION_TOO_LOW",
        "The peer's TLS version is below the minimum this side accepts.",
        &[ProtocolVersionMismatch],
        Next::Connect,
    ),
    n(
        "SSL_R_VERSION_TOO_HIGH",
        "The peer's TLS version is above the maximum this side accepts.",
        &[ProtocolVersionMismatch],
        Next::Connect,
    ),
    n(
        "SSL_R_NO_APPLICATION_PROTOCOL",
        "No ALPN protocol in common (AWS IoT Core on port 443 needs x-amzn-mqtt-ca for MQTT).",
        &[AlpnMismatch],
        Next::Connect,
    ),
    n(
        "SSL_R_HTTP_REQUEST",
        "An HTTP request arrived on a TLS port: the client is not speaking TLS.",
        &[NotTls],
        Next::Connect,
    ),
    n(
        "SSL_R_EE_KEY_TOO_SMALL",
        "The certificate's key is smaller than the security level in force allows.",
        &[],
        Next::CheckCerts,
    ),
    n(
        "SSL_R_CA_KEY_TOO_SMALL",
        "A CA certificate's key is smaller than the security level in force allows.",
        &[],
        Next::ServerCa,
    ),
    n(
        "SSL_R_CA_MD_TOO_WEAK",
        "A CA certificate is signed with a digest (e.g. SHA-1) the security level in force does not allow.",
        &[],
        Next::ServerCa,
    ),
    n(
        "SSL_R_PRIVATE_KEY_MISMATCH",
        "The private key does not belong to the certificate it is used with.",
        &[ClientKeyMismatch],
        Next::CheckCerts,
    ),
    n(
        "X509_R_KEY_VALUES_MISMATCH",
        "The private key does not belong to the certificate (observed: openssl s_client given the key of another certificate fails with 'X509_check_private_key:key values mismatch').",
        &[ClientKeyMismatch],
        Next::CheckCerts,
    ),
    n(
        "PEM_R_NO_START_LINE",
        "No '-----BEGIN ...-----' line of the expected kind: a DER file read as PEM, an empty or wrong file (e.g. the key given where the certificate is expected).",
        &[],
        Next::CheckCerts,
    ),
    n(
        "PEM_R_BAD_DECRYPT",
        "The encrypted private key could not be decrypted: wrong password.",
        &[],
        Next::CheckCerts,
    ),
    n(
        "PEM_R_BAD_PASSWORD_READ",
        "The password of an encrypted private key could not be read (none given, no terminal).",
        &[ClientKeyUnusable],
        Next::CheckCerts,
    ),
];

/// GnuTLS codes and verification status bits met in connection failures.
pub(super) const GNUTLS: &[Note] = &[
    received(
        "GNUTLS_E_FATAL_ALERT_RECEIVED",
        "GnuTLS received a fatal alert: the peer refused the handshake. The alert number says why: gnutls_alert_get(session) returns it, gnutls-cli prints '*** Received alert [N]: ...' (observed), or see it on the wire with iotdoctor connect / analyze; then look that number up.",
        ALERT_RECEIVED_CAUSES,
    ),
    Note {
        name: "GNUTLS_E_WARNING_ALERT_RECEIVED",
        meaning: "GnuTLS received a warning alert: not fatal in itself (gnutls_error_is_fatal() is false); gnutls_alert_get(session) says which, and the handshake can be continued.",
        sender: Some("The peer."),
        causes: &[],
        next: Next::ConnectOrAnalyze,
    },
    n(
        "GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR",
        "The peer's certificate failed verification (gnutls_session_set_verify_cert()): gnutls_session_get_verify_cert_status() and gnutls_certificate_verification_status_print() say why (observed: 'The certificate issuer is unknown.' for the wrong CA or a missing intermediate, 'The name in the certificate does not match the expected.' for a wrong host name). GnuTLS clients send alert 42 bad_certificate (observed with gnutls-cli).",
        SERVER_VERIFY,
        Next::ServerCa,
    ),
    n(
        "GNUTLS_E_CERTIFICATE_ERROR",
        "A certificate was refused. gnutls-cli ends with this when the server's certificate fails verification; its '- Status:' line says why (observed for an unknown issuer, an expired or not yet valid certificate, a wrong host name). GnuTLS clients send alert 42 bad_certificate (observed).",
        SERVER_VERIFY,
        Next::ServerCa,
    ),
    n(
        "GNUTLS_E_PREMATURE_TERMINATION",
        "The peer closed the TCP connection without close_notify (observed when a server closes right after the ClientHello): it dropped the connection without saying why. A broker closing right after the device's MQTT CONNECT is refusing the client.",
        &[PeerClosed, MqttClosedAfterConnect],
        Next::ConnectOrAnalyze,
    ),
    n(
        "GNUTLS_E_PULL_ERROR",
        "Reading from the transport failed (the pull function): observed when the peer resets the TCP connection; also any recv() error of the socket.",
        &[PeerClosed],
        Next::ConnectOrAnalyze,
    ),
    n(
        "GNUTLS_E_PUSH_ERROR",
        "Writing to the transport failed (the push function): the peer closed or reset the connection, or send() failed.",
        &[PeerClosed],
        Next::ConnectOrAnalyze,
    ),
    n(
        "GNUTLS_E_UNEXPECTED_PACKET",
        "Something that is not the TLS message expected arrived: observed when the port speaks HTTP or SSH instead of TLS.",
        &[NotTls],
        Next::Connect,
    ),
    n(
        "GNUTLS_E_UNSUPPORTED_VERSION_PACKET",
        "A record with an unsupported or illegal version arrived: no TLS version in common, or the peer is not speaking TLS.",
        &[ProtocolVersionMismatch, NotTls],
        Next::Connect,
    ),
    n(
        "GNUTLS_E_UNKNOWN_CIPHER_SUITE",
        "No cipher suite in common with the peer.",
        &[NoCommonCipher],
        Next::Connect,
    ),
    n(
        "GNUTLS_E_NO_CIPHER_SUITES",
        "No usable cipher suite is enabled (check the priority string).",
        &[NoCommonCipher],
        Next::Connect,
    ),
    n(
        "GNUTLS_E_NO_CERTIFICATE_FOUND",
        "On a GnuTLS server requiring client certificates: the client sent none (observed in TLS 1.2; the server answers with alert 50 decode_error).",
        &[ClientCertNotSent],
        Next::ConnectOrAnalyze,
    ),
    n(
        "GNUTLS_E_CERTIFICATE_REQUIRED",
        "On a GnuTLS server requiring client certificates: the client sent none in TLS 1.3 (observed; the server answers with alert 116 certificate_required).",
        &[ClientCertNotSent],
        Next::ConnectOrAnalyze,
    ),
    n(
        "GNUTLS_E_CERTIFICATE_KEY_MISMATCH",
        "The certificate and the private key given do not belong together (e.g. gnutls_certificate_set_x509_key_file() with another certificate's key).",
        &[ClientKeyMismatch],
        Next::CheckCerts,
    ),
    n(
        "GNUTLS_E_EXPIRED",
        "A certificate or the session has expired by this machine's clock.",
        &[ServerCertExpired, ClientCertExpired],
        Next::ServerCa,
    ),
    n(
        "GNUTLS_E_NOT_YET_ACTIVATED",
        "A certificate is not valid yet by this machine's clock: on a device, usually a clock that was never set.",
        &[ServerCertExpired, ClientCertExpired],
        Next::ServerCa,
    ),
    n(
        "GNUTLS_E_TIMEDOUT",
        "The operation timed out.",
        &[Timeout],
        Next::Connect,
    ),
    n(
        "GNUTLS_E_AGAIN",
        "Not an error: the non-blocking transport has no data yet. Call the same function again.",
        &[],
        Next::Connect,
    ),
    n(
        "GNUTLS_E_FILE_ERROR",
        "A certificate, key or CA file could not be read (path, permissions).",
        &[],
        Next::CheckCerts,
    ),
    n(
        "GNUTLS_E_BASE64_DECODING_ERROR",
        "PEM data could not be decoded: a corrupt or truncated PEM file, or a file that is not PEM.",
        &[],
        Next::CheckCerts,
    ),
    n(
        "GNUTLS_E_MEMORY_ERROR",
        "Memory allocation failed.",
        &[],
        Next::Connect,
    ),
    n(
        "GNUTLS_CERT_INVALID",
        "The certificate is not trusted; the reason follows in the same status (issuer unknown, expired, name mismatch, ...).",
        SERVER_VERIFY,
        Next::ServerCa,
    ),
    n(
        "GNUTLS_CERT_SIGNER_NOT_FOUND",
        "The chain does not lead to a CA in the trusted CA file: the wrong CA file, or an intermediate the server did not send (observed for both).",
        &[ServerCaUntrusted, ServerChainIncomplete],
        Next::ServerCa,
    ),
    n(
        "GNUTLS_CERT_SIGNER_NOT_CA",
        "A certificate in the issuer position of the chain is not a CA: a wrong certificate in the chain or in the CA file.",
        &[ServerCaUntrusted, ServerChainIncomplete],
        Next::ServerCa,
    ),
    n(
        "GNUTLS_CERT_EXPIRED",
        "A certificate of the chain has expired by this machine's clock (observed).",
        &[ServerCertExpired, ClientCertExpired],
        Next::ServerCa,
    ),
    n(
        "GNUTLS_CERT_NOT_ACTIVATED",
        "A certificate of the chain is not valid yet by this machine's clock (observed): on a device, usually a clock that was never set.",
        &[ServerCertExpired, ClientCertExpired],
        Next::ServerCa,
    ),
    n(
        "GNUTLS_CERT_UNEXPECTED_OWNER",
        "The server certificate does not cover the host name checked (observed).",
        &[ServerNameMismatch],
        Next::ServerCa,
    ),
    n(
        "GNUTLS_CERT_SIGNATURE_FAILURE",
        "A certificate's signature does not verify with its issuer's key: an issuer with the right name but another key, or a corrupt certificate.",
        &[ServerCaUntrusted],
        Next::ServerCa,
    ),
    n(
        "GNUTLS_CERT_REVOKED",
        "A certificate of the chain is revoked.",
        &[ClientCertRevoked],
        Next::ServerCa,
    ),
    n(
        "GNUTLS_CERT_PURPOSE_MISMATCH",
        "The certificate's key usage does not allow its role: on a device, a server certificate without serverAuth; on a GnuTLS server, a client certificate without clientAuth (client-cert-usage).",
        &[ServerCertUsage, ClientCertUsage],
        Next::ServerCa,
    ),
];

/// What `SSL_get_error()` results mean for a device.
pub(super) const OPENSSL_SSL_GET_ERROR: &[Note] = &[
    n(
        "SSL_ERROR_SSL",
        "A TLS protocol error: the reason is in OpenSSL's error queue (ERR_get_error, or the 'error:...' line programs print): explain that line.",
        &[],
        Next::ConnectOrAnalyze,
    ),
    n(
        "SSL_ERROR_WANT_READ",
        "Not an error: a non-blocking socket has no data yet. Call the same function again when the socket is readable.",
        &[],
        Next::Connect,
    ),
    n(
        "SSL_ERROR_WANT_WRITE",
        "Not an error: a non-blocking socket cannot take data yet. Call the same function again when the socket is writable.",
        &[],
        Next::Connect,
    ),
    n(
        "SSL_ERROR_SYSCALL",
        "The transport failed under TLS: the peer closed or reset the TCP connection without a TLS alert (errno says which; 0 means end of file). During the handshake, the server usually hung up on what it received: a missing SNI, a wrong port or proxy, or a refusal it does not announce.",
        &[PeerClosed, SniRequired, NotTls],
        Next::ConnectOrAnalyze,
    ),
    n(
        "SSL_ERROR_ZERO_RETURN",
        "The peer closed the TLS connection cleanly (close_notify). After a successful handshake with an MQTT broker, the broker ended the session: see its log (AWS IoT: the policy, the certificate's status, the client id).",
        &[MqttClosedAfterConnect],
        Next::Connect,
    ),
];

/// What a broker's refusals mean. In MQTT 3.1.1 a CONNACK return code, in MQTT 5 a CONNACK or
/// DISCONNECT reason code; the TLS handshake before them succeeded.
pub(super) const MQTT: &[Note] = &[
    mqtt(
        "CONNACK_REFUSED_PROTOCOL_VERSION",
        "MQTT 3.1.1: the broker does not speak the protocol level of the CONNECT (3.1, 3.1.1 or 5). Configure the client for the version the broker accepts.",
        &[MqttRejected],
    ),
    mqtt(
        "CONNACK_REFUSED_IDENTIFIER_REJECTED",
        "MQTT 3.1.1: the broker refuses the client id: empty where it needs one, too long, characters it does not allow, or a prefix its configuration requires.",
        &[MqttRejected],
    ),
    mqtt(
        "CONNACK_REFUSED_SERVER_UNAVAILABLE",
        "MQTT 3.1.1: the broker is up but not taking connections now. Retry with back-off.",
        &[MqttRejected],
    ),
    mqtt(
        "CONNACK_REFUSED_BAD_USERNAME_PASSWORD",
        "MQTT 3.1.1: the broker refuses the user name or password of the CONNECT (or wanted some and got none).",
        &[MqttRejected],
    ),
    mqtt(
        "CONNACK_REFUSED_NOT_AUTHORIZED",
        "MQTT 3.1.1: the broker accepted the TLS handshake but does not authorise this client: its ACL or policy for this identity (client certificate, user name) and client id. AWS IoT Core does not answer so: it closes the connection (mqtt-closed-after-connect).",
        &[MqttRejected],
    ),
    mqtt(
        "MQTT_RC_UNSPECIFIED",
        "MQTT 5: the broker refuses without saying why; its log says.",
        &[MqttRejected],
    ),
    mqtt(
        "MQTT_RC_MALFORMED_PACKET",
        "MQTT 5: the broker could not parse the client's packet: a client library bug or a version mismatch (a 3.1.1 packet read as 5).",
        &[MqttRejected],
    ),
    mqtt(
        "MQTT_RC_PROTOCOL_ERROR",
        "MQTT 5: the client broke the protocol (a second CONNECT, a property not allowed here).",
        &[MqttRejected],
    ),
    mqtt(
        "MQTT_RC_IMPLEMENTATION_SPECIFIC",
        "MQTT 5: the broker refuses for a reason of its own; its log says.",
        &[MqttRejected],
    ),
    mqtt(
        "MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION",
        "MQTT 5: the broker does not speak the protocol level of the CONNECT. Configure the client for the version the broker accepts (3.1.1 or 5).",
        &[MqttRejected],
    ),
    mqtt(
        "MQTT_RC_CLIENTID_NOT_VALID",
        "MQTT 5: the broker refuses the client id (empty, too long, characters or a prefix it does not allow).",
        &[MqttRejected],
    ),
    mqtt(
        "MQTT_RC_BAD_USERNAME_OR_PASSWORD",
        "MQTT 5: the broker refuses the user name or password of the CONNECT (or wanted some and got none).",
        &[MqttRejected],
    ),
    mqtt(
        "MQTT_RC_NOT_AUTHORIZED",
        "MQTT 5: the broker accepted the TLS handshake but does not authorise this client: its ACL or policy for this identity (client certificate, user name) and client id.",
        &[MqttRejected],
    ),
    mqtt(
        "MQTT_RC_SERVER_UNAVAILABLE",
        "MQTT 5: the broker is not taking connections now. Retry with back-off.",
        &[MqttRejected],
    ),
    mqtt(
        "MQTT_RC_SERVER_BUSY",
        "MQTT 5: the broker is busy. Retry with back-off.",
        &[MqttRejected],
    ),
    mqtt(
        "MQTT_RC_BANNED",
        "MQTT 5: the broker's operator has banned this client.",
        &[MqttRejected],
    ),
    mqtt(
        "MQTT_RC_BAD_AUTHENTICATION_METHOD",
        "MQTT 5: the broker does not support the authentication method of the CONNECT (the Authentication Method property).",
        &[MqttRejected],
    ),
    mqtt(
        "MQTT_RC_KEEP_ALIVE_TIMEOUT",
        "MQTT 5, DISCONNECT: the client sent nothing within one and a half keep-alive periods: it stopped sending PINGREQ (a blocked loop, a sleeping radio) or its keep-alive is longer than the network keeps idle connections.",
        &[],
    ),
    mqtt(
        "MQTT_RC_SESSION_TAKEN_OVER",
        "MQTT 5, DISCONNECT: another connection with the same client id took this session over. Two devices (or two processes) share a client id, or a reconnect loop races itself; AWS IoT Core logs it as DUPLICATE_CLIENTID.",
        &[],
    ),
    mqtt(
        "MQTT_RC_PACKET_TOO_LARGE",
        "MQTT 5: a packet is larger than the broker's maximum packet size (AWS IoT Core: 128 KB).",
        &[],
    ),
    mqtt(
        "MQTT_RC_QUOTA_EXCEEDED",
        "MQTT 5: the client exceeded a quota of the broker (messages, connections, throughput).",
        &[],
    ),
    mqtt(
        "MQTT_RC_ADMINISTRATIVE_ACTION",
        "MQTT 5, DISCONNECT: the broker's operator ended the connection (a certificate deactivated, a policy changed).",
        &[],
    ),
    mqtt(
        "MQTT_RC_USE_ANOTHER_SERVER",
        "MQTT 5: the broker sends the client elsewhere (Server Reference property), for now.",
        &[MqttRejected],
    ),
    mqtt(
        "MQTT_RC_SERVER_MOVED",
        "MQTT 5: the broker sends the client elsewhere (Server Reference property), for good: update the endpoint.",
        &[MqttRejected],
    ),
    mqtt(
        "MQTT_RC_CONNECTION_RATE_EXCEEDED",
        "MQTT 5: the client connects too often. Reconnect with back-off (AWS IoT Core limits connections per client id per second).",
        &[MqttRejected],
    ),
];

const fn mqtt(name: &'static str, meaning: &'static str, causes: &'static [CauseId]) -> Note {
    Note {
        name,
        meaning,
        sender: Some("The MQTT broker, after a successful TLS handshake."),
        causes,
        next: Next::Mqtt,
    }
}
