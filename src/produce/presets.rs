//! What a device offers, for `connect --like`: the ClientHello of a capture, or a preset of a TLS
//! stack's default offer. Each preset says where its lists come from.

use std::path::Path;

use super::analyze;
use super::offer::{Offer, TLS12};
use crate::error::{Error, InputProblem};
use crate::model::Handshake;

/// A TLS stack's default ClientHello.
pub struct Preset {
    pub name: &'static str,
    pub versions: &'static [u16],
    pub suites: &'static [u16],
    pub groups: &'static [u16],
    pub sigalgs: &'static [u16],
    /// The ALPN protocol the stack's client sends on port 443 only.
    pub alpn_on_443: Option<&'static str>,
}

/// mbedTLS 2.28's TLS 1.2 client with `mbedtls_ssl_config_defaults(MBEDTLS_SSL_PRESET_DEFAULT)`:
/// the order of `ciphersuite_preference[]` in library/ssl_ciphersuites.c, keeping the suites the
/// default include/mbedtls/config.h builds (no ARIA or NULL) that a client without a PSK offers
/// (ssl_cli.c leaves the PSK suites out then); groups in the order of
/// `ecp_supported_curves[]` (library/ecp.c); signature schemes from
/// `ssl_write_signature_algorithms_ext` (library/ssl_cli.c: SHA-512 down to SHA-224, ECDSA
/// before RSA). Checked against the ClientHello of Debian 12's libmbedtls14 2.28.3 in
/// fixtures/pcaps/like-mbedtls-2.28.pcap (gen-like.sh).
const MBEDTLS_228_SUITES: &[u16] = &[
    0xcca8, 0xcca9, 0xccaa, 0xc02c, 0xc030, 0x009f, 0xc0ad, 0xc09f, 0xc024, 0xc028, 0x006b, 0xc00a,
    0xc014, 0x0039, 0xc0af, 0xc0a3, 0xc087, 0xc08b, 0xc07d, 0xc073, 0xc077, 0x00c4, 0x0088, 0xc02b,
    0xc02f, 0x009e, 0xc0ac, 0xc09e, 0xc023, 0xc027, 0x0067, 0xc009, 0xc013, 0x0033, 0xc0ae, 0xc0a2,
    0xc086, 0xc08a, 0xc07c, 0xc072, 0xc076, 0x00be, 0x0045, 0x009d, 0xc09d, 0x003d, 0x0035, 0xc032,
    0xc02a, 0xc00f, 0xc02e, 0xc026, 0xc005, 0xc0a1, 0xc07b, 0x00c0, 0x0084, 0xc08d, 0xc079, 0xc089,
    0xc075, 0x009c, 0xc09c, 0x003c, 0x002f, 0xc031, 0xc029, 0xc00e, 0xc02d, 0xc025, 0xc004, 0xc0a0,
    0xc07a, 0x00ba, 0x0041, 0xc08c, 0xc078, 0xc088, 0xc074, 0x00ff,
];
const MBEDTLS_228_GROUPS: &[u16] = &[
    0x0019, 0x001c, 0x0018, 0x001b, 0x0017, 0x0016, 0x001a, 0x0015, 0x0014, 0x0013, 0x0012, 0x001d,
    0x001e,
];
const MBEDTLS_228_SIGALGS: &[u16] = &[
    0x0603, 0x0601, 0x0503, 0x0501, 0x0403, 0x0401, 0x0303, 0x0301,
];

