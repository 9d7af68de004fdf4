//! What a client offers in its ClientHello (versions, cipher suites, groups, signature schemes,
//! SNI, ALPN), read from names as IANA and OpenSSL spell them, and what of it rustls cannot
//! offer: a device's offer is often not one rustls would make.

use super::client::{Restrict, TlsVersion};
use crate::model::codes;

/// A ClientHello's offer. An empty list leaves that part to iotdoctor's own offer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offer {
    /// TLS versions (wire codes), in the order offered; empty: TLS 1.3 and 1.2.
    pub versions: Vec<u16>,
    /// Cipher suites (IANA codes), most preferred first.
    pub suites: Vec<u16>,
    /// Named groups (IANA codes), most preferred first.
    pub groups: Vec<u16>,
    /// Signature schemes (IANA codes), most preferred first.
    pub sigalgs: Vec<u16>,
    /// Whether the device sends SNI; `None`: as --sni / --no-sni say.
    pub sni: Option<bool>,
    /// The device's ALPN protocols; `None`: as --alpn says.
    pub alpn: Option<Vec<String>>,
    /// Where the offer comes from, in words ("the preset esp-idf-default").
    pub source: Option<String>,
    /// The max_fragment_length extension (RFC 6066) to send: 1..=4 ask for records of at
    /// most 512, 1024, 2048 or 4096 bytes; `None` sends none.
    pub max_fragment_length: Option<u8>,
}

pub const TLS10: u16 = 0x0301;
pub const TLS11: u16 = 0x0302;
pub const TLS12: u16 = 0x0303;
pub const TLS13: u16 = 0x0304;
/// TLS_EMPTY_RENEGOTIATION_INFO_SCSV: rustls sends it of its own accord.
pub const RENEGOTIATION_SCSV: u16 = 0x00ff;

/// Groups offered when an offer names none (the key shares iotdoctor can make come first).
pub const DEFAULT_GROUPS: &[u16] = &[0x001d, 0x0017, 0x0018];
/// Signature schemes offered when an offer names none: what rustls offers.
pub const DEFAULT_SIGALGS: &[u16] = &[
    0x0403, 0x0503, 0x0603, 0x0807, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601,
];

impl Offer {
    /// The versions offered, highest first.
    pub fn versions(&self) -> Vec<u16> {
        if self.versions.is_empty() {
            vec![TLS13, TLS12]
        } else {
            let mut versions = self.versions.clone();
            versions.sort_unstable_by(|a, b| b.cmp(a));
            versions.dedup();
            versions
        }
    }

    /// Whether nothing but the versions differs from iotdoctor's own offer.
    pub fn is_default(&self) -> bool {
        self.suites.is_empty()
            && self.groups.is_empty()
            && self.sigalgs.is_empty()
            && self.sni.is_none()
            && self.alpn.is_none()
            && self.max_fragment_length.is_none()
    }

    /// A line saying what is offered, for a note.
    pub fn describe(&self) -> String {
        let names = |codes: &[u16], name: fn(u16) -> codes::Named| {
            shortened(codes.iter().map(|&c| name(c).to_string()).collect())
        };
        let mut parts = vec![format!(
            "versions {}",
            names(&self.versions(), codes::version)
        )];
        if !self.suites.is_empty() {
            parts.push(format!(
                "cipher suites {}",
                names(&self.suites, codes::cipher_suite)
            ));
        }
        if !self.groups.is_empty() {
            parts.push(format!("groups {}", names(&self.groups, codes::group)));
        }
        if !self.sigalgs.is_empty() {
            parts.push(format!(
                "signature schemes {}",
                names(&self.sigalgs, codes::signature_scheme)
            ));
        }
        match self.sni {
            Some(true) => parts.push("SNI".into()),
            Some(false) => parts.push("no SNI".into()),
            None => {}
        }
        if let Some(alpn) = &self.alpn {
            if alpn.is_empty() {
                parts.push("no ALPN".into());
            } else {
                parts.push(format!("ALPN {}", alpn.join(", ")));
            }
        }
        if let Some(code) = self.max_fragment_length {
            parts.push(format!("max_fragment_length {code}"));
        }
        parts.join("; ")
    }
}

