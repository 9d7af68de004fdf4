//! What the unit tests share: the fixture PKI, deterministic randomness, and the plumbing of a
//! rustls client and server talking to each other in memory.

use std::path::PathBuf;
use std::sync::Mutex;

use rustls::Connection;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A file of `fixtures/pki`.
pub fn pki(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/pki")
        .join(name)
}

/// The certificates of a fixture PEM file.
pub fn certs(name: &str) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(pki(name))
        .expect(name)
        .collect::<Result<_, _>>()
        .expect(name)
}

/// The private key of a fixture PEM file.
pub fn key(name: &str) -> PrivateKeyDer<'static> {
    PrivateKeyDer::from_pem_file(pki(name)).expect(name)
}

/// Deterministic pseudo-random numbers (xorshift64*), so the tests need no extra crate.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// An index or a length below `n` (0 when `n` is 0).
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }
}

/// Collects a client's secrets as NSS key log lines.
#[derive(Debug, Default)]
pub struct CollectingKeyLog(Mutex<String>);

impl CollectingKeyLog {
    pub fn text(&self) -> String {
        self.0.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

impl rustls::KeyLog for CollectingKeyLog {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        if let Ok(mut text) = self.0.lock() {
            text.push_str(&format!("{label} {} {}\n", hex(client_random), hex(secret)));
        }
    }
}

/// Moves everything `from` wants to write to `to`, handing each chunk to `sent`. Returns
/// whether anything moved.
pub fn transfer(from: &mut Connection, to: &mut Connection, mut sent: impl FnMut(Vec<u8>)) -> bool {
    let mut moved = false;
    while from.wants_write() {
        let mut bytes = Vec::new();
        from.write_tls(&mut bytes).expect("write_tls");
        if bytes.is_empty() {
            break;
        }
        let mut unread = &bytes[..];
        while !unread.is_empty() {
            to.read_tls(&mut unread).expect("read_tls");
            to.process_new_packets().expect("peer accepts the bytes");
        }
        sent(bytes);
        moved = true;
    }
    moved
}
