//! One plain-text MQTT CONNECT on a new connection, to tell a plain MQTT broker from a server
//! that closes on a ClientHello for another reason: a broker without TLS closes without a byte
//! when a ClientHello arrives, which alone proves nothing. `connect` makes this probe only when
//! it was asked for MQTT or the port is MQTT's plain one, and only after such a close.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::decode::mqtt::{self, ConnectRequest};

/// The client id the probe connects with: it says who connected in the broker's log.
pub const CLIENT_ID: &str = "iotdoctor-probe";

/// What the probe got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A CONNACK with this return code: the port speaks plain MQTT.
    Connack { code: u8 },
    /// Something else: the broker's first bytes are not a CONNACK, it closed, it said nothing
    /// in time, or the connection failed.
    Other(String),
}

/// The probe's outcome, and how long it took.
#[derive(Debug, Clone)]
pub struct Probe {
    pub answer: Answer,
    pub elapsed: Duration,
}

/// Connects to `address`, sends an MQTT 3.1.1 CONNECT (no credentials) and reads the answer
/// within `timeout`; after a CONNACK sends DISCONNECT, so the broker ends the session cleanly.
pub fn probe(address: SocketAddr, timeout: Duration) -> Probe {
    let start = Instant::now();
    let answer = exchange(address, timeout, start).unwrap_or_else(Answer::Other);
    Probe {
        answer,
        elapsed: start.elapsed(),
    }
}

fn exchange(address: SocketAddr, timeout: Duration, start: Instant) -> Result<Answer, String> {
    let left = || {
        timeout
            .checked_sub(start.elapsed())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| "no answer in time".to_string())
    };
    let mut stream = TcpStream::connect_timeout(&address, left()?).map_err(|e| e.to_string())?;
    let connect = ConnectRequest {
        level: 4,
        client_id: CLIENT_ID.to_string(),
        username: None,
        password: None,
        keep_alive: 10,
    };
    stream.set_write_timeout(Some(left()?)).ok();
    stream
        .write_all(&connect.encode())
        .map_err(|e| e.to_string())?;
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    loop {
        match mqtt::parse_connack(&got) {
            Ok(Some(code)) => {
                // DISCONNECT: the broker ends the session without logging an error.
                let _ = stream.write_all(&[0xe0, 0x00]);
                return Ok(Answer::Connack { code });
            }
            Ok(None) => {}
            Err(why) => return Err(why),
        }
        if got.len() >= buf.len() {
            return Err("no CONNACK in the first bytes".into());
        }
        stream
            .set_read_timeout(Some(left()?))
            .map_err(|e| e.to_string())?;
        match stream.read(&mut buf) {
            Ok(0) => return Err("the broker closed the connection without a CONNACK".into()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err("no answer in time".into());
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}