/// How rustls makes an offer: the version it is limited to and what its provider and verifier
/// offer.
pub struct RustlsOffer {
    pub tls: Option<TlsVersion>,
    pub restrict: Restrict,
}

/// The offer as rustls can make it, or each part of it rustls cannot offer, in words.
pub fn for_rustls(offer: &Offer) -> Result<RustlsOffer, Vec<String>> {
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let mut cannot = Vec::new();
    let versions = offer.versions();
    let tls = match versions.as_slice() {
        [TLS13, TLS12] => None,
        [TLS13] => Some(TlsVersion::V13),
        [TLS12] => Some(TlsVersion::V12),
        _ => {
            let old: Vec<String> = versions
                .iter()
                .filter(|&&v| v != TLS12 && v != TLS13)
                .map(|&v| codes::version(v).to_string())
                .collect();
            cannot.push(format!(
                "{} (rustls offers only TLS 1.2 and 1.3)",
                old.join(", ")
            ));
            None
        }
    };
    if offer.max_fragment_length.is_some() {
        cannot.push("max_fragment_length (rustls never sends it)".into());
    }
    let mut restrict = Restrict::default();
    let mut suites_missing = Vec::new();
    for &code in &offer.suites {
        // rustls sends the renegotiation SCSV of its own accord.
        if code == RENEGOTIATION_SCSV {
            continue;
        }
        match provider
            .cipher_suites
            .iter()
            .chain(rustls::crypto::aws_lc_rs::ALL_CIPHER_SUITES)
            .find(|s| u16::from(s.suite()) == code)
        {
            Some(suite) if !restrict.suites.iter().any(|s| s.suite() == suite.suite()) => {
                restrict.suites.push(*suite)
            }
            Some(_) => {}
            None => suites_missing.push(codes::cipher_suite(code).to_string()),
        }
    }
    if !suites_missing.is_empty() {
        cannot.push(format!(
            "{} (rustls has only AES-GCM and ChaCha20-Poly1305 suites with ECDHE)",
            shortened(suites_missing)
        ));
    }
    let mut groups_missing = Vec::new();
    for &code in &offer.groups {
        match rustls::crypto::aws_lc_rs::ALL_KX_GROUPS
            .iter()
            .find(|g| u16::from(g.name()) == code)
        {
            Some(group) => restrict.groups.push(*group),
            None => groups_missing.push(codes::group(code).to_string()),
        }
    }
    if !groups_missing.is_empty() {
        cannot.push(format!("the group(s) {}", shortened(groups_missing)));
    }
    let verifiable = provider
        .signature_verification_algorithms
        .supported_schemes();
    let mut schemes_missing = Vec::new();
    for &code in &offer.sigalgs {
        let scheme = rustls::SignatureScheme::from(code);
        if verifiable.contains(&scheme) {
            restrict.schemes.push(scheme);
        } else {
            schemes_missing.push(codes::signature_scheme(code).to_string());
        }
    }
    if !schemes_missing.is_empty() {
        cannot.push(format!(
            "the signature scheme(s) {}",
            shortened(schemes_missing)
        ));
    }
    // The suites left must serve a version offered, or rustls would refuse to start.
    if cannot.is_empty() && !restrict.suites.is_empty() {
        let serves = |v: u16| {
            restrict
                .suites
                .iter()
                .any(|s| u16::from(s.version().version) == v)
        };
        if !versions.iter().any(|&v| serves(v)) {
            cannot.push("cipher suites of no version offered".into());
        }
    }
    if cannot.is_empty() {
        Ok(RustlsOffer { tls, restrict })
    } else {
        Err(cannot)
    }
}

/// The cipher suites rustls offers of its own accord, for a ClientHello that names none.
pub fn rustls_suites() -> Vec<u16> {
    rustls::crypto::aws_lc_rs::default_provider()
        .cipher_suites
        .iter()
        .map(|s| u16::from(s.suite()))
        .collect()
}

