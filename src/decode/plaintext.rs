//! What a peer that does not speak TLS sent, made fit for a report: the preview of a `not_tls`
//! event. Such bytes are often a login in plain text (a device's MQTT CONNECT with its password,
//! an HTTP request with its Authorization header), and reports end up in tickets, logs and CI
//! output: the credentials they carry are summarised away, never copied.

use std::fmt::Write as _;

use super::mqtt;
use crate::model::codes;
use crate::model::{Plaintext, What};

/// Printable ASCII as it is, every other byte as `\xNN`. Keeps peer-chosen text (a banner,
/// a host name) from carrying control characters into a terminal.
pub fn printable(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    for &b in bytes {
        if (0x20..=0x7e).contains(&b) {
            text.push(char::from(b));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(text, "\\x{b:02x}");
        }
    }
    text
}

/// The most bytes of the peer's a preview is made from.
const PREVIEW_LEN: usize = 64;

/// The preview of the first bytes of a stream that is not TLS: an MQTT CONNECT summarised
/// (client id, whether a username and a password are present), an HTTP request cut to its
/// request line, an SSLv2-format ClientHello decoded, anything else as it is with the values of
/// credential headers left out.
pub fn preview(bytes: &[u8]) -> String {
    let bytes = &bytes[..bytes.len().min(PREVIEW_LEN)];
    mqtt_connect(bytes)
        .or_else(|| http_request(bytes))
        .or_else(|| sslv2_client_hello(bytes))
        .unwrap_or_else(|| printable(&without_credential_headers(bytes)))
}

