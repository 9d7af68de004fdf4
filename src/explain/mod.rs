//! `explain`: what a TLS alert, an error code of wolfSSL, mbedTLS, OpenSSL or GnuTLS, or an
//! error message pasted from a log means, why it happens and what to run next. Pure: no I/O.
//!
//! [`lookup`] accepts a number (`42`, `-313`, `313`, `-0x7780`, `0x7780`, `-30592`), a symbolic
//! name (`bad_certificate`, `MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE`, `X509_V_ERR_CERT_HAS_EXPIRED`)
//! or a message (`sslv3 alert bad certificate`, a whole log line) and returns every
//! [`Reading`] that fits. The numbers, names and library messages come from `tables.rs`,
//! generated from the libraries' headers and checked against them by the tests; the meanings
//! and causes are written by hand in `notes.rs`.

mod notes;
mod tables;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use serde::Serialize;

use crate::model::CauseId;
use crate::model::codes::alert_name;

use notes::{AlertNote, Next, Note};
use tables::{Entry, Flag};

/// A TLS stack whose codes iotdoctor knows, or the TLS protocol itself (alerts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Stack {
    /// The protocol: alert numbers of RFC 5246 / 8446 and their extensions.
    #[serde(rename = "tls")]
    Tls,
    #[serde(rename = "wolfssl")]
    WolfSsl,
    #[serde(rename = "mbedtls")]
    MbedTls,
    #[serde(rename = "openssl")]
    OpenSsl,
    #[serde(rename = "gnutls")]
    GnuTls,
    /// MQTT's CONNACK return codes (3.1.1) and reason codes (5).
    #[serde(rename = "mqtt")]
    Mqtt,
}

impl Stack {
    /// Every stack, in the order readings are listed.
    pub const ALL: [Stack; 6] = [
        Stack::Tls,
        Stack::WolfSsl,
        Stack::MbedTls,
        Stack::OpenSsl,
        Stack::GnuTls,
        Stack::Mqtt,
    ];

    /// The id used on the command line and in JSON: `tls`, `wolfssl`, `mbedtls`, `openssl`,
    /// `gnutls`, `mqtt`.
    pub fn id(self) -> &'static str {
        match self {
            Stack::Tls => "tls",
            Stack::WolfSsl => "wolfssl",
            Stack::MbedTls => "mbedtls",
            Stack::OpenSsl => "openssl",
            Stack::GnuTls => "gnutls",
            Stack::Mqtt => "mqtt",
        }
    }
}

/// The name as the stack's own documentation writes it: `TLS`, `wolfSSL`, `mbedTLS`,
/// `OpenSSL`, `GnuTLS`.
impl fmt::Display for Stack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stack::Tls => "TLS",
            Stack::WolfSsl => "wolfSSL",
            Stack::MbedTls => "mbedTLS",
            Stack::OpenSsl => "OpenSSL",
            Stack::GnuTls => "GnuTLS",
            Stack::Mqtt => "MQTT",
        })
    }
}

/// A name that is not one of the stacks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown stack '{0}': expected one of tls, wolfssl, mbedtls, openssl, gnutls, mqtt")]
pub struct UnknownStack(pub String);

/// Parses the id or the display name, in any case (`wolfssl`, `wolfSSL`, `mbed-tls`).
impl FromStr for Stack {
    type Err = UnknownStack;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key: String = s
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .collect::<String>()
            .to_ascii_lowercase();
        Stack::ALL
            .into_iter()
            .find(|stack| stack.id() == key)
            .ok_or_else(|| UnknownStack(s.to_string()))
    }
}

/// What one code, alert or message means.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reading {
    pub stack: Stack,
    /// The code as the stack prints it: `42`, `-313`, `-0x7780`, `20`, `0A000086`, `-110`; the
    /// header's value for a verification flag (`0x08`, `0x40`).
    pub code: String,
    /// The symbolic name of the header (`FATAL_ERROR`, `X509_V_ERR_...`), or the alert's name.
    pub name: String,
    /// The library's own text for the code, where it has one.
    pub message: Option<String>,
    /// The versions of the stack this reading holds for, where the same number means something
    /// else in another (mbedTLS `2.x` and `3.x`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versions: Option<&'static str>,
    /// One or two plain sentences for a device developer.
    pub meaning: String,
    /// For alerts and "alert received" errors: who sends it and what it tells.
    pub sender: Option<String>,
    /// The likely causes, most likely first; empty when none of the catalogue fits. In JSON,
    /// each with its summary and fixes.
    #[serde(serialize_with = "causes_with_summaries")]
    pub causes: Vec<CauseId>,
    /// The iotdoctor command to run next.
    pub next: String,
}

fn causes_with_summaries<S: serde::Serializer>(
    causes: &[CauseId],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Summarised {
        id: CauseId,
        summary: &'static str,
        fixes: &'static [&'static str],
    }
    serializer.collect_seq(causes.iter().map(|&id| Summarised {
        id,
        summary: id.summary(),
        fixes: id.fixes(),
    }))
}