/// ESP-IDF's mbedTLS with the defaults of components/mbedtls/Kconfig (as read at esp-idf 0109cfe),
/// applied to mbedTLS 2.28, the mbedTLS of ESP-IDF v4.4:
/// MBEDTLS_DHM_C, MBEDTLS_CAMELLIA_C, MBEDTLS_DES_C, MBEDTLS_CHACHA20_C and MBEDTLS_PSK_MODES
/// are off, AES with GCM, CCM and CBC on, key exchanges RSA, ECDHE-RSA, ECDHE-ECDSA, ECDH-RSA and
/// ECDH-ECDSA on, TLS 1.2 only (MBEDTLS_SSL_PROTO_TLS1_3 is off), every curve but Curve448 on:
/// mbedTLS 2.28's `ciphersuite_preference[]` order (above) with what those options leave, and its
/// signature schemes.
const ESP_IDF_SUITES: &[u16] = &[
    0xc02c, 0xc030, 0xc0ad, 0xc024, 0xc028, 0xc00a, 0xc014, 0xc0af, 0xc02b, 0xc02f, 0xc0ac, 0xc023,
    0xc027, 0xc009, 0xc013, 0xc0ae, 0x009d, 0xc09d, 0x003d, 0x0035, 0xc032, 0xc02a, 0xc00f, 0xc02e,
    0xc026, 0xc005, 0xc0a1, 0x009c, 0xc09c, 0x003c, 0x002f, 0xc031, 0xc029, 0xc00e, 0xc02d, 0xc025,
    0xc004, 0xc0a0, 0x00ff,
];
const ESP_IDF_GROUPS: &[u16] = &[
    0x0019, 0x001c, 0x0018, 0x001b, 0x0017, 0x0016, 0x001a, 0x0015, 0x0014, 0x0013, 0x0012, 0x001d,
];

/// wolfSSL 5.5.4's TLS 1.2 client (`wolfTLSv1_2_client_method`) as Debian 12's libwolfssl35
/// (5.5.4-2+deb12u3) builds it: the order of `InitSuites()` in src/internal.c for the suites that
/// build enables, groups from `TLSX_PopulateSupportedGroups` (src/tls.c), schemes from
/// `InitSuitesHashSigAlgo` (src/internal.c). Taken from its ClientHello in
/// fixtures/pcaps/like-wolfssl-5.pcap (gen-like.sh). Debian's configure enables more than
/// `./configure`'s defaults: the PSK, anonymous, RC4 and NULL suites here are that build's.
const WOLFSSL_5_SUITES: &[u16] = &[
    0xc02c, 0xc02b, 0xc030, 0xc02f, 0x009f, 0x009e, 0x00ab, 0x0034, 0x00a7, 0x00aa, 0xcca9, 0xcca8,
    0xccaa, 0xc027, 0xc023, 0xc028, 0xc024, 0xc00a, 0xc009, 0xc007, 0xc008, 0xc014, 0xc013, 0xc011,
    0xc012, 0xc0ac, 0xc0ae, 0xc0af, 0x006b, 0x0067, 0x0039, 0x0033, 0x0016, 0xcc14, 0xcc13, 0xcc15,
    0xc006, 0x00b3, 0x00b2, 0xc0a6, 0xc0a7, 0xccab, 0xccac, 0xccad, 0xc037, 0xd001, 0x00b5, 0xc03a,
    0x00b4, 0x0045, 0x0088, 0x00be, 0x00c4,
];
const WOLFSSL_5_GROUPS: &[u16] = &[
    0x0019, 0x001c, 0x0018, 0x001b, 0x001e, 0x0017, 0x0016, 0x001a, 0x001d, 0x0015, 0x0014, 0x0101,
    0x0100,
];
const WOLFSSL_5_SIGALGS: &[u16] = &[
    0x0603, 0x0503, 0x0403, 0x0203, 0x0807, 0x0808, 0x0806, 0x080b, 0x0805, 0x080a, 0x0804, 0x0809,
    0x0601, 0x0501, 0x0401, 0x0301, 0x0201,
];

