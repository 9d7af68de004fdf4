//! What each TLS alert means and who typically sends it: the words evidence lines and
//! `alert-unexplained` use.

/// One sentence on what the sender of this alert is saying.
pub fn meaning(code: u8) -> &'static str {
    match code {
        0 => "the sender is closing the connection normally",
        10 => "the sender received a message it did not expect at this point of the handshake",
        20 => "a record failed its integrity check (wrong keys, corruption, or a middlebox)",
        22 => "a record was too long",
        40 => {
            "the sender could not agree on security parameters; OpenSSL also sends it in TLS 1.2 when a required client certificate is missing"
        }
        41 => "no certificate (SSLv3 only)",
        42 => {
            "the sender rejects the certificate it received (AWS IoT Core also sends it when no client certificate was sent)"
        }
        43 => {
            "the certificate is of a type the sender does not support (key usage, EKU or algorithm)"
        }
        44 => "the certificate was revoked by its issuer",
        45 => "the certificate expired or is not yet valid (check both clocks)",
        46 => "some unspecified problem with the certificate made it unacceptable",
        47 => "a field of the handshake was out of range or inconsistent",
        48 => {
            "the certificate chain does not lead to a CA the sender trusts (or an intermediate is missing)"
        }
        49 => "a valid certificate was received but access was denied",
        50 => "a message could not be decoded",
        51 => {
            "a signature or the Finished check failed: often a private key that does not belong to the certificate"
        }
        70 => "the sender does not support the protocol version offered",
        71 => "the sender requires stronger cipher suites than offered",
        80 => "the sender had an internal error unrelated to the peer",
        86 => "an inappropriate fallback to an older version was detected",
        90 => "the handshake was cancelled by the sender",
        109 => "a mandatory extension is missing",
        110 => "an extension was received that the sender did not offer",
        112 => "the server does not recognise the name sent in SNI (or needs one)",
        113 => "the certificate status (OCSP) response was invalid",
        116 => {
            "the server requires a client certificate and none was sent (an alert of TLS 1.3; rustls servers send it in TLS 1.2 too, where others send 40 or 42)"
        }
        120 => "the server supports none of the ALPN protocols offered",
        _ => "an alert iotdoctor has no description for",
    }
}