/// Every reading of `query`, most specific first; empty when nothing fits. With `stack`, only
/// that stack's readings, plus the TLS alert a reading is about.
pub fn lookup(query: &str, stack: Option<Stack>) -> Vec<Reading> {
    let query = query.trim();
    if query.is_empty() {
        return Vec::new();
    }
    let hits = match parse_number(query) {
        Some(number) => {
            let mut hits = packed_digits_hits(query, stack);
            hits.extend(number_hits(number, stack));
            hits
        }
        None => {
            let mut hits = name_hits(query, stack);
            // A name is one word; words with spaces may also be a message ("certificate verify
            // failed" is SSL_R_CERTIFICATE_VERIFY_FAILED, and wolfSSL's text for -188).
            if hits.is_empty() || query.contains(char::is_whitespace) {
                hits.extend(text_hits(query, stack));
            }
            hits
        }
    };
    let mut seen: Vec<(Stack, String)> = Vec::new();
    let mut readings = Vec::new();
    for hit in with_alerts(hits) {
        if stack.is_some_and(|s| hit.stack() != s && hit.stack() != Stack::Tls) {
            continue;
        }
        let reading = hit.reading();
        let key = (reading.stack, reading.name.clone());
        if !seen.contains(&key) {
            seen.push(key);
            readings.push(reading);
        }
    }
    readings
}

