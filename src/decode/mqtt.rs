//! Just enough MQTT (3.1, 3.1.1 and 5) to read a device's CONNECT and answer CONNACK (`serve`),
//! and to send a CONNECT and read the broker's CONNACK (`connect --mqtt`). Never panics on bytes
//! from the network.

pub use crate::model::MqttConnect as Connect;

/// Reads a CONNECT from the start of `bytes`: `Ok(None)` when more bytes are needed,
/// `Ok(Some((connect, length)))` once it is complete, `Err` when the bytes are not a CONNECT.
pub fn parse_connect(bytes: &[u8]) -> Result<Option<(Connect, usize)>, String> {
    let Some(&first) = bytes.first() else {
        return Ok(None);
    };
    if first != 0x10 {
        return Err(format!(
            "the first packet is not a CONNECT (fixed header 0x{first:02x})"
        ));
    }
    let Some((remaining, header_len)) = varint(&bytes[1..])? else {
        return Ok(None);
    };
    let total = 1 + header_len + remaining;
    let Some(body) = bytes.get(1 + header_len..total) else {
        return Ok(None);
    };
    let mut r = Reader(body);
    let protocol = r.string().ok_or("the protocol name is cut short")?;
    let level = r.u8().ok_or("no protocol level")?;
    let flags = r.u8().ok_or("no connect flags")?;
    let keep_alive = r.u16().ok_or("no keep-alive")?;
    if level == 5 {
        r.properties()
            .ok_or("the CONNECT properties are cut short")?;
    }
    let client_id = r.string().ok_or("the client id is cut short")?;
    Ok(Some((
        Connect {
            protocol,
            level,
            client_id,
            keep_alive,
            clean_start: flags & 0x02 != 0,
            will: flags & 0x04 != 0,
            password: flags & PASSWORD_FLAG != 0,
            username: flags & USERNAME_FLAG != 0,
        },
        total,
    )))
}

/// Connect flags: a username, a password follow the client id (and the will, if any).
const USERNAME_FLAG: u8 = 0x80;
const PASSWORD_FLAG: u8 = 0x40;

/// The start of a CONNECT, as far as bytes that may stop before it ends hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectStart {
    /// The length of the fixed header and the protocol name, which say nothing of the device's
    /// own (its client id, username and password come later).
    pub head_len: usize,
    /// 3 (MQTT 3.1), 4 (3.1.1) or 5, once the bytes reach it.
    pub level: Option<u8>,
    /// Whether a username and a password follow, once the bytes reach the connect flags.
    pub credentials: Option<(bool, bool)>,
}

/// Reads the start of a CONNECT from bytes that may stop before it ends (the first bytes of a
/// stream that is not TLS): `None` unless they begin like one, with the fixed header 0x10, a
/// remaining length and the protocol name `MQTT` (3.1.1, 5) or `MQIsdp` (3.1).
pub fn connect_start(bytes: &[u8]) -> Option<ConnectStart> {
    if bytes.first() != Some(&0x10) {
        return None;
    }
    let (_, length_len) = varint(&bytes[1..]).ok().flatten()?;
    let mut r = Reader(&bytes[1 + length_len..]);
    let protocol = r.string()?;
    if protocol != "MQTT" && protocol != "MQIsdp" {
        return None;
    }
    let head_len = bytes.len() - r.0.len();
    let level = r.u8();
    let credentials = r
        .u8()
        .map(|flags| (flags & USERNAME_FLAG != 0, flags & PASSWORD_FLAG != 0));
    Some(ConnectStart {
        head_len,
        level,
        credentials,
    })
}

/// The MQTT version of a protocol level, as people name it.
pub fn version_name(level: u8) -> &'static str {
    match level {
        3 => "3.1",
        4 => "3.1.1",
        5 => "5",
        _ => "?",
    }
}

/// What `connect --mqtt` sends.
#[derive(Debug, Clone)]
pub struct ConnectRequest {
    /// 4 (MQTT 3.1.1) or 5.
    pub level: u8,
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<Password>,
    pub keep_alive: u16,
}

/// An MQTT password: sent in the CONNECT, never shown (its `Debug` says so), wiped when dropped.
#[derive(Clone)]
pub struct Password(pub zeroize::Zeroizing<String>);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(not shown)")
    }
}