pub const PRESETS: &[Preset] = &[
    Preset {
        name: "mbedtls-2.28-default",
        versions: &[TLS12],
        suites: MBEDTLS_228_SUITES,
        groups: MBEDTLS_228_GROUPS,
        sigalgs: MBEDTLS_228_SIGALGS,
        alpn_on_443: None,
    },
    Preset {
        name: "esp-idf-default",
        versions: &[TLS12],
        suites: ESP_IDF_SUITES,
        groups: ESP_IDF_GROUPS,
        sigalgs: MBEDTLS_228_SIGALGS,
        alpn_on_443: None,
    },
    Preset {
        name: "wolfssl-5-default",
        versions: &[TLS12],
        suites: WOLFSSL_5_SUITES,
        groups: WOLFSSL_5_GROUPS,
        sigalgs: WOLFSSL_5_SIGALGS,
        alpn_on_443: None,
    },
    // aws-iot-device-sdk-embedded-C v3 (platform/linux/mbedtls/network_mbedtls_wrapper.c,
    // iot_tls_connect): mbedtls_ssl_config_defaults(MBEDTLS_SSL_PRESET_DEFAULT) with no list of
    // its own, SNI from mbedtls_ssl_set_hostname(pDestinationURL), and ALPN x-amzn-mqtt-ca on
    // port 443 only: mbedTLS 2.28's default offer.
    Preset {
        name: "aws-iot-sdk-c",
        versions: &[TLS12],
        suites: MBEDTLS_228_SUITES,
        groups: MBEDTLS_228_GROUPS,
        sigalgs: MBEDTLS_228_SIGALGS,
        alpn_on_443: Some("x-amzn-mqtt-ca"),
    },
];

/// The names of the presets, for help and errors.
pub fn names() -> Vec<&'static str> {
    PRESETS.iter().map(|p| p.name).collect()
}

/// The offer of `--like WHAT` for a connection to `port`: a preset by name, else a capture
/// file holding the device's ClientHello (the first one, or the one of flow `flow`).
pub fn like(what: &str, flow: Option<u64>, port: u16) -> Result<Offer, Error> {
    if let Some(preset) = PRESETS.iter().find(|p| p.name.eq_ignore_ascii_case(what)) {
        return Ok(Offer {
            versions: preset.versions.to_vec(),
            suites: preset.suites.to_vec(),
            groups: preset.groups.to_vec(),
            sigalgs: preset.sigalgs.to_vec(),
            sni: Some(true),
            alpn: Some(
                preset
                    .alpn_on_443
                    .filter(|_| port == 443)
                    .map(|p| vec![p.to_string()])
                    .unwrap_or_default(),
            ),
            source: Some(format!("the preset {}", preset.name)),
            max_fragment_length: None,
        });
    }
    let path = Path::new(what);
    if !path.exists() {
        return Err(Error::Usage(format!(
            "--like: '{what}' is neither a capture file nor a preset ({})",
            names().join(", ")
        )));
    }
    capture(path, flow)
}

/// The offer of the first ClientHello of a capture (of flow `flow`).
fn capture(path: &Path, flow: Option<u64>) -> Result<Offer, Error> {
    let mut found: Option<(u64, Offer)> = None;
    analyze::analyze(path, None, |pending| {
        let number = pending.flow();
        if flow.is_some_and(|wanted| wanted != number)
            || found.as_ref().is_some_and(|(first, _)| *first < number)
        {
            return;
        }
        let handshake = pending.decode();
        if let Some((_, hello)) = handshake.transcript.client_hello()
            && let Some(offer) = offer_of(hello)
        {
            found = Some((number, offer));
        }
    })?;
    let (number, mut offer) = found.ok_or_else(|| {
        let which = match flow {
            Some(n) => format!("flow {n} of the capture holds"),
            None => "the capture holds".into(),
        };
        Error::input(
            path,
            InputProblem::WrongKind {
                expected: "a capture holding a TLS ClientHello",
                found: format!("{which} no ClientHello"),
            },
        )
    })?;
    offer.source = Some(format!(
        "the ClientHello of flow {number} of {}",
        path.display()
    ));
    Ok(offer)
}

/// What a decoded ClientHello offers. GREASE values are left out: they stand for nothing.
fn offer_of(hello: &Handshake) -> Option<Offer> {
    let Handshake::ClientHello {
        versions,
        cipher_suites,
        groups,
        signature_schemes,
        sni,
        alpn,
        ..
    } = hello
    else {
        return None;
    };
    let real = |codes: &[crate::model::codes::Named]| -> Vec<u16> {
        codes
            .iter()
            .map(|n| n.code)
            .filter(|c| c & 0x0f0f != 0x0a0a)
            .collect()
    };
    Some(Offer {
        versions: real(versions),
        suites: real(cipher_suites),
        groups: real(groups),
        sigalgs: real(signature_schemes),
        sni: Some(sni.is_some()),
        alpn: Some(alpn.clone()),
        source: None,
        max_fragment_length: None,
    })
}
