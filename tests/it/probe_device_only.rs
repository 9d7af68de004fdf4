//! `probe --like` with the parts of a device's offer rustls cannot make, each alone in a
//! ClientHello of iotdoctor's own against real `openssl s_server` processes: TLS 1.0, groups
//! rustls lacks (a TLS 1.3 server names one in its HelloRetryRequest, a TLS 1.2 server in its
//! ServerKeyExchange), signature schemes rustls cannot verify (TLS 1.2 only), and the device's
//! whole offer when rustls can make none of one part of it.

use crate::common::*;
use serde_json::Value;

fn probe_like(server: &OpenSslServer, like: &str) -> Value {
    let (code, report) = iotdoctor_json(&["probe", &server.endpoint(), "--like", like]);
    assert_eq!(code, 0, "{report:#}");
    let connections = report["probe"]["connections"].as_u64().unwrap();
    assert!(connections <= 60, "{connections} connections");
    report
}

/// The device's item named `name` ("group x448"), as the `like` section lists it.
fn item<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["probe"]["like"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name}: {:#}", report["probe"]["like"]))
}

/// Asserts that the server's own table `section` ("groups") lists `name` with `result`.
fn assert_listed(report: &Value, section: &str, name: &str, result: &str) {
    let checks = &report["probe"][section];
    assert!(
        checks
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == name && c["result"] == result),
        "{name} {result}: {checks:#}"
    );
}

fn detail(check: &Value) -> &str {
    check["detail"].as_str().unwrap_or("")
}

fn server_with_groups(groups: &str) -> OpenSslServer {
    OpenSslServer::start(&["-groups", groups, "-naccept", "200"])
}

#[test]
fn a_tls13_devices_groups_rustls_lacks_are_read_from_the_hello_retry_request() {
    // The device offers x448, secp521r1 and ffdhe2048 in TLS 1.3; the server takes
    // secp521r1 and secp256r1 only.
    let server = server_with_groups("secp521r1:P-256");
    let report = probe_like(&server, &pcap("like-tls13-rare-groups.pcap"));

    let p521 = item(&report, "group secp521r1");
    assert_eq!(p521["result"], "accepted", "{p521}");
    assert!(
        detail(p521).starts_with("its HelloRetryRequest asked for a key share on it"),
        "{p521}"
    );
    for refused in ["group x448", "group ffdhe2048"] {
        let check = item(&report, refused);
        assert_eq!(check["result"], "refused", "{check}");
        assert!(
            detail(check).contains("the handshake not completed"),
            "{check}"
        );
    }

    // rustls has none of the device's groups: its whole offer went in a hello of iotdoctor's
    // own, which the server answered by asking for a share on the group it takes.
    let together = &report["probe"]["like"]["together"];
    assert_eq!(together["name"], "all of the device's offer, together");
    assert_eq!(together["result"], "accepted", "{together}");
    assert!(
        detail(together).contains("key share on secp521r1"),
        "{together}"
    );

    // A TLS 1.3 server signs in encrypted records: schemes rustls cannot verify stay untested,
    // and say why.
    let ed448 = item(&report, "signature scheme ed448");
    assert_eq!(ed448["result"], "not-tested", "{ed448}");
    assert!(detail(ed448).contains("encrypted"), "{ed448}");
}

#[test]
fn a_tls12_devices_groups_rustls_lacks_are_read_from_the_server_key_exchange() {
    let server = server_with_groups("secp521r1:P-256");
    let report = probe_like(&server, "wolfssl-5-default");

    let p521 = item(&report, "group secp521r1");
    assert_eq!(p521["result"], "accepted", "{p521}");
    assert_eq!(p521["version"], "TLSv1.2", "{p521}");
    // Listed first, with iotdoctor's own groups after it, the brainpool curve was passed over.
    let brainpool = item(&report, "group brainpoolP256r1");
    assert_eq!(brainpool["result"], "refused", "{brainpool}");
    assert!(
        detail(brainpool).starts_with("the server chose secp256r1 instead"),
        "{brainpool}"
    );
    // The same group in the server's own table, with rustls's groups.
    assert_listed(&report, "groups", "secp521r1", "accepted");
    assert_listed(&report, "groups", "x25519", "refused");
}

#[test]
fn a_tls12_devices_schemes_rustls_cannot_verify_are_read_from_the_server_key_exchange() {
    // SHA-1 signatures need security level 0 in OpenSSL 3.
    let lenient = OpenSslServer::start(&["-cipher", "DEFAULT:@SECLEVEL=0", "-naccept", "200"]);
    let report = probe_like(&lenient, "wolfssl-5-default");
    let sha1 = item(&report, "signature scheme ecdsa_sha1");
    assert_eq!(sha1["result"], "accepted", "{sha1}");
    assert_eq!(sha1["version"], "TLSv1.2", "{sha1}");
    // The server's key is EC P-256: it cannot sign with an RSA-PSS key's scheme or Ed448.
    for refused in [
        "signature scheme ed448",
        "signature scheme rsa_pss_pss_sha256",
    ] {
        assert_eq!(item(&report, refused)["result"], "refused", "{report:#}");
    }

    let strict = OpenSslServer::start(&["-naccept", "200"]);
    let report = probe_like(&strict, "wolfssl-5-default");
    assert_eq!(
        item(&report, "signature scheme ecdsa_sha1")["result"],
        "refused",
        "{report:#}"
    );
}

#[test]
fn an_old_devices_version_is_offered_alone() {
    let device = pcap("like-tls10-device.pcap");
    // Debian's OpenSSL speaks nothing older than TLS 1.2 by default.
    let modern = OpenSslServer::start(&["-naccept", "200"]);
    let report = probe_like(&modern, &device);
    let tls10 = item(&report, "version TLSv1.0");
    assert_eq!(tls10["result"], "refused", "{tls10}");
    assert!(detail(tls10).starts_with("alert "), "{tls10}");
    assert_eq!(
        report["probe"]["like"]["together"]["result"], "refused",
        "{report:#}"
    );

    let old = OpenSslServer::start(&[
        "-min_protocol",
        "TLSv1",
        "-cipher",
        "DEFAULT:@SECLEVEL=0",
        "-naccept",
        "200",
    ]);
    let report = probe_like(&old, &device);
    let tls10 = item(&report, "version TLSv1.0");
    assert_eq!(tls10["result"], "accepted", "{tls10}");
    assert_eq!(tls10["version"], "TLSv1.0", "{tls10}");
    assert_listed(&report, "versions", "TLSv1.0", "accepted");
}
