//! What a peer that does not speak TLS sent, made fit for a report: the preview of a `not_tls`
//! event. Such bytes are often a login in plain text (a device's MQTT CONNECT with its password,
//! an HTTP request with its Authorization header), and reports end up in tickets, logs and CI
//! output: the credentials they carry are summarised away, never copied.

use std::fmt::Write as _;

use super::mqtt;
use crate::model::Plaintext;

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
/// request line, anything else as it is with the values of credential headers left out.
pub fn preview(bytes: &[u8]) -> String {
    let bytes = &bytes[..bytes.len().min(PREVIEW_LEN)];
    mqtt_connect(bytes)
        .or_else(|| http_request(bytes))
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
    } else {
        Plaintext::Unknown
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