/// What the first bytes of a stream that is not TLS are, when they are something known.
pub fn looks_like(bytes: &[u8]) -> Plaintext {
    let bytes = &bytes[..bytes.len().min(PREVIEW_LEN)];
    let text = bytes.trim_ascii_start();
    let starts_with = |prefix: &[u8]| {
        text.get(..prefix.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
    };
    if mqtt::connect_start(bytes).is_some() {
        Plaintext::MqttConnect
    } else if http_request(bytes).is_some() {
        Plaintext::HttpRequest
    } else if bytes.starts_with(b"HTTP/") || starts_with(b"<!doc") || starts_with(b"<html") {
        Plaintext::HttpResponse
    } else if bytes.starts_with(b"SSH-") {
        Plaintext::Ssh
    } else if bytes.starts_with(&[0x20, 0x02]) {
        Plaintext::MqttConnack
    } else if sslv2_client_hello(bytes).is_some() {
        Plaintext::Sslv2ClientHello
    } else {
        Plaintext::Unknown
    }
}

/// The `NotTls` event for a ClientHello that came from the server's side: the client's own
/// (the same random) when an echo service sent the client's bytes back, else another client's
/// (two clients joined by a relay, or a port forwarded the wrong way).
pub fn client_hello_from_server(random: Option<[u8; 32]>, clients: Option<[u8; 32]>) -> What {
    let echo = random.is_some() && random == clients;
    let (preview, looks_like) = if echo {
        (
            "a ClientHello with the client's own random: its own bytes, sent back",
            Plaintext::Echo,
        )
    } else {
        (
            "a ClientHello: the answer of a TLS client, not of a server",
            Plaintext::TlsClient,
        )
    };
    What::NotTls {
        preview: preview.to_string(),
        looks_like,
    }
}

/// An SSLv2-format ClientHello (RFC 5246 appendix E.2: a two-byte header with its high bit
/// set, message type 1, a version, then the lengths of the cipher specs, session id and
/// challenge): its version and cipher specs, as far as the bytes go. Old TLS stacks send this
/// format to reach SSL 2.0 servers; TLS 1.3 has no such hello, and many servers refuse it.
fn sslv2_client_hello(bytes: &[u8]) -> Option<String> {
    let &[h0, h1, 1, major, minor, s0, s1, ..] = bytes else {
        return None;
    };
    let length = usize::from(u16::from_be_bytes([h0 & 0x7f, h1]));
    let specs_len = usize::from(u16::from_be_bytes([s0, s1]));
    if h0 & 0x80 == 0 || !(major == 2 || major == 3) || specs_len % 3 != 0 || specs_len + 9 > length
    {
        return None;
    }
    let version = match (major, minor) {
        (2, 0) => "SSLv2".to_string(),
        (3, minor) => codes::version(u16::from_be_bytes([3, minor])).to_string(),
        _ => return None,
    };
    let specs = bytes.get(11..).unwrap_or_default();
    let shown = specs.len().min(specs_len) / 3;
    let names: Vec<String> = specs
        .chunks_exact(3)
        .take(shown)
        .map(|spec| match spec {
            [0, hi, lo] => codes::cipher_suite(u16::from_be_bytes([*hi, *lo])).to_string(),
            [kind, hi, lo] => format!("SSLv2 cipher spec 0x{kind:02x}{hi:02x}{lo:02x}"),
            _ => unreachable!("chunks of three"),
        })
        .collect();
    let more = if shown < specs_len / 3 {
        format!(" (+{} more)", specs_len / 3 - shown)
    } else {
        String::new()
    };
    Some(format!(
        "an SSLv2-format ClientHello: highest version {version}, {} cipher spec(s): {}{more}",
        specs_len / 3,
        names.join(", ")
    ))
}

/// What a connection that did not start with a ClientHello spoke, from the first bytes of the
/// client and of the server: named as people know it ("plain MQTT", "SMTP (STARTTLS)"), or
/// `unknown`. The client's bytes are those before its ClientHello when TLS started later.
pub fn protocol(client: &[u8], server: &[u8]) -> &'static str {
    let text = |bytes: &[u8]| {
        String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_ascii_uppercase()
    };
    let (c, s) = (text(client), text(server));
    let upgrade = |command: &str| c.lines().any(|line| line.trim_end().ends_with(command));
    if mqtt::connect_start(client).is_some() || server.starts_with(&[0x20, 0x02]) {
        "plain MQTT"
    } else if client.starts_with(b"CONNECT ") {
        "an HTTP CONNECT tunnel"
    } else if http_request(client).is_some() || server.starts_with(b"HTTP/") {
        "HTTP"
    } else if client.starts_with(b"SSH-") || server.starts_with(b"SSH-") {
        "SSH"
    } else if client.starts_with(&[0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f]) {
        "PostgreSQL (SSLRequest)"
    } else if mysql_greeting(server) {
        if client.get(3) == Some(&1) && client.get(5).is_some_and(|b| b & 0x08 != 0) {
            "MySQL (SSL request)"
        } else {
            "MySQL"
        }
    } else if client.first() == Some(&0x30)
        && client.windows(22).any(|w| w == b"1.3.6.1.4.1.1466.20037")
    {
        "LDAP (StartTLS)"
    } else if client.len() >= 3 && client[0] == 5 && (1..=10).contains(&client[1]) {
        "a SOCKS5 tunnel"
    } else if c.starts_with("<?XML") || c.starts_with("<STREAM:STREAM") {
        if c.contains("<STARTTLS") {
            "XMPP (STARTTLS)"
        } else {
            "XMPP"
        }
    } else if c.starts_with("EHLO")
        || c.starts_with("HELO")
        || s.starts_with("220 ") && s.contains("SMTP")
    {
        if upgrade("STARTTLS") {
            "SMTP (STARTTLS)"
        } else {
            "SMTP"
        }
    } else if s.starts_with("* OK") {
        if upgrade("STARTTLS") {
            "IMAP (STARTTLS)"
        } else {
            "IMAP"
        }
    } else if s.starts_with("+OK") {
        if upgrade("STLS") {
            "POP3 (STLS)"
        } else {
            "POP3"
        }
    } else if sslv2_client_hello(client).is_some() {
        "an SSLv2-format ClientHello"
    } else if client.is_empty() && server.is_empty() {
        "no data"
    } else {
        "unknown"
    }
}

/// A MySQL server's greeting: a packet of sequence 0 whose protocol version is 10.
fn mysql_greeting(server: &[u8]) -> bool {
    match server {
        [l0, l1, l2, 0, 10, ..] => {
            let length = usize::from(*l0) | usize::from(*l1) << 8 | usize::from(*l2) << 16;
            (20..4096).contains(&length)
        }
        _ => false,
    }
}