/// Fails when the lists cannot make a ClientHello at all: suites none of whose versions are
/// offered.
pub fn check(offer: &Offer) -> Result<(), String> {
    if offer.suites.is_empty() {
        return Ok(());
    }
    let versions = offer.versions();
    let tls13_suite = |c: u16| (0x1301..=0x1305).contains(&c);
    let usable = offer.suites.iter().any(|&c| {
        if tls13_suite(c) {
            versions.contains(&TLS13)
        } else {
            c == RENEGOTIATION_SCSV || versions.iter().any(|&v| v < TLS13)
        }
    });
    if usable && offer.suites.iter().any(|&c| c != RENEGOTIATION_SCSV) {
        Ok(())
    } else {
        let offered = versions
            .iter()
            .map(|&v| codes::version(v).to_string())
            .collect::<Vec<_>>()
            .join(", ");
        Err(format!(
            "--ciphers names no suite of the version(s) offered ({offered}): TLS 1.3 has only its \
             own five suites (TLS_AES_128_GCM_SHA256 ...), and they serve no other version"
        ))
    }
}

/// The first few of a long list, and how many more: the ClientHello in the transcript lists
/// them all.
fn shortened(names: Vec<String>) -> String {
    const SHOWN: usize = 8;
    match names.len() {
        n if n > SHOWN => format!("{} (+{} more)", names[..SHOWN].join(", "), n - SHOWN),
        _ => names.join(", "),
    }
}