/// One thing a query can designate.
#[derive(Debug, Clone, Copy)]
enum Hit {
    Alert(u8),
    Wolf(&'static Entry),
    Mbed(&'static Entry),
    /// An mbedTLS 3.x SSL code whose number means something else in 2.x.
    Mbed3(&'static Entry),
    /// An mbedTLS code made of a high-level and a low-level part, as `mbedtls_strerror` splits it.
    MbedCombined(&'static Entry, &'static Entry),
    MbedFlag(&'static Flag),
    OsslVerify(&'static Entry),
    /// A result of `SSL_get_error()`.
    OsslGetError(&'static Entry),
    /// A reason of the OpenSSL library numbered `.0` (20 `ssl`, 11 `x509`, 9 `pem`).
    OsslReason(u32, &'static Entry),
    Gnu(&'static Entry),
    /// A CONNACK return code (3.1.1) or reason code (5).
    Mqtt(&'static Entry),
    GnuStatus(&'static Flag),
}

/// OpenSSL's library number of `ssl` (err.h `ERR_LIB_SSL`).
const ERR_LIB_SSL: u32 = 20;
/// OpenSSL turns a received alert N into the `ssl` reason 1000 + N (ssl.h `SSL_AD_REASON_OFFSET`).
const SSL_AD_REASON_OFFSET: i64 = 1000;

impl Hit {
    fn stack(self) -> Stack {
        match self {
            Hit::Alert(_) => Stack::Tls,
            Hit::Wolf(_) => Stack::WolfSsl,
            Hit::Mbed(_) | Hit::Mbed3(_) | Hit::MbedCombined(..) | Hit::MbedFlag(_) => {
                Stack::MbedTls
            }
            Hit::OsslVerify(_) | Hit::OsslGetError(_) | Hit::OsslReason(..) => Stack::OpenSsl,
            Hit::Gnu(_) | Hit::GnuStatus(_) => Stack::GnuTls,
            Hit::Mqtt(_) => Stack::Mqtt,
        }
    }

    /// The alert an OpenSSL "alert received" reason stands for.
    fn alert(self) -> Option<u8> {
        match self {
            Hit::OsslReason(ERR_LIB_SSL, entry) => {
                let code = u8::try_from(entry.code - SSL_AD_REASON_OFFSET).ok()?;
                alert_name(code).map(|_| code)
            }
            _ => None,
        }
    }

    fn reading(self) -> Reading {
        match self {
            Hit::Alert(code) => alert_reading(code),
            Hit::Wolf(entry) => entry_reading(
                Stack::WolfSsl,
                entry.code.to_string(),
                entry,
                note(notes::WOLFSSL, entry.name),
            ),
            Hit::Mbed(entry) => {
                let mut reading = entry_reading(
                    Stack::MbedTls,
                    mbed_code(entry.code),
                    entry,
                    note(notes::MBEDTLS, entry.name),
                );
                if by_code(tables::MBEDTLS3_SSL, entry.code).next().is_some() {
                    reading.versions = Some("2.x");
                }
                reading
            }
            Hit::Mbed3(entry) => {
                let mut reading = entry_reading(
                    Stack::MbedTls,
                    mbed_code(entry.code),
                    entry,
                    note(notes::MBEDTLS, entry.name),
                );
                reading.versions = Some("3.x");
                reading
            }
            Hit::MbedCombined(high, low) => mbed_combined_reading(high, low),
            Hit::MbedFlag(flag) => flag_reading(
                Stack::MbedTls,
                flag.literal.to_string(),
                flag,
                note(notes::MBEDTLS, flag.name),
            ),
            Hit::OsslVerify(entry) => entry_reading(
                Stack::OpenSsl,
                entry.code.to_string(),
                entry,
                note(notes::OPENSSL_VERIFY, entry.name),
            ),
            Hit::OsslGetError(entry) => entry_reading(
                Stack::OpenSsl,
                entry.code.to_string(),
                entry,
                note(notes::OPENSSL_SSL_GET_ERROR, entry.name),
            ),
            Hit::OsslReason(lib, entry) => match self.alert() {
                Some(alert) => openssl_alert_reading(lib, entry, alert),
                None => entry_reading(
                    Stack::OpenSsl,
                    openssl_packed(lib, entry.code),
                    entry,
                    note(notes::OPENSSL_REASONS, entry.name),
                ),
            },
            Hit::Gnu(entry) => entry_reading(
                Stack::GnuTls,
                entry.code.to_string(),
                entry,
                note(notes::GNUTLS, entry.name),
            ),
            Hit::Mqtt(entry) => {
                let mut reading = entry_reading(
                    Stack::Mqtt,
                    mqtt_code(entry.code),
                    entry,
                    note(notes::MQTT, entry.name),
                );
                reading.versions = Some(if entry.code < 0x80 { "3.1.1" } else { "5" });
                reading
            }
            Hit::GnuStatus(flag) => flag_reading(
                Stack::GnuTls,
                format!("0x{:x}", flag.bit),
                flag,
                note(notes::GNUTLS, flag.name),
            ),
        }
    }
}

/// Each hit about an alert is followed by the alert itself.
fn with_alerts(hits: Vec<Hit>) -> Vec<Hit> {
    let mut out = Vec::with_capacity(hits.len());
    for hit in hits {
        out.push(hit);
        if let Some(alert) = hit.alert() {
            out.push(Hit::Alert(alert));
        }
    }
    out
}

fn note(notes: &'static [Note], name: &str) -> Option<&'static Note> {
    notes.iter().find(|note| note.name == name)
}

fn alert_note(code: u8) -> Option<&'static AlertNote> {
    notes::ALERTS.iter().find(|note| note.code == code)
}

/// The causes of an alert: when the server sent it first (what a device receives), then when
/// the client did.
fn alert_causes(note: &AlertNote) -> Vec<CauseId> {
    let mut causes: Vec<CauseId> = Vec::new();
    for cause in note.from_server.iter().chain(note.from_client) {
        if !causes.contains(cause) {
            causes.push(*cause);
        }
    }
    causes
}

fn alert_reading(code: u8) -> Reading {
    let name = alert_name(code).unwrap_or("unknown_alert").to_string();
    match alert_note(code) {
        Some(note) => Reading {
            stack: Stack::Tls,
            code: code.to_string(),
            name,
            message: None,
            versions: None,
            meaning: note.meaning.to_string(),
            sender: Some(note.sender.to_string()),
            causes: alert_causes(note),
            next: note.next.command().to_string(),
        },
        None => Reading {
            stack: Stack::Tls,
            code: code.to_string(),
            name,
            message: None,
            versions: None,
            meaning: "A TLS alert iotdoctor has no notes on.".to_string(),
            sender: None,
            causes: Vec::new(),
            next: Next::ConnectOrAnalyze.command().to_string(),
        },
    }
}

/// The sentence for a code iotdoctor has no notes on.
fn generic_meaning(stack: Stack, message: &str) -> String {
    if message.is_empty() {
        format!(
            "A {stack} code this version of the library has no text for; iotdoctor has no notes on it."
        )
    } else {
        format!("{stack}'s own description: \"{message}\". iotdoctor has no further notes on it.")
    }
}

fn non_empty(message: &str) -> Option<String> {
    (!message.is_empty()).then(|| message.to_string())
}

fn entry_reading(stack: Stack, code: String, entry: &Entry, note: Option<&Note>) -> Reading {
    let message =
        non_empty(entry.message).or_else(|| entry.alt_messages.first().map(|m| m.to_string()));
    noted_reading(stack, code, entry.name, message, note)
}

fn flag_reading(stack: Stack, code: String, flag: &Flag, note: Option<&Note>) -> Reading {
    noted_reading(stack, code, flag.name, non_empty(flag.message), note)
}

fn noted_reading(
    stack: Stack,
    code: String,
    name: &str,
    message: Option<String>,
    note: Option<&Note>,
) -> Reading {
    match note {
        Some(note) => Reading {
            stack,
            code,
            name: name.to_string(),
            message,
            versions: None,
            meaning: note.meaning.to_string(),
            sender: note.sender.map(str::to_string),
            causes: note.causes.to_vec(),
            next: note.next.command().to_string(),
        },
        None => Reading {
            stack,
            code,
            name: name.to_string(),
            meaning: generic_meaning(stack, message.as_deref().unwrap_or_default()),
            message,
            versions: None,
            sender: None,
            causes: Vec::new(),
            next: Next::Connect.command().to_string(),
        },
    }
}

/// An OpenSSL "alert received" reason: the alert's meaning, as OpenSSL's side saw it.
fn openssl_alert_reading(lib: u32, entry: &Entry, alert: u8) -> Reading {
    let name = alert_name(alert).unwrap_or("unknown_alert");
    let (meaning, sender, causes) = match alert_note(alert) {
        Some(note) => (
            note.meaning,
            Some(note.sender.to_string()),
            alert_causes(note),
        ),
        None => ("", None, Vec::new()),
    };
    Reading {
        stack: Stack::OpenSsl,
        code: openssl_packed(lib, entry.code),
        name: entry.name.to_string(),
        message: non_empty(entry.message),
        versions: None,
        meaning: format!(
            "OpenSSL received alert {alert} {name} from the peer (the log line ends with 'SSL alert number {alert}'). {meaning}"
        )
        .trim_end()
        .to_string(),
        sender,
        causes,
        next: Next::ConnectOrAnalyze.command().to_string(),
    }
}

fn mbed_combined_reading(high: &Entry, low: &Entry) -> Reading {
    let code = mbed_code(high.code + low.code);
    let mut reading = entry_reading(
        Stack::MbedTls,
        code.clone(),
        high,
        note(notes::MBEDTLS, high.name),
    );
    reading.name = format!("{} + {}", high.name, low.name);
    reading.message = match (high.message, low.message) {
        ("", "") => None,
        (h, "") => Some(h.to_string()),
        ("", l) => Some(l.to_string()),
        (h, l) => Some(format!("{h} : {l}")),
    };
    let low_text = if low.message.is_empty() {
        String::new()
    } else {
        format!(": \"{}\"", low.message)
    };
    reading.meaning = format!(
        "{code} is {} plus the low-level error {} ({}){low_text}. {}",
        mbed_code(high.code),
        low.name,
        mbed_code(low.code),
        reading.meaning
    );
    reading
}

/// MQTT 5 reason codes are written in hex by the specification (`0x87`); 3.1.1 return codes as
/// small numbers.
fn mqtt_code(code: i64) -> String {
    if code >= 0x80 {
        format!("0x{code:02X}")
    } else {
        code.to_string()
    }
}

/// mbedTLS codes print as `-0x7780`.
fn mbed_code(code: i64) -> String {
    format!("-0x{:04X}", code.unsigned_abs())
}

/// OpenSSL 3 prints a reason as `error:0A000086:...`: the library in the high bits, the reason
/// below (`ERR_PACK`).
fn openssl_packed(lib: u32, reason: i64) -> String {
    format!("{:08X}", (u64::from(lib) << 23) | reason.unsigned_abs())
}

/// A query that is only a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Number {
    negative: bool,
    hex: bool,
    magnitude: u64,
}

fn parse_number(text: &str) -> Option<Number> {
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (hex, digits) = match rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
        Some(digits) => (true, digits),
        None => (false, rest),
    };
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let magnitude = if hex {
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u64::from_str_radix(digits, 16).ok()?
    } else {
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()?
    };
    Some(Number {
        negative,
        hex,
        magnitude,
    })
}

fn by_code(table: &'static [Entry], code: i64) -> impl Iterator<Item = &'static Entry> {
    table.iter().filter(move |entry| entry.code == code)
}

/// The mbedTLS reading(s) of -`magnitude`: the code itself, or its high- and low-level parts.
fn mbed_hits(magnitude: u64) -> Vec<Hit> {
    let Ok(magnitude) = i64::try_from(magnitude) else {
        return Vec::new();
    };
    let exact: Vec<Hit> = by_code(tables::MBEDTLS, -magnitude)
        .map(Hit::Mbed)
        .chain(by_code(tables::MBEDTLS3_SSL, -magnitude).map(Hit::Mbed3))
        .collect();
    if !exact.is_empty() || magnitude > 0xFFFF {
        return exact;
    }
    let (high, low) = (magnitude & 0xFF80, magnitude & 0x007F);
    if high == 0 || low == 0 {
        return Vec::new();
    }
    let high = by_code(tables::MBEDTLS, -high).next();
    let low = by_code(tables::MBEDTLS, -low).next();
    match (high, low) {
        (Some(high), Some(low)) => vec![Hit::MbedCombined(high, low)],
        _ => Vec::new(),
    }
}

fn negative_hits(magnitude: u64, stack: Option<Stack>, mbed_decimal: bool) -> Vec<Hit> {
    let mut hits = Vec::new();
    let Ok(code) = i64::try_from(magnitude).map(|m| -m) else {
        return hits;
    };
    if allows(stack, Stack::WolfSsl) {
        hits.extend(by_code(tables::WOLFSSL, code).map(Hit::Wolf));
    }
    if allows(stack, Stack::GnuTls) {
        hits.extend(by_code(tables::GNUTLS, code).map(Hit::Gnu));
    }
    if mbed_decimal && allows(stack, Stack::MbedTls) {
        hits.extend(mbed_hits(magnitude));
    }
    hits
}

fn allows(stack: Option<Stack>, candidate: Stack) -> bool {
    stack.is_none_or(|s| s == candidate)
}

fn number_hits(number: Number, stack: Option<Stack>) -> Vec<Hit> {
    let mut hits = Vec::new();
    // MQTT codes are small numbers every other table has too: only when asked for.
    if stack == Some(Stack::Mqtt) {
        return tables::MQTT
            .iter()
            .filter(|e| !number.negative && u64::try_from(e.code) == Ok(number.magnitude))
            .map(Hit::Mqtt)
            .collect();
    }
    if number.hex {
        if allows(stack, Stack::MbedTls) {
            hits.extend(mbed_hits(number.magnitude));
        }
        if !number.negative && allows(stack, Stack::OpenSsl) {
            hits.extend(openssl_packed_hit(number.magnitude));
        }
        return hits;
    }
    if number.negative {
        return negative_hits(number.magnitude, stack, true);
    }
    if let Some(alert) = u8::try_from(number.magnitude)
        .ok()
        .filter(|a| alert_name(*a).is_some())
    {
        hits.push(Hit::Alert(alert));
    }
    if allows(stack, Stack::OpenSsl)
        && let Ok(code) = i64::try_from(number.magnitude)
    {
        hits.extend(by_code(tables::OPENSSL_VERIFY, code).map(Hit::OsslVerify));
    }
    // ERR_get_error() printed with %lu (336151570 is 0x14094412): no other table's codes are
    // this large.
    if number.magnitude >= 1 << 24 && allows(stack, Stack::OpenSsl) {
        hits.extend(openssl_packed_hit(number.magnitude));
    }
    // wolfSSL and GnuTLS codes are negative: `313` is read as -313 too.
    hits.extend(negative_hits(number.magnitude, stack, false));
    hits
}

/// The OpenSSL reading of a query of exactly eight hex digits written without `0x`, the way
/// OpenSSL prints its packed codes (`error:14094412:...`). Such a code can be all decimal
/// digits (`14094412`, `14094410`): it is read as hex here, beside its decimal readings.
fn packed_digits_hits(query: &str, stack: Option<Stack>) -> Vec<Hit> {
    let packed_form = query.len() == 8 && query.bytes().all(|b| b.is_ascii_hexdigit());
    if !packed_form || !allows(stack, Stack::OpenSsl) {
        return Vec::new();
    }
    u64::from_str_radix(query, 16)
        .ok()
        .and_then(openssl_packed_hit)
        .into_iter()
        .collect()
}

/// An OpenSSL packed error code: `0A000086` (OpenSSL 3: library << 23 | reason) or `14094412`
/// (OpenSSL 1.x: library << 24 | function << 12 | reason).
fn openssl_packed_hit(value: u64) -> Option<Hit> {
    let value = u32::try_from(value).ok()?;
    let v3 = (value >> 23, i64::from(value & 0x7F_FFFF));
    let v1 = (value >> 24, i64::from(value & 0xFFF));
    [v3, v1]
        .into_iter()
        .find_map(|(lib, reason)| openssl_reason(lib, reason))
}

fn openssl_reason(lib: u32, reason: i64) -> Option<Hit> {
    if lib == ERR_LIB_SSL {
        return by_code(tables::OPENSSL_REASONS, reason)
            .next()
            .map(|entry| Hit::OsslReason(lib, entry));
    }
    tables::OPENSSL_OTHER
        .iter()
        .find(|(l, entry)| *l == lib && entry.code == reason)
        .map(|(l, entry)| Hit::OsslReason(*l, entry))
}

/// Prefixes a name may be given without: `CERT_HAS_EXPIRED` for `X509_V_ERR_CERT_HAS_EXPIRED`.
const NAME_PREFIXES: &[&str] = &[
    "MBEDTLS_ERR_",
    "MBEDTLS_X509_",
    "X509_V_ERR_",
    "X509_V_",
    "GNUTLS_E_",
    "GNUTLS_CERT_",
    "SSL_R_",
    "X509_R_",
    "PEM_R_",
    "WOLFSSL_",
    "MQTT_RC_",
    "CONNACK_REFUSED_",
];

/// Prefixes of alert names in OpenSSL's and GnuTLS's headers.
const ALERT_PREFIXES: &[&str] = &["SSL_AD_", "SSL3_AD_", "TLS1_AD_", "TLS13_AD_", "GNUTLS_A_"];

/// A query that looks like a symbolic name, in the headers' spelling: upper case, `_`.
fn name_key(query: &str) -> Option<String> {
    let key: String = query
        .trim()
        .chars()
        .map(|c| match c {
            ' ' | '-' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    let valid = key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && key.chars().any(|c| c.is_ascii_alphabetic());
    valid.then_some(key)
}

/// Every named thing of the tables the stack filter allows, with its stack.
fn named(stack: Option<Stack>) -> Vec<(&'static str, &'static [&'static str], Hit)> {
    let mut all = Vec::new();
    let entries = |table: &'static [Entry], make: fn(&'static Entry) -> Hit| {
        table
            .iter()
            .map(move |entry| (entry.name, entry.alt_names, make(entry)))
    };
    if allows(stack, Stack::WolfSsl) {
        all.extend(entries(tables::WOLFSSL, Hit::Wolf));
    }
    if allows(stack, Stack::MbedTls) {
        all.extend(entries(tables::MBEDTLS, Hit::Mbed));
        all.extend(entries(tables::MBEDTLS3_SSL, Hit::Mbed3));
        all.extend(
            tables::MBEDTLS_VERIFY_FLAGS
                .iter()
                .map(|flag| (flag.name, &[][..], Hit::MbedFlag(flag))),
        );
    }
    if allows(stack, Stack::OpenSsl) {
        all.extend(entries(tables::OPENSSL_VERIFY, Hit::OsslVerify));
        all.extend(entries(tables::OPENSSL_SSL_GET_ERROR, Hit::OsslGetError));
        all.extend(tables::OPENSSL_REASONS.iter().map(|entry| {
            (
                entry.name,
                entry.alt_names,
                Hit::OsslReason(ERR_LIB_SSL, entry),
            )
        }));
        all.extend(
            tables::OPENSSL_OTHER
                .iter()
                .map(|(lib, entry)| (entry.name, entry.alt_names, Hit::OsslReason(*lib, entry))),
        );
    }
    if allows(stack, Stack::Mqtt) {
        all.extend(entries(tables::MQTT, Hit::Mqtt));
    }
    if allows(stack, Stack::GnuTls) {
        all.extend(entries(tables::GNUTLS, Hit::Gnu));
        all.extend(
            tables::GNUTLS_VERIFY_STATUS
                .iter()
                .map(|flag| (flag.name, &[][..], Hit::GnuStatus(flag))),
        );
    }
    all
}

/// The number of an alert given by name, in any of the spellings logs use: `bad_certificate`,
/// `bad certificate`, `BAD_CERTIFICATE`, `SSL_AD_BAD_CERTIFICATE`.
pub fn alert_code(name: &str) -> Option<u8> {
    name_key(name).and_then(|key| alert_by_name(&key))
}

/// The GnuTLS error code whose `gnutls_strerror()` text this is, exactly (`A TLS fatal alert has
/// been received.` is -12): how a program's error line is named when it prints no number.
pub fn gnutls_error_code(message: &str) -> Option<i64> {
    let message = message.trim();
    tables::GNUTLS
        .iter()
        .find(|entry| entry.message == message || entry.alt_messages.contains(&message))
        .map(|entry| entry.code)
}

/// A GnuTLS certificate verification status bit (`GNUTLS_CERT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GnutlsStatus {
    pub bit: u32,
    pub name: &'static str,
    /// The text `gnutls_certificate_verification_status_print()` gives the bit.
    pub message: &'static str,
}

impl GnutlsStatus {
    fn of(flag: &Flag) -> GnutlsStatus {
        GnutlsStatus {
            bit: flag.bit,
            name: flag.name,
            message: flag.message,
        }
    }
}

/// The status bits whose texts a printed verification status holds, in the order printed:
/// `The certificate is NOT trusted. The certificate issuer is unknown.` is
/// `GNUTLS_CERT_INVALID` then `GNUTLS_CERT_SIGNER_NOT_FOUND`.
pub fn gnutls_statuses(text: &str) -> Vec<GnutlsStatus> {
    let mut found: Vec<(usize, GnutlsStatus)> = tables::GNUTLS_VERIFY_STATUS
        .iter()
        .filter_map(|flag| {
            text.find(flag.message)
                .map(|at| (at, GnutlsStatus::of(flag)))
        })
        .collect();
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, status)| status).collect()
}

/// The status bit of this value (`64`: `GNUTLS_CERT_SIGNER_NOT_FOUND`).
pub fn gnutls_status(bit: u32) -> Option<GnutlsStatus> {
    tables::GNUTLS_VERIFY_STATUS
        .iter()
        .find(|flag| flag.bit == bit)
        .map(GnutlsStatus::of)
}

/// The alert of a name: `bad_certificate`, `BAD CERTIFICATE`, `SSL_AD_BAD_CERTIFICATE`,
/// `GNUTLS_A_BAD_CERTIFICATE`.
fn alert_by_name(key: &str) -> Option<u8> {
    let stripped = ALERT_PREFIXES
        .iter()
        .find_map(|prefix| key.strip_prefix(prefix))
        .unwrap_or(key);
    let bare = match stripped {
        "USER_CANCELLED" => "USER_CANCELED",
        "SSL3_NO_CERTIFICATE" => "NO_CERTIFICATE",
        other => other,
    };
    (0..=u8::MAX).find(|code| alert_name(*code).is_some_and(|name| name.eq_ignore_ascii_case(bare)))
}

fn name_hits(query: &str, stack: Option<Stack>) -> Vec<Hit> {
    let Some(key) = name_key(query) else {
        return Vec::new();
    };
    let mut hits: Vec<Hit> = alert_by_name(&key).map(Hit::Alert).into_iter().collect();
    let all = named(stack);
    let exact: Vec<Hit> = all
        .iter()
        .filter(|(name, alt, _)| *name == key || alt.contains(&key.as_str()))
        .map(|(_, _, hit)| *hit)
        .collect();
    // Without its prefix only a name of several words: "EXPIRED" alone is a word to search
    // the messages for, not GNUTLS_E_EXPIRED.
    if exact.is_empty() && key.contains('_') {
        hits.extend(
            all.iter()
                .filter(|(name, _, _)| {
                    NAME_PREFIXES
                        .iter()
                        .any(|prefix| name.strip_prefix(prefix) == Some(key.as_str()))
                })
                .map(|(_, _, hit)| *hit),
        );
    } else {
        hits.extend(exact);
    }
    hits
}

/// Lower case, every run of other characters than letters and digits one space: the form
/// messages are compared in.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

/// A message that can be recognised inside a longer text: long enough not to match by chance.
fn distinctive(message: &str) -> bool {
    message.len() >= 10 && message.contains(' ')
}

/// A fragment of a message long enough to search the messages for.
const MIN_FRAGMENT: usize = 6;

/// How the entries of a table become hits.
type MakeHit = fn(&'static Entry) -> Hit;

/// A text a query is compared with: a library message, or an alert's name in words.
struct Text {
    /// Normalized (see [`normalize`]).
    text: String,
    hit: Hit,
    /// Not the library's own text: an alert name, or the text of another build.
    alt: bool,
}

/// Every text of the tables, normalized once.
static TEXTS: LazyLock<Vec<Text>> = LazyLock::new(|| {
    let mut all = Vec::new();
    let mut push = |text: &str, hit: Hit, alt: bool| {
        let text = normalize(text);
        if !text.is_empty() {
            all.push(Text { text, hit, alt });
        }
    };
    for code in 0..=u8::MAX {
        if let Some(name) = alert_name(code) {
            push(name, Hit::Alert(code), true);
        }
    }
    // GnuTLS's alert texts ("Handshake failed") are an alert only where the line says so
    // ("Received alert [40]: Handshake failed"): see `about_an_alert`.
    for (code, _, name) in tables::GNUTLS_ALERTS {
        push(name, Hit::Alert(*code), true);
    }
    let entries: [(&'static [Entry], MakeHit); 5] = [
        (tables::WOLFSSL, Hit::Wolf),
        (tables::MBEDTLS, Hit::Mbed),
        (tables::OPENSSL_VERIFY, Hit::OsslVerify),
        (tables::GNUTLS, Hit::Gnu),
        (tables::MQTT, Hit::Mqtt),
    ];
    let reasons = tables::OPENSSL_REASONS
        .iter()
        .map(|entry| (entry, Hit::OsslReason(ERR_LIB_SSL, entry)))
        .chain(
            tables::OPENSSL_OTHER
                .iter()
                .map(|(lib, entry)| (entry, Hit::OsslReason(*lib, entry))),
        );
    let all_entries = entries
        .into_iter()
        .flat_map(|(table, make)| table.iter().map(move |entry| (entry, make(entry))))
        .chain(reasons);
    for (entry, hit) in all_entries {
        push(entry.message, hit, false);
        for alt in entry.alt_messages {
            push(alt, hit, true);
        }
    }
    for flag in tables::MBEDTLS_VERIFY_FLAGS {
        push(flag.message, Hit::MbedFlag(flag), false);
    }
    for flag in tables::GNUTLS_VERIFY_STATUS {
        push(flag.message, Hit::GnuStatus(flag), false);
    }
    all
});

/// `needle` occurs in `hay` as whole words (both normalized).
fn contains_words(hay: &str, needle: &str) -> bool {
    !needle.is_empty()
        && hay.match_indices(needle).any(|(at, _)| {
            let end = at + needle.len();
            (at == 0 || hay.as_bytes()[at - 1] == b' ')
                && (end == hay.len() || hay.as_bytes()[end] == b' ')
        })
}

/// The readings of a message or a log line: the known messages it is, contains or is part
/// of, and the codes and alert numbers written in it.
fn text_hits(query: &str, stack: Option<Stack>) -> Vec<Hit> {
    let q = normalize(query);
    if q.is_empty() {
        return Vec::new();
    }
    let all: Vec<&Text> = TEXTS
        .iter()
        .filter(|t| t.hit.stack() == Stack::Tls || allows(stack, t.hit.stack()))
        .collect();
    // An alert's name or GnuTLS's text for it inside a longer line is that alert only where
    // the line speaks of an alert: "mbedtls_ssl_handshake failed" is no handshake_failure.
    let speaks_of_alert = q.split(' ').any(|word| word == "alert");
    let all: Vec<&Text> = all
        .into_iter()
        .filter(|t| speaks_of_alert || !about_an_alert(t, &q))
        .collect();
    let exact: Vec<&Text> = all.iter().copied().filter(|t| t.text == q).collect();
    let inside: Vec<&Text> = all
        .iter()
        .copied()
        .filter(|t| t.text != q && distinctive(&t.text) && contains_words(&q, &t.text))
        .collect();
    let mut matched: Vec<&Text> = if !exact.is_empty() {
        exact
    } else if !inside.is_empty() {
        // A message inside a longer matched one is part of it: "unknown ca" in
        // "tlsv1 alert unknown ca".
        inside
            .iter()
            .copied()
            .filter(|t| {
                !inside
                    .iter()
                    .any(|u| u.text.len() > t.text.len() && contains_words(&u.text, &t.text))
            })
            .collect()
    } else if q.len() >= MIN_FRAGMENT {
        all.iter()
            .copied()
            .filter(|t| contains_words(&t.text, &q))
            .collect()
    } else {
        Vec::new()
    };
    // A library's own text before the same text as another build prints it; the longest,
    // most specific message first ("The certificate issuer is unknown." before "The certificate
    // is NOT trusted.").
    matched.sort_by_key(|t| (t.alt, std::cmp::Reverse(t.text.len())));
    let mut hits: Vec<Hit> = matched.iter().map(|t| t.hit).collect();
    let hinted = hinted_stacks(&query.to_lowercase());
    hits.extend(codes_in_text(query, stack, &hinted, hits.is_empty()));
    // A line that names its stack ("SSL routines", "wolfSSL_connect") is that stack's: the
    // same text of another stack is dropped.
    if stack.is_none() && !hinted.is_empty() {
        let own: Vec<Hit> = hits
            .iter()
            .copied()
            .filter(|hit| hit.stack() == Stack::Tls || hinted.contains(&hit.stack()))
            .collect();
        if !own.is_empty() {
            hits = own;
        }
    }
    hits
}

/// Whether `text` can match `q` only as the name of an alert: an alert's name in words matched
/// by anything but the whole query, or GnuTLS's text for an alert, whose words ("Handshake
/// failed", "Decryption failed") are also how other lines say other things.
fn about_an_alert(text: &Text, q: &str) -> bool {
    let Hit::Alert(code) = text.hit else {
        return false;
    };
    let own_name = alert_name(code).is_some_and(|name| normalize(name) == text.text);
    !own_name || text.text != q
}

/// The stacks a log line names.
fn hinted_stacks(lower: &str) -> Vec<Stack> {
    let mut stacks = Vec::new();
    if lower.contains("wolfssl") || lower.contains("wolfcrypt") {
        stacks.push(Stack::WolfSsl);
    }
    if lower.contains("mbedtls") || lower.contains("mbed tls") {
        stacks.push(Stack::MbedTls);
    }
    if lower.contains("openssl") || lower.contains("ssl routines") || lower.contains("s_client") {
        stacks.push(Stack::OpenSsl);
    }
    if lower.contains("gnutls") {
        stacks.push(Stack::GnuTls);
    }
    if ["mqtt", "connack", "mosquitto", "paho"]
        .iter()
        .any(|w| lower.contains(w))
    {
        stacks.push(Stack::Mqtt);
    }
    stacks
}

/// Words that may stand between "alert" and its number in the logs of the stacks:
/// `SSL alert number 42`, `Received alert [42]`, `got an alert message, type: [2:42]`,
/// `is a fatal alert message (msg 42)`, `send alert level=2 message=42`.
const ALERT_FILLERS: &[&str] = &[
    "number",
    "no",
    "code",
    "desc",
    "description",
    "msg",
    "message",
    "type",
    "received",
    "sent",
    "fatal",
    "warning",
    "is",
];

/// The alert numbers a text gives after the word "alert".
fn alerts_in_text(lower: &str) -> Vec<u8> {
    let mut alerts = Vec::new();
    let mut from = 0;
    while let Some(at) = lower[from..].find("alert") {
        let start = from + at + "alert".len();
        from = start;
        let rest: String = lower[start..].chars().take(48).collect();
        if let Some(code) = alert_after(&rest)
            && alert_name(code).is_some()
            && !alerts.contains(&code)
        {
            alerts.push(code);
        }
    }
    alerts
}

/// The number that follows "alert" in `rest`, skipping the filler words and a level.
fn alert_after(rest: &str) -> Option<u8> {
    let mut skip_level = false;
    let mut chars = rest.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_ascii_alphanumeric() {
            let end = rest[i..]
                .find(|c: char| !c.is_ascii_alphanumeric())
                .map_or(rest.len(), |e| i + e);
            let word = &rest[i..end];
            while chars.peek().is_some_and(|&(j, _)| j < end) {
                chars.next();
            }
            if word.bytes().all(|b| b.is_ascii_digit()) {
                // `[2:42]`: level, then description.
                let after = &rest[end..];
                if let Some(desc) = after.strip_prefix(':') {
                    let digits: String = desc.chars().take_while(char::is_ascii_digit).collect();
                    if !digits.is_empty() {
                        return digits.parse().ok();
                    }
                }
                if skip_level {
                    skip_level = false;
                    continue;
                }
                return word.parse().ok();
            }
            if word == "level" {
                skip_level = true;
            } else if !ALERT_FILLERS.contains(&word) {
                return None;
            }
        } else if matches!(c, ' ' | '\t' | ':' | '=' | '#' | '[' | '(' | ',') {
            chars.next();
        } else {
            return None;
        }
    }
    None
}

/// OpenSSL verification results written as `verify error:num=20` or `Verify return code: 20`.
fn openssl_verify_in_text(lower: &str) -> Vec<i64> {
    let mut codes = Vec::new();
    for marker in ["verify error:num=", "verify return code:"] {
        let mut from = 0;
        while let Some(at) = lower[from..].find(marker) {
            let start = from + at + marker.len();
            from = start;
            let digits: String = lower[start..]
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(code) = digits.parse::<i64>()
                && !codes.contains(&code)
            {
                codes.push(code);
            }
        }
    }
    codes
}

/// The codes written in a log line. Alert numbers, OpenSSL packed codes and verification
/// results are always read; bare negative and hex numbers only for the stacks the line names
/// (or `stack`), or for all of them when nothing else matched.
fn codes_in_text(
    text: &str,
    stack: Option<Stack>,
    hinted: &[Stack],
    nothing_else: bool,
) -> Vec<Hit> {
    let lower = text.to_lowercase();
    let mut hits: Vec<Hit> = alerts_in_text(&lower).into_iter().map(Hit::Alert).collect();
    if allows(stack, Stack::OpenSsl) {
        for code in openssl_verify_in_text(&lower) {
            hits.extend(by_code(tables::OPENSSL_VERIFY, code).map(Hit::OsslVerify));
        }
    }
    let tokens = number_tokens(&lower);
    if allows(stack, Stack::OpenSsl) {
        for token in &tokens {
            if let Token::Packed(value) = token {
                hits.extend(openssl_packed_hit(*value));
            }
        }
    }
    let numbers_for: Vec<Stack> = match stack {
        Some(stack) => vec![stack],
        None if !hinted.is_empty() => hinted.to_vec(),
        None if nothing_else => Stack::ALL.to_vec(),
        None => Vec::new(),
    };
    // `-1` is too common in logs to mean WOLFSSL_FATAL_ERROR unless the line is wolfSSL's.
    let only_wolfssl = numbers_for == [Stack::WolfSsl];
    for token in tokens {
        for target in &numbers_for {
            match (token, *target) {
                (Token::Hex(magnitude) | Token::Negative(magnitude), Stack::MbedTls) => {
                    hits.extend(mbed_hits(magnitude));
                }
                (Token::Negative(magnitude), Stack::WolfSsl) if magnitude >= 2 || only_wolfssl => {
                    hits.extend(negative_in(tables::WOLFSSL, magnitude).map(Hit::Wolf));
                }
                (Token::Negative(magnitude), Stack::GnuTls) if magnitude >= 2 => {
                    hits.extend(negative_in(tables::GNUTLS, magnitude).map(Hit::Gnu));
                }
                _ => {}
            }
        }
    }
    hits
}

/// The entries of -`magnitude`.
fn negative_in(table: &'static [Entry], magnitude: u64) -> impl Iterator<Item = &'static Entry> {
    let code = i64::try_from(magnitude).map_or(i64::MIN, |m| -m);
    by_code(table, code)
}

/// A number written in a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// `0x7780`, `-0x7780`: the magnitude.
    Hex(u64),
    /// `-313`: the magnitude.
    Negative(u64),
    /// Eight hex digits, as OpenSSL prints its error codes (`error:0A000086`).
    Packed(u64),
}

fn number_tokens(lower: &str) -> Vec<Token> {
    let bytes = lower.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let at_boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        if !at_boundary {
            i += 1;
            continue;
        }
        let run_end = |from: usize, pred: fn(&u8) -> bool| {
            from + bytes[from..].iter().take_while(|b| pred(b)).count()
        };
        let hex_start = if bytes[i..].starts_with(b"-0x") {
            Some(i + 3)
        } else if bytes[i..].starts_with(b"0x") {
            Some(i + 2)
        } else {
            None
        };
        if let Some(start) = hex_start {
            let end = run_end(start, u8::is_ascii_hexdigit);
            if end > start
                && end - start <= 8
                && !bytes.get(end).is_some_and(u8::is_ascii_alphanumeric)
                && let Ok(value) = u64::from_str_radix(&lower[start..end], 16)
            {
                tokens.push(Token::Hex(value));
            }
            i = end.max(i + 1);
            continue;
        }
        if bytes[i] == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            let end = run_end(i + 1, u8::is_ascii_digit);
            if end - (i + 1) <= 9
                && !bytes.get(end).is_some_and(u8::is_ascii_alphanumeric)
                && let Ok(value) = lower[i + 1..end].parse()
            {
                tokens.push(Token::Negative(value));
            }
            i = end;
            continue;
        }
        if bytes[i].is_ascii_hexdigit() {
            let end = run_end(i, u8::is_ascii_hexdigit);
            if end - i == 8
                && !bytes.get(end).is_some_and(u8::is_ascii_alphanumeric)
                && let Ok(value) = u64::from_str_radix(&lower[i..end], 16)
            {
                tokens.push(Token::Packed(value));
            }
            i = end.max(i + 1);
            continue;
        }
        i += 1;
    }
    tokens
}