impl ConnectRequest {
    /// The CONNECT packet: clean start, no will.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::new();
        put_string(&mut body, "MQTT");
        body.push(self.level);
        let username_flag = if self.username.is_some() { 0x80 } else { 0 };
        let password_flag = if self.password.is_some() { 0x40 } else { 0 };
        body.push(username_flag | password_flag | 0x02);
        body.extend_from_slice(&self.keep_alive.to_be_bytes());
        if self.level == 5 {
            body.push(0); // no properties
        }
        put_string(&mut body, &self.client_id);
        if let Some(username) = &self.username {
            put_string(&mut body, username);
        }
        if let Some(Password(password)) = &self.password {
            put_string(&mut body, password);
        }
        let mut packet = vec![0x10];
        put_varint(&mut packet, body.len());
        packet.extend_from_slice(&body);
        packet
    }

    /// The CONNECT as the transcript shows it.
    pub fn summary(&self) -> Connect {
        Connect {
            protocol: "MQTT".into(),
            level: self.level,
            client_id: self.client_id.clone(),
            keep_alive: self.keep_alive,
            clean_start: true,
            username: self.username.is_some(),
            password: self.password.is_some(),
            will: false,
        }
    }
}

/// Reads a CONNACK from the start of `bytes`: `Ok(None)` when more bytes are needed,
/// `Ok(Some(code))` once it is complete (the return code in 3.x, the reason code in 5), `Err`
/// when the first packet is something else.
pub fn parse_connack(bytes: &[u8]) -> Result<Option<u8>, String> {
    let Some(&first) = bytes.first() else {
        return Ok(None);
    };
    if first != 0x20 {
        let kind = match first >> 4 {
            14 => "a DISCONNECT".to_string(),
            0 | 15 => "not MQTT".to_string(),
            n => format!("an MQTT packet of type {n}"),
        };
        return Err(format!(
            "the broker's first packet is {kind}, not a CONNACK (fixed header 0x{first:02x})"
        ));
    }
    let Some((remaining, header_len)) = varint(&bytes[1..])? else {
        return Ok(None);
    };
    if remaining < 2 {
        return Err(format!(
            "the CONNACK is {remaining} byte(s) long, not at least 2"
        ));
    }
    let Some(body) = bytes.get(1 + header_len..1 + header_len + remaining) else {
        return Ok(None);
    };
    Ok(Some(body[1]))
}

fn put_string(out: &mut Vec<u8>, text: &str) {
    // MQTT strings are at most 65535 bytes; longer input is cut rather than mis-encoded.
    let bytes = &text.as_bytes()[..text.len().min(usize::from(u16::MAX))];
    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn put_varint(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let mut byte = (value % 128) as u8;
        value /= 128;
        if value > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if value == 0 {
            return;
        }
    }
}

/// A CONNACK with this return code (3.x) or reason code (5).
pub fn connack(level: u8, code: u8) -> Vec<u8> {
    if level == 5 {
        vec![0x20, 0x03, 0x00, code, 0x00]
    } else {
        vec![0x20, 0x02, 0x00, code]
    }
}

/// The name of a CONNACK code, for the level of the CONNECT.
pub fn connack_name(level: u8, code: u8) -> &'static str {
    if level == 5 {
        match code {
            0x00 => "Success",
            0x80 => "Unspecified error",
            0x81 => "Malformed Packet",
            0x82 => "Protocol Error",
            0x83 => "Implementation specific error",
            0x84 => "Unsupported Protocol Version",
            0x85 => "Client Identifier not valid",
            0x86 => "Bad User Name or Password",
            0x87 => "Not authorized",
            0x88 => "Server unavailable",
            0x89 => "Server busy",
            0x8a => "Banned",
            0x8c => "Bad authentication method",
            0x90 => "Topic Name invalid",
            0x95 => "Packet too large",
            0x97 => "Quota exceeded",
            0x99 => "Payload format invalid",
            0x9a => "Retain not supported",
            0x9b => "QoS not supported",
            0x9c => "Use another server",
            0x9d => "Server moved",
            0x9f => "Connection rate exceeded",
            _ => "unknown reason code",
        }
    } else {
        match code {
            0 => "Connection Accepted",
            1 => "unacceptable protocol version",
            2 => "identifier rejected",
            3 => "server unavailable",
            4 => "bad user name or password",
            5 => "not authorized",
            _ => "unknown return code",
        }
    }
}