/// Splits a list the way OpenSSL and the IANA-minded both write them: `,`, `:` or spaces.
fn items(list: &str) -> impl Iterator<Item = &str> {
    list.split([',', ':', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A code written as hex (`0xc0ae`), for values no table names.
fn hex(item: &str) -> Option<u16> {
    let digits = item
        .strip_prefix("0x")
        .or_else(|| item.strip_prefix("0X"))?;
    u16::from_str_radix(digits, 16).ok()
}

/// Cipher suites named by IANA (`TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`), OpenSSL
/// (`ECDHE-ECDSA-AES128-GCM-SHA256`) or code (`0xc02b`).
pub fn parse_suites(list: &str) -> Result<Vec<u16>, String> {
    parse(list, "cipher suite", &suite_names())
}

/// Groups named by IANA (`x25519`, `secp256r1`), OpenSSL (`P-256`, `prime256v1`) or code.
pub fn parse_groups(list: &str) -> Result<Vec<u16>, String> {
    let mut names: Vec<(String, u16)> = (0..=0x0104u16)
        .chain([0x0200, 0x0201, 0x0202, 0x11eb, 0x11ec, 0x11ed])
        .filter_map(|c| codes::group(c).name.map(|n| (n.to_string(), c)))
        .filter(|(n, _)| n != "GREASE")
        .collect();
    for (alias, code) in [
        ("P-256", 0x0017),
        ("prime256v1", 0x0017),
        ("P-384", 0x0018),
        ("P-521", 0x0019),
    ] {
        names.push((alias.to_string(), code));
    }
    parse(list, "group", &names)
}

/// Signature schemes named by IANA (`ecdsa_secp256r1_sha256`), OpenSSL (`ECDSA+SHA256`,
/// `RSA-PSS+SHA256`) or code.
pub fn parse_sigalgs(list: &str) -> Result<Vec<u16>, String> {
    let mut names: Vec<(String, u16)> = (0x0201..=0x0906u16)
        .filter_map(|c| codes::signature_scheme(c).name.map(|n| (n.to_string(), c)))
        .filter(|(n, _)| n != "GREASE")
        .collect();
    for (alias, code) in [
        ("ECDSA+SHA1", 0x0203),
        ("ECDSA+SHA256", 0x0403),
        ("ECDSA+SHA384", 0x0503),
        ("ECDSA+SHA512", 0x0603),
        ("RSA+SHA1", 0x0201),
        ("RSA+SHA256", 0x0401),
        ("RSA+SHA384", 0x0501),
        ("RSA+SHA512", 0x0601),
        ("RSA-PSS+SHA256", 0x0804),
        ("RSA-PSS+SHA384", 0x0805),
        ("RSA-PSS+SHA512", 0x0806),
    ] {
        names.push((alias.to_string(), code));
    }
    parse(list, "signature scheme", &names)
}

/// Every cipher suite tls-parser names, by its IANA name and its OpenSSL name.
fn suite_names() -> Vec<(String, u16)> {
    let mut names = Vec::new();
    for (&code, suite) in tls_parser::CIPHERS.entries() {
        names.push((suite.name.to_string(), code));
        if let Some(openssl) = openssl_name(suite.name) {
            names.push((openssl, code));
        }
    }
    names.sort();
    names
}

/// The OpenSSL name of a cipher suite, made from its IANA name by OpenSSL's rules of naming
/// (TLS 1.3 suites keep their IANA names).
pub fn openssl_name(iana: &str) -> Option<String> {
    let rest = iana.strip_prefix("TLS_")?;
    let Some((exchange, cipher)) = rest.split_once("_WITH_") else {
        return Some(iana.to_string());
    };
    let psk = exchange.contains("PSK");
    let exchange = match exchange {
        "RSA" => "",
        "ECDHE_ECDSA" => "ECDHE-ECDSA-",
        // OpenSSL leaves RSA out of these two names alone.
        "ECDHE_RSA" if cipher.starts_with("ARIA") => "ECDHE-",
        "ECDHE_RSA" => "ECDHE-RSA-",
        "DHE_RSA" => "DHE-RSA-",
        "DHE_DSS" => "DHE-DSS-",
        "DH_anon" => "ADH-",
        "ECDH_anon" => "AECDH-",
        "PSK" => "PSK-",
        "ECDHE_PSK" => "ECDHE-PSK-",
        // tls-parser's name of the two DHE-PSK CCM_8 suites.
        "DHE_PSK" | "PSK_DHE" => "DHE-PSK-",
        "RSA_PSK" => "RSA-PSK-",
        "SRP_SHA" => "SRP-",
        "SRP_SHA_RSA" => "SRP-RSA-",
        "SRP_SHA_DSS" => "SRP-DSS-",
        _ => return None,
    };
    if exchange.starts_with("SRP") {
        return Some(format!("{exchange}{}", cipher.replace('_', "-")));
    }
    let (cipher, mac) = match cipher.rsplit_once('_') {
        Some((cipher, mac @ ("MD5" | "SHA" | "SHA256" | "SHA384"))) => (cipher, Some(mac)),
        _ => (cipher, None),
    };
    let cipher = match cipher {
        "3DES_EDE_CBC" => {
            // OpenSSL's oldest names: EDH for DHE, DES-CBC3 for 3DES.
            let exchange = exchange.replace("DHE-RSA-", "EDH-RSA-");
            return Some(format!("{exchange}DES-CBC3-{}", mac?));
        }
        "NULL" => return Some(format!("{exchange}NULL-{}", mac?)),
        "CHACHA20_POLY1305" => return Some(format!("{exchange}CHACHA20-POLY1305")),
        other => other,
    };
    let mut words = cipher.split('_');
    let algorithm = words.next()?;
    let bits = words.next()?;
    let mode: Vec<&str> = words.collect();
    let mode = match mode.as_slice() {
        // PSK suites with AES alone keep CBC in their OpenSSL names.
        ["CBC"] if psk && algorithm == "AES" => Some("CBC"),
        ["CBC"] => None,
        ["GCM"] => Some("GCM"),
        ["CCM"] => Some("CCM"),
        ["CCM", "8"] => Some("CCM8"),
        _ => return None,
    };
    let mut name = format!("{exchange}{algorithm}{bits}");
    if let Some(mode) = mode {
        name.push('-');
        name.push_str(mode);
    }
    if let Some(mac) = mac
        && mode != Some("CCM")
        && mode != Some("CCM8")
    {
        name.push('-');
        name.push_str(mac);
    }
    Some(name)
}

fn parse(list: &str, what: &str, names: &[(String, u16)]) -> Result<Vec<u16>, String> {
    let mut codes = Vec::new();
    for item in items(list) {
        let code = hex(item).or_else(|| {
            names
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(item))
                .map(|&(_, code)| code)
        });
        match code {
            Some(code) if !codes.contains(&code) => codes.push(code),
            Some(_) => {}
            None => {
                let close = close_matches(item, names);
                let hint = if close.is_empty() {
                    String::new()
                } else {
                    format!(" (did you mean {}?)", close.join(", "))
                };
                return Err(format!("unknown {what} '{item}'{hint}"));
            }
        }
    }
    if codes.is_empty() {
        return Err(format!("the list names no {what}"));
    }
    Ok(codes)
}

/// The names nearest to a mistyped one: the fewest edits, ignoring case and `-` against `_`.
fn close_matches(item: &str, names: &[(String, u16)]) -> Vec<String> {
    let norm = |s: &str| s.to_ascii_uppercase().replace('-', "_");
    let wanted = norm(item);
    let limit = (wanted.len() / 4).max(2);
    let mut scored: Vec<(usize, &str)> = names
        .iter()
        .map(|(name, _)| {
            let candidate = norm(name);
            let distance = if candidate.contains(&wanted) && wanted.len() >= 4 {
                candidate.len() - wanted.len()
            } else {
                edits(&wanted, &candidate)
            };
            (distance, name.as_str())
        })
        .filter(|&(d, _)| d <= limit)
        .collect();
    scored.sort();
    let mut shown: Vec<String> = Vec::new();
    for (_, name) in scored {
        if !shown.iter().any(|s| s == name) {
            shown.push(name.to_string());
        }
        if shown.len() == 3 {
            break;
        }
    }
    shown
}

/// Levenshtein distance.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suites_are_named_as_iana_and_openssl_name_them() {
        assert_eq!(
            parse_suites("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256").unwrap(),
            [0xc02b]
        );
        assert_eq!(
            parse_suites("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-CCM8").unwrap(),
            [0xc02b, 0xc0ae]
        );
        assert_eq!(
            parse_suites("AES128-SHA, ECDHE-RSA-AES256-SHA384,TLS_AES_128_GCM_SHA256").unwrap(),
            [0x002f, 0xc028, 0x1301]
        );
        assert_eq!(parse_suites("EDH-RSA-DES-CBC3-SHA").unwrap(), [0x0016]);
        assert_eq!(
            parse_suites("ECDHE-ECDSA-CHACHA20-POLY1305").unwrap(),
            [0xcca9]
        );
        assert_eq!(parse_suites("0xc0ae").unwrap(), [0xc0ae]);
    }

    #[test]
    fn an_unknown_name_lists_the_close_ones() {
        let error = parse_suites("ECDHE-ECDSA-AES128-GCM-SHA265").unwrap_err();
        assert!(error.contains("unknown cipher suite 'ECDHE-ECDSA-AES128-GCM-SHA265'"));
        assert!(error.contains("ECDHE-ECDSA-AES128-GCM-SHA256"), "{error}");
        let error = parse_groups("x25591").unwrap_err();
        assert!(error.contains("x25519"), "{error}");
        let error = parse_sigalgs("ecdsa_secp256r1_sha384").unwrap_err();
        assert!(error.contains("ecdsa_secp256r1_sha256"), "{error}");
    }

    #[test]
    fn rustls_makes_what_it_can_and_names_what_it_cannot() {
        let offer = Offer {
            versions: vec![TLS12],
            suites: vec![0xc02b, RENEGOTIATION_SCSV],
            groups: vec![0x0017],
            sigalgs: vec![0x0403],
            ..Offer::default()
        };
        let rustls = for_rustls(&offer).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(rustls.tls, Some(TlsVersion::V12));
        assert_eq!(rustls.restrict.suites.len(), 1);
        let device = Offer {
            versions: vec![TLS11, TLS10],
            suites: vec![0xc0ae, 0xc02b],
            groups: vec![0x0019],
            sigalgs: vec![0x0201],
            ..Offer::default()
        };
        let cannot = for_rustls(&device).err().expect("rustls cannot");
        let all = cannot.join("; ");
        for expected in [
            "TLSv1.1, TLSv1.0",
            "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
            "secp521r1",
            "rsa_pkcs1_sha1",
        ] {
            assert!(all.contains(expected), "{all}");
        }
        assert!(
            !all.contains("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
            "{all}"
        );
    }

    #[test]
    fn groups_and_schemes_take_openssl_spellings() {
        assert_eq!(
            parse_groups("x25519:P-256,secp384r1").unwrap(),
            [0x1d, 0x17, 0x18]
        );
        assert_eq!(
            parse_sigalgs("ECDSA+SHA256:rsa_pss_rsae_sha256").unwrap(),
            [0x0403, 0x0804]
        );
    }
}