/// An MQTT CONNECT: its fixed header and protocol name as they are, then what the rest says.
fn mqtt_connect(bytes: &[u8]) -> Option<String> {
    let start = mqtt::connect_start(bytes)?;
    let said = match mqtt::parse_connect(bytes) {
        Ok(Some((connect, _))) => whole_connect(&connect),
        // The preview stops inside it, or it is malformed: its flags still say what it carries.
        _ => cut_connect(&start),
    };
    Some(format!(
        "{}... ({said})",
        printable(&bytes[..start.head_len])
    ))
}

fn whole_connect(connect: &mqtt::Connect) -> String {
    format!(
        "an MQTT {} CONNECT in plain text: client id '{}', {}",
        mqtt::version_name(connect.level),
        printable(connect.client_id.as_bytes()),
        credentials(connect.username, connect.password)
    )
}

fn cut_connect(start: &mqtt::ConnectStart) -> String {
    let version = start
        .level
        .map(|level| format!(" {}", mqtt::version_name(level)))
        .unwrap_or_default();
    match start.credentials {
        Some((username, password)) => format!(
            "an MQTT{version} CONNECT in plain text, cut short: {}",
            credentials(username, password)
        ),
        None => format!("an MQTT{version} CONNECT in plain text, cut short"),
    }
}

/// Whether a username and a password are present; their values are never shown.
fn credentials(username: bool, password: bool) -> &'static str {
    match (username, password) {
        (true, true) => "a username and a password (not shown)",
        (true, false) => "a username (not shown), no password",
        (false, true) => "no username, a password (not shown)",
        (false, false) => "no username, no password",
    }
}

/// Methods of HTTP/1.x requests, and `PRI`, which starts HTTP/2's connection preface.
const HTTP_METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "PRI",
];

/// An HTTP request: its request line, the target without its query or user information (either
/// may carry a token), never its headers (Authorization, Cookie) or body.
fn http_request(bytes: &[u8]) -> Option<String> {
    let line_end = bytes
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(bytes.len());
    let line = String::from_utf8_lossy(&bytes[..line_end]);
    let mut parts = line.splitn(3, ' ');
    let method = parts.next()?;
    if !HTTP_METHODS.contains(&method) {
        return None;
    }
    let target = parts.next().map(target_without_credentials);
    let version = parts.next();
    let shown: Vec<&str> = [Some(method), target.as_deref(), version]
        .into_iter()
        .flatten()
        .collect();
    Some(format!(
        "{} (an HTTP request in plain text; its headers are not shown)",
        printable(shown.join(" ").as_bytes())
    ))
}

/// A request target without what may carry a credential: its query (`?access_token=...`) and,
/// in an absolute URI, its user information (`http://user:password@host/`).
fn target_without_credentials(target: &str) -> String {
    let (path, query) = match target.split_once('?') {
        Some((path, _)) => (path, "?(query not shown)"),
        None => (target, ""),
    };
    let path = match path.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rsplit_once('@') {
                Some((_, host)) => {
                    format!(
                        "{scheme}://(user not shown)@{host}{}",
                        &rest[authority_end..]
                    )
                }
                None => path.to_string(),
            }
        }
        None => path.to_string(),
    };
    path + query
}

/// The bytes with the value of every line that looks like a header carrying a credential
/// (Authorization, Cookie, Set-Cookie, X-Api-Key, ...) replaced: an HTTP response keeps its
/// status line and its other headers, which say what answered.
fn without_credential_headers(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut hiding = false;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let line_ending = &line[line.trim_ascii_end().len()..];
        // A line starting with white space continues the header above it (obsolete folding).
        let continues = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if hiding && continues {
            out.extend_from_slice(line_ending);
            continue;
        }
        hiding = false;
        match credential_header_name(line) {
            Some(name) => {
                out.extend_from_slice(name);
                out.extend_from_slice(b": (not shown)");
                out.extend_from_slice(line_ending);
                hiding = true;
            }
            None => out.extend_from_slice(line),
        }
    }
    out
}