/// An MQTT variable byte integer: `Ok(None)` when more bytes are needed.
fn varint(bytes: &[u8]) -> Result<Option<(usize, usize)>, String> {
    let mut value = 0usize;
    for (i, &b) in bytes.iter().enumerate().take(4) {
        value |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(Some((value, i + 1)));
        }
    }
    if bytes.len() >= 4 {
        Err("the remaining length takes more than 4 bytes".into())
    } else {
        Ok(None)
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    fn string(&mut self) -> Option<String> {
        let n = self.u16()?;
        self.take(n.into())
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    fn properties(&mut self) -> Option<()> {
        let (length, used) = varint(self.0).ok().flatten()?;
        self.take(used)?;
        self.take(length).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONNECT_311: [u8; 17] = [
        0x10, 0x0f, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x03, b'd',
        b'e', b'v',
    ];

    #[test]
    fn reads_a_311_connect_whole_and_in_pieces() {
        let (connect, length) = parse_connect(&CONNECT_311).unwrap().unwrap();
        assert_eq!(length, CONNECT_311.len());
        assert_eq!(
            (
                connect.protocol.as_str(),
                connect.level,
                connect.client_id.as_str()
            ),
            ("MQTT", 4, "dev")
        );
        assert_eq!(connect.keep_alive, 60);
        assert!(connect.clean_start && !connect.username && !connect.password);
        for cut in 0..CONNECT_311.len() {
            assert_eq!(
                parse_connect(&CONNECT_311[..cut]).unwrap(),
                None,
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn reads_an_mqtt5_connect_with_properties_and_credentials() {
        let bytes = [
            0x10, 0x16, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0xc2, 0x00, 0x1e, 0x03, 0x21,
            0x00, 0x0a, 0x00, 0x02, b'i', b'd', 0x00, 0x01, b'u', 0x00, 0x01, b'p',
        ];
        let (connect, _) = parse_connect(&bytes).unwrap().unwrap();
        assert_eq!((connect.level, connect.client_id.as_str()), (5, "id"));
        assert!(connect.username && connect.password);
    }

    #[test]
    fn a_connect_we_encode_is_one_we_read_back() {
        for level in [4, 5] {
            let request = ConnectRequest {
                level,
                client_id: "thing-1".repeat(30),
                username: Some("user".into()),
                password: Some(Password("pass".to_string().into())),
                keep_alive: 60,
            };
            let packet = request.encode();
            let (connect, length) = parse_connect(&packet).unwrap().unwrap();
            assert_eq!(length, packet.len());
            assert_eq!(connect, request.summary());
            assert!(connect.password);
            assert!(packet.ends_with(b"\x00\x04pass"));
            assert_eq!(
                format!("{:?}", request.password),
                "Some(Password(not shown))"
            );
        }
        let plain = ConnectRequest {
            level: 4,
            client_id: "dev".into(),
            username: None,
            password: None,
            keep_alive: 60,
        };
        assert_eq!(plain.encode(), CONNECT_311);
    }

    #[test]
    fn connacks_of_both_versions_are_read_whole_and_in_pieces() {
        for (packet, code) in [
            (connack(4, 5), 5),
            (connack(5, 0x87), 0x87),
            (connack(4, 0), 0),
        ] {
            assert_eq!(parse_connack(&packet), Ok(Some(code)));
            for cut in 0..packet.len() {
                assert_eq!(parse_connack(&packet[..cut]), Ok(None), "cut at {cut}");
            }
        }
        // MQTT 5 with properties after the reason code.
        let with_properties = [0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x0a];
        assert_eq!(parse_connack(&with_properties), Ok(Some(0)));
        assert!(
            parse_connack(&[0xe0, 0x00])
                .unwrap_err()
                .contains("DISCONNECT")
        );
        assert!(parse_connack(&[0x20, 0x01, 0x00]).is_err());
        assert!(parse_connack(b"HTTP/1.1 400").is_err());
    }

    #[test]
    fn the_start_of_a_connect_is_read_however_short() {
        let with_credentials = [
            0x10, 0x16, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0xc2, 0x00, 0x1e,
        ];
        let read = |bytes: &[u8]| connect_start(bytes);
        assert_eq!(
            read(&with_credentials),
            Some(ConnectStart {
                head_len: 8,
                level: Some(5),
                credentials: Some((true, true)),
            })
        );
        assert_eq!(
            read(&CONNECT_311[..9]),
            Some(ConnectStart {
                head_len: 8,
                level: Some(4),
                credentials: None,
            })
        );
        let mqisdp = [0x10, 0x20, 0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p'];
        assert_eq!(read(&mqisdp).map(|s| s.head_len), Some(10));
        for cut in 0..8 {
            assert_eq!(read(&CONNECT_311[..cut]), None, "cut at {cut}");
        }
        assert_eq!(read(b"GET / HTTP/1.1"), None);
        assert_eq!(read(&[0x10, 0x05, 0x00, 0x03, b'F', b'O', b'O']), None);
        assert_eq!(version_name(4), "3.1.1");
    }

    #[test]
    fn other_bytes_are_not_a_connect_and_never_panic() {
        assert!(parse_connect(b"GET / HTTP/1.1\r\n").is_err());
        assert!(parse_connect(&[0x10, 0xff, 0xff, 0xff, 0xff]).is_err());
        for n in 0..=255u8 {
            let _ = parse_connect(&[0x10, 0x03, n, n, n]);
        }
        assert_eq!(connack(4, 5), [0x20, 0x02, 0x00, 0x05]);
        assert_eq!(connack_name(4, 5), "not authorized");
        assert_eq!(connack_name(5, 0x87), "Not authorized");
    }
}