/// The name of the header on this line when it is one that may carry a credential.
fn credential_header_name(line: &[u8]) -> Option<&[u8]> {
    const CREDENTIALS: [&str; 7] = [
        "auth", "cookie", "token", "secret", "key", "session", "password",
    ];
    let colon = line.iter().position(|&b| b == b':')?;
    let name = &line[..colon];
    let is_token = !name.is_empty()
        && name
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_');
    let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
    (is_token && CREDENTIALS.iter().any(|c| lower.contains(c))).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_bytes_are_is_read_from_the_bytes() {
        let connect = b"\x10\x10\x00\x04MQTT\x04\x02\x00\x3c\x00\x04dev1";
        assert_eq!(looks_like(connect), Plaintext::MqttConnect);
        assert_eq!(
            looks_like(b"GET / HTTP/1.1\r\nHost: x\r\n"),
            Plaintext::HttpRequest
        );
        assert_eq!(
            looks_like(b"HTTP/1.1 400 Bad Request\r\n"),
            Plaintext::HttpResponse
        );
        assert_eq!(looks_like(b"\r\n<!DOCTYPE html>"), Plaintext::HttpResponse);
        assert_eq!(looks_like(b"SSH-2.0-OpenSSH_9.2\r\n"), Plaintext::Ssh);
        assert_eq!(
            looks_like(&[0x20, 0x02, 0x00, 0x05]),
            Plaintext::MqttConnack
        );
        assert_eq!(looks_like(b"220 smtp ready"), Plaintext::Unknown);
        // A preview that merely mentions HTTP is not an HTTP request.
        assert_eq!(
            looks_like(b"x (an HTTP request in plain text"),
            Plaintext::Unknown
        );
    }

    #[test]
    fn an_sslv2_format_client_hello_is_decoded() {
        let specs = [0x00, 0xc0, 0x2f, 0x01, 0x00, 0x80];
        let mut body = vec![
            0x01,
            0x03,
            0x03,
            0x00,
            specs.len() as u8,
            0x00,
            0x00,
            0x00,
            0x10,
        ];
        body.extend_from_slice(&specs);
        body.extend_from_slice(&[0xaa; 16]);
        let mut hello = vec![0x80, body.len() as u8];
        hello.extend(body);
        assert_eq!(looks_like(&hello), Plaintext::Sslv2ClientHello);
        assert_eq!(
            preview(&hello),
            "an SSLv2-format ClientHello: highest version TLSv1.2, 2 cipher spec(s): \
             TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, SSLv2 cipher spec 0x010080"
        );
        // Without the high bit, or with another message type, it is none.
        hello[0] = 0x00;
        assert_eq!(looks_like(&hello), Plaintext::Unknown);
    }

    #[test]
    fn plain_text_protocols_are_named_from_both_sides() {
        let connect = b"\x10\x10\x00\x04MQTT\x04\x02\x00\x3c\x00\x04dev1";
        assert_eq!(protocol(connect, b""), "plain MQTT");
        assert_eq!(
            protocol(b"EHLO x\r\nSTARTTLS\r\n", b"220 mx ESMTP\r\n"),
            "SMTP (STARTTLS)"
        );
        assert_eq!(
            protocol(b"a CAPABILITY\r\na STARTTLS\r\n", b"* OK ready\r\n"),
            "IMAP (STARTTLS)"
        );
        assert_eq!(protocol(b"STLS\r\n", b"+OK\r\n"), "POP3 (STLS)");
        assert_eq!(
            protocol(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f], b"S"),
            "PostgreSQL (SSLRequest)"
        );
        assert_eq!(
            protocol(b"CONNECT a:443 HTTP/1.1\r\n\r\n", b""),
            "an HTTP CONNECT tunnel"
        );
        assert_eq!(protocol(b"GET / HTTP/1.0\r\n", b""), "HTTP");
        assert_eq!(protocol(b"\x00\x01hello", b""), "unknown");
        assert_eq!(protocol(b"", b""), "no data");
    }

    /// An MQTT 3.1.1 CONNECT with this client id, username `devuser`, password `S3cretPassw0rd`.
    fn connect_with_password(client_id: &str) -> Vec<u8> {
        let mut body = vec![0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0xc2, 0x00, 0x3c];
        for field in [client_id, "devuser", "S3cretPassw0rd"] {
            body.extend_from_slice(&(field.len() as u16).to_be_bytes());
            body.extend_from_slice(field.as_bytes());
        }
        let mut packet = vec![0x10, body.len() as u8];
        packet.extend(body);
        packet
    }

    #[test]
    fn an_mqtt_connect_is_summarised_without_its_credentials() {
        assert_eq!(
            preview(&connect_with_password("dev1")),
            "\\x10)\\x00\\x04MQTT... (an MQTT 3.1.1 CONNECT in plain text: client id 'dev1', \
             a username and a password (not shown))"
        );
        // A client id is the device's to choose: control characters are escaped.
        assert!(preview(&connect_with_password("a\x1b[2J")).contains("client id 'a\\x1b[2J'"));
    }

    #[test]
    fn a_connect_cut_short_anywhere_shows_no_credential() {
        let packet = connect_with_password("dev1");
        for cut in 1..=packet.len() {
            let shown = preview(&packet[..cut]);
            assert!(
                !shown.contains("S3cret") && !shown.contains("devuser"),
                "cut at {cut}: {shown}"
            );
        }
        assert_eq!(
            preview(&packet[..30]),
            "\\x10)\\x00\\x04MQTT... (an MQTT 3.1.1 CONNECT in plain text, cut short: \
             a username and a password (not shown))"
        );
        // A long client id pushes the password past the bytes previewed: the flags still tell.
        let long = connect_with_password("device-0123456789-abcdefghijklmnopqrstuvwxyz");
        assert!(long.len() > PREVIEW_LEN);
        let shown = preview(&long);
        assert!(
            shown.ends_with("cut short: a username and a password (not shown))"),
            "{shown}"
        );
    }

    #[test]
    fn an_http_request_is_cut_to_its_request_line() {
        let request =
            b"GET /status?token=abc123 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer abc123\r\n\r\n";
        assert_eq!(
            preview(request),
            "GET /status?(query not shown) HTTP/1.1 (an HTTP request in plain text; its headers are not shown)"
        );
        let proxy = b"GET http://user:pw@example.com/a HTTP/1.1\r\n";
        assert!(
            preview(proxy).starts_with("GET http://(user not shown)@example.com/a HTTP/1.1 ("),
            "{}",
            preview(proxy)
        );
        // Cut inside the request line: what there is of it.
        assert!(
            preview(b"POST /login?password=hunter2").starts_with("POST /login?(query not shown) (")
        );
    }

    #[test]
    fn other_bytes_keep_their_preview_without_credential_headers() {
        let response = b"HTTP/1.1 401 Unauthorized\r\nSet-Cookie: sid=s3cr3t\r\nServer: x\r\n";
        assert_eq!(
            preview(response),
            "HTTP/1.1 401 Unauthorized\\x0d\\x0aSet-Cookie: (not shown)\\x0d\\x0aServer: x\\x0d\\x0a"
        );
        let folded = b"HTTP/1.0 200 OK\r\nWWW-Authenticate: Basic\r\n realm=x\r\nServer: y\r\n";
        assert_eq!(
            preview(folded),
            "HTTP/1.0 200 OK\\x0d\\x0aWWW-Authenticate: (not shown)\\x0d\\x0a\\x0d\\x0aServer: y\\x0d\\x0a"
        );
        assert_eq!(
            preview(b"SSH-2.0-OpenSSH_9.6\r\n"),
            "SSH-2.0-OpenSSH_9.6\\x0d\\x0a"
        );
        assert_eq!(preview(&[0x20, 0x02, 0x00, 0x01]), " \\x02\\x00\\x01");
        let long = vec![b'a'; 1000];
        assert_eq!(preview(&long).len(), PREVIEW_LEN);
    }
}
