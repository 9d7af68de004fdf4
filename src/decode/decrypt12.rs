//! Decrypting captured TLS 1.2 records with the master secret of a key log's `CLIENT_RANDOM` line.
//!
//! [`Tls12Decrypter`] derives one side's keys from the master secret and both randoms (the key
//! block of RFC 5246 section 6.3, with the TLS 1.2 PRF of section 5) and removes its record
//! protection: AES-GCM and AES-CCM (RFC 5288, RFC 6655: a 4-byte implicit salt and an 8-byte
//! explicit nonce per record), ChaCha20-Poly1305 (RFC 7905: the IV XOR the sequence number) and
//! AES-CBC with HMAC-SHA1, -SHA256 or -SHA384, MAC-then-encrypt or, when the encrypt_then_mac
//! extension was negotiated, encrypt-then-MAC (RFC 7366).

use std::fmt;

use aws_lc_rs::cipher::{AES_128, AES_256, DecryptingKey, DecryptionContext, UnboundCipherKey};
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::{aead, hmac};
use tls_parser::{TlsCipherEnc, TlsCipherEncMode, TlsCipherKx, TlsCipherMac, TlsPRF};
use zeroize::Zeroizing;

use super::decrypt::{Aead, DecryptError, Lost, MAX_LOST_RECORDS, xor_sequence};
use crate::model::codes;

/// Length of a TLS record header: content type, legacy version, length.
const HEADER_LEN: usize = 5;
/// The explicit part of an AES-GCM or AES-CCM record nonce, sent before the ciphertext.
const EXPLICIT_NONCE_LEN: usize = 8;
/// The AES block, and so the CBC IV sent before each record.
const BLOCK_LEN: usize = 16;
/// The encrypt_then_mac extension (RFC 7366).
const EXTENSION_ENCRYPT_THEN_MAC: u16 = 22;

/// How one TLS 1.2 cipher suite protects its records.
#[derive(Clone, Copy)]
enum Protection {
    /// AES-GCM or AES-CCM: nonce = 4-byte salt from the key block + 8 bytes sent per record.
    ExplicitNonce(Aead),
    /// ChaCha20-Poly1305: nonce = 12-byte IV from the key block XOR the sequence number.
    XorNonce(Aead),
    /// AES-CBC (16- or 32-byte key) with an HMAC.
    Cbc {
        key_len: usize,
        mac: hmac::Algorithm,
    },
}

impl Protection {
    /// Lengths of the MAC key, the encryption key and the implicit IV in the key block.
    fn lengths(self) -> (usize, usize, usize) {
        match self {
            Protection::ExplicitNonce(aead) => (0, aead.key_len(), 4),
            Protection::XorNonce(aead) => (0, aead.key_len(), 12),
            Protection::Cbc { key_len, mac } => (mac.digest_algorithm().output_len(), key_len, 0),
        }
    }
}

/// A TLS 1.2 cipher suite iotdoctor decrypts: its record protection and PRF hash.
#[derive(Clone, Copy)]
struct Suite {
    protection: Protection,
    prf: hmac::Algorithm,
}

impl Suite {
    fn from_code(code: u16) -> Option<Suite> {
        let info = codes::cipher_suite_info(code)?;
        if info.kx == TlsCipherKx::Tls13 {
            return None;
        }
        let prf = match info.prf {
            TlsPRF::Default | TlsPRF::Sha256 => hmac::HMAC_SHA256,
            TlsPRF::Sha384 => hmac::HMAC_SHA384,
            _ => return None,
        };
        let key_len = usize::from(info.enc_size / 8);
        let protection = match (info.enc, info.enc_mode, key_len) {
            (TlsCipherEnc::Aes, TlsCipherEncMode::Gcm, 16) => {
                Protection::ExplicitNonce(Aead::AwsLc(&aead::AES_128_GCM))
            }
            (TlsCipherEnc::Aes, TlsCipherEncMode::Gcm, 32) => {
                Protection::ExplicitNonce(Aead::AwsLc(&aead::AES_256_GCM))
            }
            (TlsCipherEnc::Aes, TlsCipherEncMode::Ccm, 16 | 32) => {
                let tag_len = if info.name.ends_with("_8") { 8 } else { 16 };
                Protection::ExplicitNonce(Aead::AesCcm { key_len, tag_len })
            }
            (TlsCipherEnc::Chacha20_Poly1305, _, _) => {
                Protection::XorNonce(Aead::AwsLc(&aead::CHACHA20_POLY1305))
            }
            (TlsCipherEnc::Aes, TlsCipherEncMode::Cbc, 16 | 32) => {
                let mac = match info.mac {
                    TlsCipherMac::HmacSha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
                    TlsCipherMac::HmacSha256 => hmac::HMAC_SHA256,
                    TlsCipherMac::HmacSha384 => hmac::HMAC_SHA384,
                    _ => return None,
                };
                Protection::Cbc { key_len, mac }
            }
            _ => return None,
        };
        Some(Suite { protection, prf })
    }
}

/// Whether [`Tls12Decrypter`] can decrypt records of this cipher suite: AES-GCM, AES-CCM,
/// ChaCha20-Poly1305, and AES-CBC with HMAC-SHA1, -SHA256 or -SHA384.
pub fn is_supported_suite(suite: u16) -> bool {
    Suite::from_code(suite).is_some()
}

/// P_hash of RFC 5246 section 5: `len` bytes from `secret` and `seed`.
fn p_hash(mac: hmac::Algorithm, secret: &[u8], seed: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let key = hmac::Key::new(mac, secret);
    let mut out = Zeroizing::new(Vec::with_capacity(len));
    let mut a = hmac::sign(&key, seed);
    while out.len() < len {
        let mut context = hmac::Context::with_key(&key);
        context.update(a.as_ref());
        context.update(seed);
        out.extend_from_slice(context.sign().as_ref());
        a = hmac::sign(&key, a.as_ref());
    }
    out.truncate(len);
    out
}

/// The TLS 1.2 PRF: P_hash(secret, label + seed).
fn prf(
    mac: hmac::Algorithm,
    secret: &[u8],
    label: &[u8],
    seed: &[u8],
    len: usize,
) -> Zeroizing<Vec<u8>> {
    p_hash(mac, secret, &[label, seed].concat(), len)
}

/// One side's keys, taken from the key block.
#[derive(Clone)]
struct Keys {
    mac: Zeroizing<Vec<u8>>,
    key: Zeroizing<Vec<u8>>,
    iv: Zeroizing<Vec<u8>>,
}

/// The extensions of a ServerHello body, by type; `None` when it is cut short.
fn server_hello_extensions(body: &[u8]) -> Option<Vec<u16>> {
    let session_id_len = usize::from(*body.get(34)?);
    let mut at = 35 + session_id_len + 3; // cipher suite, compression method
    let mut types = Vec::new();
    if body.len() == at {
        return Some(types); // No extensions.
    }
    let total = usize::from(u16::from_be_bytes([*body.get(at)?, *body.get(at + 1)?]));
    at += 2;
    let end = at.checked_add(total).filter(|&end| end <= body.len())?;
    while at + 4 <= end {
        types.push(u16::from_be_bytes([body[at], body[at + 1]]));
        let len = usize::from(u16::from_be_bytes([body[at + 2], body[at + 3]]));
        at += 4 + len;
    }
    Some(types)
}

/// The server random of a ServerHello body and whether it accepted encrypt_then_mac.
pub fn server_hello_params(body: &[u8]) -> Option<([u8; 32], bool)> {
    let random = <[u8; 32]>::try_from(body.get(2..34)?).ok()?;
    let extensions = server_hello_extensions(body).unwrap_or_default();
    Some((random, extensions.contains(&EXTENSION_ENCRYPT_THEN_MAC)))
}

/// Decrypts one direction of one TLS 1.2 connection, from the record after its
/// ChangeCipherSpec. A record that fails to decrypt changes nothing.
#[derive(Clone)]
pub struct Tls12Decrypter {
    protection: Protection,
    keys: Keys,
    encrypt_then_mac: bool,
    sequence: u64,
}

impl fmt::Debug for Tls12Decrypter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls12Decrypter")
            .field("sequence", &self.sequence)
            .field("encrypt_then_mac", &self.encrypt_then_mac)
            .finish_non_exhaustive()
    }
}

impl Tls12Decrypter {
    /// The decrypters of the client's and the server's records, in that order. `None` when the
    /// suite is not one [`is_supported_suite`] names or the master secret is not 48 bytes.
    /// `encrypt_then_mac`: the ServerHello carried the extension (it matters to CBC suites only).
    pub fn pair(
        master_secret: &[u8],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        suite: u16,
        encrypt_then_mac: bool,
    ) -> Option<[Tls12Decrypter; 2]> {
        let suite = Suite::from_code(suite)?;
        if master_secret.len() != 48 {
            return None;
        }
        let (mac_len, key_len, iv_len) = suite.protection.lengths();
        let seed = [&server_random[..], &client_random[..]].concat();
        let block = prf(
            suite.prf,
            master_secret,
            b"key expansion",
            &seed,
            2 * (mac_len + key_len + iv_len),
        );
        let mut rest: &[u8] = &block;
        let mut take = |len: usize| {
            let (part, tail) = rest.split_at(len);
            rest = tail;
            Zeroizing::new(part.to_vec())
        };
        let (client_mac, server_mac) = (take(mac_len), take(mac_len));
        let (client_key, server_key) = (take(key_len), take(key_len));
        let (client_iv, server_iv) = (take(iv_len), take(iv_len));
        let make = |mac, key, iv| Tls12Decrypter {
            protection: suite.protection,
            keys: Keys { mac, key, iv },
            encrypt_then_mac: encrypt_then_mac
                && matches!(suite.protection, Protection::Cbc { .. }),
            sequence: 0,
        };
        Some([
            make(client_mac, client_key, client_iv),
            make(server_mac, server_key, server_iv),
        ])
    }

    /// The sequence number the next record is decrypted with.
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// Moves past `n` records that were never seen (lost from a capture).
    pub fn skip_records(&mut self, n: u64) {
        self.sequence = self.sequence.wrapping_add(n);
    }

    /// Decrypts the first record after records went missing: tries the sequence numbers of up
    /// to `MAX_LOST_RECORDS` lost records. On success the decrypter is left in step.
    pub fn decrypt_after_loss(&mut self, record: &[u8]) -> Option<(Lost, (u8, Vec<u8>))> {
        for lost in 0..=MAX_LOST_RECORDS {
            let mut candidate = self.clone();
            candidate.skip_records(lost);
            if let Ok(result) = candidate.decrypt(record) {
                *self = candidate;
                return Some((Lost::Records(lost), result));
            }
        }
        None
    }

    /// Decrypts one protected record (the full 5-byte header and body, as on the wire).
    /// Returns its content type (the header's: TLS 1.2 does not hide it) and its plaintext, and
    /// advances the sequence number. On failure nothing changes.
    pub fn decrypt(&mut self, record: &[u8]) -> Result<(u8, Vec<u8>), DecryptError> {
        let length = record.len();
        let (header, body) = record
            .split_first_chunk::<HEADER_LEN>()
            .ok_or(DecryptError::TooShort { length })?;
        let declared = usize::from(u16::from_be_bytes([header[3], header[4]]));
        if declared != body.len() {
            return Err(DecryptError::LengthMismatch {
                declared,
                actual: body.len(),
            });
        }
        let plaintext = match self.protection {
            Protection::ExplicitNonce(aead) => self.open_explicit(aead, header, body),
            Protection::XorNonce(aead) => self.open_xor(aead, header, body),
            Protection::Cbc { key_len, mac } => self.open_cbc(key_len, mac, header, body),
        }?;
        self.sequence = self.sequence.wrapping_add(1);
        Ok((header[0], plaintext))
    }

    /// The additional data of an AEAD record, and the MAC's prefix of a CBC one: the sequence
    /// number, the content type and version, and a length.
    fn additional_data(&self, header: &[u8; HEADER_LEN], length: usize) -> Option<[u8; 13]> {
        let length = u16::try_from(length).ok()?.to_be_bytes();
        let mut ad = [0; 13];
        ad[..8].copy_from_slice(&self.sequence.to_be_bytes());
        ad[8..11].copy_from_slice(&header[..3]);
        ad[11..].copy_from_slice(&length);
        Some(ad)
    }

    fn open_explicit(
        &self,
        aead: Aead,
        header: &[u8; HEADER_LEN],
        body: &[u8],
    ) -> Result<Vec<u8>, DecryptError> {
        let too_short = DecryptError::TooShort {
            length: HEADER_LEN + body.len(),
        };
        let (explicit, sealed) = body
            .split_first_chunk::<EXPLICIT_NONCE_LEN>()
            .ok_or(too_short.clone())?;
        let text_len = sealed.len().checked_sub(aead.tag_len()).ok_or(too_short)?;
        let mut nonce = [0; 12];
        nonce[..4].copy_from_slice(&self.keys.iv);
        nonce[4..].copy_from_slice(explicit);
        let ad = self
            .additional_data(header, text_len)
            .ok_or(DecryptError::Authentication)?;
        let mut in_out = sealed.to_vec();
        let len = aead
            .open(&self.keys.key, nonce, &ad, &mut in_out)
            .ok_or(DecryptError::Authentication)?;
        in_out.truncate(len);
        Ok(in_out)
    }

    fn open_xor(
        &self,
        aead: Aead,
        header: &[u8; HEADER_LEN],
        body: &[u8],
    ) -> Result<Vec<u8>, DecryptError> {
        let text_len = body
            .len()
            .checked_sub(aead.tag_len())
            .ok_or(DecryptError::TooShort {
                length: HEADER_LEN + body.len(),
            })?;
        let iv = <[u8; 12]>::try_from(self.keys.iv.as_slice())
            .map_err(|_| DecryptError::Authentication)?;
        let ad = self
            .additional_data(header, text_len)
            .ok_or(DecryptError::Authentication)?;
        let mut in_out = body.to_vec();
        let len = aead
            .open(
                &self.keys.key,
                xor_sequence(iv, self.sequence),
                &ad,
                &mut in_out,
            )
            .ok_or(DecryptError::Authentication)?;
        in_out.truncate(len);
        Ok(in_out)
    }

    /// AES-CBC: the IV, then the ciphertext; the MAC inside it (MAC-then-encrypt) or after it
    /// (encrypt-then-MAC). A bad MAC or bad padding is reported as an authentication failure.
    fn open_cbc(
        &self,
        key_len: usize,
        mac: hmac::Algorithm,
        header: &[u8; HEADER_LEN],
        body: &[u8],
    ) -> Result<Vec<u8>, DecryptError> {
        let mac_len = mac.digest_algorithm().output_len();
        let too_short = DecryptError::TooShort {
            length: HEADER_LEN + body.len(),
        };
        let mac_key = hmac::Key::new(mac, &self.keys.mac);
        let sealed = if self.encrypt_then_mac {
            let split = body.len().checked_sub(mac_len).ok_or(too_short.clone())?;
            let (sealed, tag) = body.split_at(split);
            let ad = self
                .additional_data(header, sealed.len())
                .ok_or(DecryptError::Authentication)?;
            hmac::verify(&mac_key, &[&ad[..], sealed].concat(), tag)
                .map_err(|_| DecryptError::Authentication)?;
            sealed
        } else {
            body
        };
        let (iv, ciphertext) = sealed
            .split_first_chunk::<BLOCK_LEN>()
            .ok_or(too_short.clone())?;
        if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(BLOCK_LEN) {
            return Err(too_short);
        }
        let algorithm = if key_len == 16 { &AES_128 } else { &AES_256 };
        let key = UnboundCipherKey::new(algorithm, &self.keys.key)
            .and_then(DecryptingKey::cbc)
            .map_err(|_| DecryptError::Authentication)?;
        let mut plaintext = ciphertext.to_vec();
        key.decrypt(
            &mut plaintext,
            DecryptionContext::Iv128(FixedLength::from(*iv)),
        )
        .map_err(|_| DecryptError::Authentication)?;
        // Padding: its length byte, then that many bytes of the same value before it.
        let padding = usize::from(*plaintext.last().ok_or(DecryptError::Authentication)?);
        let unpadded = plaintext
            .len()
            .checked_sub(padding + 1)
            .ok_or(DecryptError::Authentication)?;
        if plaintext[unpadded..]
            .iter()
            .any(|&b| usize::from(b) != padding)
        {
            return Err(DecryptError::Authentication);
        }
        plaintext.truncate(unpadded);
        if !self.encrypt_then_mac {
            let content_len = plaintext
                .len()
                .checked_sub(mac_len)
                .ok_or(DecryptError::Authentication)?;
            let (content, tag) = plaintext.split_at(content_len);
            let ad = self
                .additional_data(header, content_len)
                .ok_or(DecryptError::Authentication)?;
            hmac::verify(&mac_key, &[&ad[..], content].concat(), tag)
                .map_err(|_| DecryptError::Authentication)?;
            plaintext.truncate(content_len);
        }
        Ok(plaintext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(text: &str) -> Vec<u8> {
        let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
            .collect()
    }

    fn random(text: &str) -> [u8; 32] {
        h(text).try_into().expect("32 bytes")
    }

    /// One openssl 3.0 TLS 1.2 connection of fixtures/pcaps (`gen-keylogs.sh`): its randoms,
    /// the master secret of its key log, the client's protected records in order (Finished,
    /// "hello\n", close_notify) and the server's close_notify, its record 1 (after Finished).
    struct Connection {
        suite: u16,
        encrypt_then_mac: bool,
        client_random: &'static str,
        server_random: &'static str,
        master: &'static str,
        client: [&'static str; 3],
        server_alert: &'static str,
    }

    const CONNECTIONS: [Connection; 4] = [
        Connection {
            suite: 0xc02b, // ECDHE-ECDSA-AES128-GCM-SHA256: `gcm-tls12`
            encrypt_then_mac: false,
            client_random: "0e9fdd980e8f26fe61b03786b2d35e067fbf87cc1cf031f4fdb45cef7afc1922",
            server_random: "b54a4974782434de6031bf78f10beaad24fe5307574afc5c4eaae659866bdcbb",
            master: "b272af0ccb9a3241ce1beb9b916c24d74d41f9eb4de2deab869d37b72f6d7c73a61b12776c47a9d964e7743e39da5aaf",
            client: [
                "160303002817c39597c76c6336503236428d18e185681ad6383bde76d3caad604f26aa4ed8c7e41af53a90ccbf",
                "170303001e17c39597c76c6337383d0fe34f2b802d9409b6909382c5613e4d3251b20c",
                "150303001a17c39597c76c63387ffdbb8cb579ce5c2a0ca8ae2d9595e225ac",
            ],
            server_alert: "150303001a750189f2b761489582a7bda621d7e527cd6a0e179d0439f9b56d",
        },
        Connection {
            suite: 0xcca9, // ECDHE-ECDSA-CHACHA20-POLY1305: `chacha-tls12`
            encrypt_then_mac: false,
            client_random: "ed2e0ac207bf221a64a1919ed7e4e19b7b452957537e103c4a63f2093a0a1746",
            server_random: "8d71910f489a11801921637a316464a147af676d60bd001302ed5413499a3eb7",
            master: "e5cbc0a87fb4c96664b2efc2dfd27393fa1251f37961a9f9fa0a3c0f9c493d2b378f72976c12f4ad9dfee0a5a300d638",
            client: [
                "160303002071fa660f155d649c389d8f83e27df8e3e99d1c98953088da37fb9770ef167ebf",
                "17030300167f83d3538a72874fb1e9dfb521e5976ada689800433f",
                "1503030012ff76c674c75590dc76e2e4ea76364030193a",
            ],
            server_alert: "1503030012a0fea61b4b0658ed219e79de44280f9c3ef9",
        },
        Connection {
            suite: 0xc023, // ECDHE-ECDSA-AES128-SHA256, encrypt-then-MAC: `cbc-tls12`
            encrypt_then_mac: true,
            client_random: "f31593ca6918c38b83dfb107327d465ac9a8f49c004124fd4a60fe646a3b06c6",
            server_random: "ad3fce49d3f0a04587384f8311a0878a8295ad76f55a7517cb613cecdf4eff4e",
            master: "8b54f5b3aa8bb9378426a9d79200156246acc1e23b3b19fac51f902e7027cfe8b877d08800e84cd768867b089f6c1c6d",
            client: [
                "1603030050d5e130306cf59a893911b801b529bc55a43c057fe854c2594625992010214272551b90c5c40ea9c077ea297c91f2d32f0b489665a4556d9b7357a9efde6a8847b222391f3f29e6085ed149c01079bd56",
                "1703030040b1b611344883bf6d1a7ca56492af9654e96ce980eb0857accd04f0130fb834ad21586052fe94764fadc5c96a6df82d977667e4318570d66fc97b0d653bfc7a15",
                "15030300400477c634e26a9a64b1725a4477390277e42e0b7690cf8863af63bbce943894ad464af0aa55fc2d2ed2f7bd29cef1109c15e40c0ff71aed15c5fb47de10e49fc4",
            ],
            server_alert: "150303004048faaf5f516ea6dbb5b7da543f24190b7a90a3dd2a053350dbd5e5739606fa9ad54072a8ed94359097f3c2ad152490ee46fe8d81a79f4acc7cdcf0310c798ae1",
        },
        Connection {
            suite: 0xc00a, // ECDHE-ECDSA-AES256-SHA, MAC-then-encrypt: `cbc-etm-off-tls12`
            encrypt_then_mac: false,
            client_random: "32496d4dcb1fed92fe2496c924e73015b786a5cf298ae4185be43b89ab5f1b9e",
            server_random: "72e56dc79008a2d6d1c93ba7084679b5404ba486b180a7a559cfe7b96c62ca22",
            master: "d6e1115fbad77e6436ad86e1a20164e837e57a23028e3872b31c63fb06c362cce1db297ff779ad3a70a1d55c8748fd9e",
            client: [
                "160303004020596301de5e74b1b2c53454abed01d3a747e220aafa47a6a87073863ebdb712fe1493d6330ea3978dbad3fa042c1849de1b30283bae47fb73e00298772171e7",
                "17030300306933354a02eec0227777c2f0dedb0fbe5d2eb0441e483f43488e3ba3759340e4c2dc7d137a8976e146d9e06494ad1aef",
                "1503030030be9efdb4b77c251c507d485ef56d68ac1ead7d41a0b9637df1b6ce6364c6097a895f842356dd0a43f31b0b96bcabe61f",
            ],
            server_alert: "15030300309b3e817ab2d1b690a39d1cdd26c92d397b954df4b42e921ef35ccd7c4cd7d23c2eb2b7e68cfbaa35bccbac4f66286d51",
        },
    ];

    fn pair(c: &Connection) -> [Tls12Decrypter; 2] {
        Tls12Decrypter::pair(
            &h(c.master),
            &random(c.client_random),
            &random(c.server_random),
            c.suite,
            c.encrypt_then_mac,
        )
        .expect("supported suite")
    }

    #[test]
    fn decrypts_openssl_tls12_records() {
        for c in &CONNECTIONS {
            let case = format!("suite {:#06x}", c.suite);
            let [mut client, mut server] = pair(c);
            let (content_type, finished) = client.decrypt(&h(c.client[0])).expect(&case);
            assert_eq!(content_type, 22, "{case}");
            assert_eq!(
                finished[..4],
                [20, 0, 0, 12],
                "{case}: Finished, 12 bytes of verify_data"
            );
            assert_eq!(finished.len(), 16, "{case}");
            let data = client.decrypt(&h(c.client[1])).expect(&case);
            assert_eq!(data, (23, b"hello\n".to_vec()), "{case}");
            let alert = client.decrypt(&h(c.client[2])).expect(&case);
            assert_eq!(alert, (21, vec![1, 0]), "{case}: close_notify");
            assert_eq!(client.sequence(), 3, "{case}");

            // The server's Finished was its record 0 after its ChangeCipherSpec.
            server.skip_records(1);
            let alert = server.decrypt(&h(c.server_alert)).expect(&case);
            assert_eq!(alert, (21, vec![1, 0]), "{case}: server close_notify");
        }
    }

    #[test]
    fn the_wrong_secret_sequence_or_byte_fails_without_advancing() {
        for c in &CONNECTIONS {
            let case = format!("suite {:#06x}", c.suite);
            let record = h(c.client[0]);
            // The server's keys, not the client's.
            let [_, mut server] = pair(c);
            assert_eq!(
                server.decrypt(&record),
                Err(DecryptError::Authentication),
                "{case}"
            );
            assert_eq!(server.sequence(), 0, "{case}");
            // Another master secret.
            let mut master = h(c.master);
            master[0] ^= 1;
            let [mut client, _] = Tls12Decrypter::pair(
                &master,
                &random(c.client_random),
                &random(c.server_random),
                c.suite,
                c.encrypt_then_mac,
            )
            .expect("pair");
            assert!(client.decrypt(&record).is_err(), "{case}");
            // The wrong sequence number; then the right one, after a lost record.
            let [mut client, _] = pair(c);
            assert!(client.decrypt(&h(c.client[1])).is_err(), "{case}");
            assert_eq!(
                client
                    .decrypt_after_loss(&h(c.client[1]))
                    .map(|(lost, _)| lost),
                Some(Lost::Records(1)),
                "{case}"
            );
            assert_eq!(client.sequence(), 2, "{case}");
            // Every flipped bit past the header fails (the header's: length or AD).
            for at in 0..record.len() {
                let mut tampered = record.clone();
                tampered[at] ^= 0x80;
                let [mut client, _] = pair(c);
                assert!(client.decrypt(&tampered).is_err(), "{case}: byte {at}");
                assert_eq!(client.sequence(), 0, "{case}");
            }
            for len in 0..record.len() {
                let [mut client, _] = pair(c);
                assert!(
                    client.decrypt(&record[..len]).is_err(),
                    "{case}: {len} bytes"
                );
            }
        }
        // encrypt-then-MAC records do not open as MAC-then-encrypt ones, nor the reverse.
        for c in &CONNECTIONS[2..] {
            let [mut client, _] = Tls12Decrypter::pair(
                &h(c.master),
                &random(c.client_random),
                &random(c.server_random),
                c.suite,
                !c.encrypt_then_mac,
            )
            .expect("pair");
            assert!(client.decrypt(&h(c.client[0])).is_err());
        }
    }

    #[test]
    fn server_hello_says_encrypt_then_mac() {
        // The ServerHello bodies of `cbc-tls12` (with the extension) and `cbc-etm-off-tls12`.
        let with = h(
            "0303ad3fce49d3f0a04587384f8311a0878a8295ad76f55a7517cb613cecdf4eff4e00c023000019ff01000100000b000403000102002300000016000000170000",
        );
        let without = h(
            "030372e56dc79008a2d6d1c93ba7084679b5404ba486b180a7a559cfe7b96c62ca2200c00a000015ff01000100000b0004030001020023000000170000",
        );
        assert_eq!(
            server_hello_params(&with),
            Some((random(CONNECTIONS[2].server_random), true))
        );
        assert_eq!(
            server_hello_params(&without),
            Some((random(CONNECTIONS[3].server_random), false))
        );
        for len in 0..with.len() {
            let params = server_hello_params(&with[..len]);
            assert_eq!(params.is_some(), len >= 34, "{len} bytes");
        }
    }

    #[test]
    fn suites() {
        for suite in [
            0xc02b, 0xc02c, 0xc02f, 0xc030, 0x009c, 0xcca8, 0xcca9, 0xc023, 0xc024,
        ] {
            assert!(is_supported_suite(suite), "{suite:#06x}");
        }
        for suite in [0xc009, 0xc013, 0x002f, 0x0035, 0xc0ac, 0xc0ae, 0xc0ad] {
            assert!(is_supported_suite(suite), "{suite:#06x}");
        }
        // TLS 1.3, ARIA, 3DES, RC4, Camellia, NULL, unknown.
        for suite in [0x1301, 0xc05c, 0x000a, 0x0005, 0xc072, 0x0002, 0xffff] {
            assert!(!is_supported_suite(suite), "{suite:#06x}");
        }
        let c = &CONNECTIONS[0];
        assert!(
            Tls12Decrypter::pair(&h(c.master)[..47], &[0; 32], &[0; 32], 0xc02b, false).is_none()
        );
    }

    /// The records of `gcm-tls12` the decoder needs for the client's side: ClientHello,
    /// ServerHello, then the client's ClientKeyExchange, ChangeCipherSpec, Finished, data and
    /// close_notify.
    const GCM_CLIENT_HELLO: &str = "16030100950100009103030e9fdd980e8f26fe61b03786b2d35e067fbf87cc1cf031f4fdb45cef7afc1922000004c02b00ff010000640000000e000c0000096c6f63616c686f7374000b000403000102000a000c000a001d0017001e00190018002300000016000000170000000d002a0028040305030603080708080809080a080b080408050806040105010601030303010302040205020602";
    const GCM_SERVER_HELLO: &str = "16030300410200003d0303b54a4974782434de6031bf78f10beaad24fe5307574afc5c4eaae659866bdcbb00c02b000015ff01000100000b0004030001020023000000170000";
    const GCM_CLIENT_KEY_EXCHANGE: &str =
        "16030300251000002120a920cec865cdcf55a8c6058a24fbea172d91c201bfee9c5d3f8abe5b2adbe539";
    const CHANGE_CIPHER_SPEC: &str = "140303000101";

    /// Feeds the client's side of `gcm-tls12` to a decoder with a key log holding `master`,
    /// leaving out its data record when `skip_data`; returns the events.
    fn decode_gcm(master: &str, skip_data: bool) -> Vec<crate::model::Event> {
        use crate::decode::decrypt::KeyLog;
        use crate::decode::wire::Wire;
        use crate::model::Side;
        let c = &CONNECTIONS[0];
        let log = KeyLog::parse(&format!("CLIENT_RANDOM {} {master}", c.client_random));
        let mut wire = Wire::with_keys(std::sync::Arc::new(log));
        let mut events = wire.feed(Side::Client, &h(GCM_CLIENT_HELLO), 0.0);
        events.extend(wire.feed(Side::Server, &h(GCM_SERVER_HELLO), 1.0));
        let mut client = vec![GCM_CLIENT_KEY_EXCHANGE, CHANGE_CIPHER_SPEC, c.client[0]];
        if !skip_data {
            client.push(c.client[1]);
        }
        client.push(c.client[2]);
        for record in client {
            events.extend(wire.feed(Side::Client, &h(record), 2.0));
        }
        events
    }

    fn notes(events: &[crate::model::Event]) -> Vec<&str> {
        events
            .iter()
            .filter_map(|e| match &e.what {
                crate::model::What::Note { message } => Some(message.as_str()),
                _ => None,
            })
            .collect()
    }

    /// In the decoder: the client's Finished and close_notify are read; a record left out
    /// makes the next one fail without blaming the key log, which wrong secrets do.
    #[test]
    fn the_decoder_reads_tls12_records_and_says_why_one_fails() {
        use crate::model::{Handshake, Seen, What};
        let c = &CONNECTIONS[0];
        let events = decode_gcm(c.master, false);
        assert!(notes(&events).is_empty(), "{:?}", notes(&events));
        assert!(events.iter().any(|e| matches!(
            e.what,
            What::Handshake {
                message: Handshake::Finished,
                ..
            }
        )));
        assert!(events.iter().any(|e| matches!(
            &e.what,
            What::Alert { seen: Seen::Decrypted, description, .. } if description.code == 0
        )));

        let events = decode_gcm(c.master, true);
        let notes_seen = notes(&events);
        assert_eq!(notes_seen.len(), 1, "{notes_seen:?}");
        assert!(notes_seen[0].contains("stop decrypting"), "{notes_seen:?}");
        assert!(!notes_seen[0].starts_with("key log: "), "{notes_seen:?}");

        let wrong = format!("{}00", &c.master[..94]);
        let events = decode_gcm(&wrong, false);
        let notes_seen = notes(&events);
        assert_eq!(notes_seen.len(), 1, "{notes_seen:?}");
        assert!(
            notes_seen[0].starts_with("key log: ") && notes_seen[0].contains("they are wrong"),
            "{notes_seen:?}"
        );
    }

    /// Random bytes as records never panic, and never decrypt.
    #[test]
    fn random_records_never_panic() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut decrypters: Vec<Tls12Decrypter> = CONNECTIONS.iter().flat_map(pair).collect();
        for _ in 0..2000 {
            let len = (next() % 300) as usize;
            let mut record: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if len >= HEADER_LEN && next() % 2 == 0 {
                let body = u16::try_from(len - HEADER_LEN).expect("short");
                record[..3].copy_from_slice(&[23, 3, 3]);
                record[3..HEADER_LEN].copy_from_slice(&body.to_be_bytes());
            }
            for decrypter in &mut decrypters {
                assert!(decrypter.decrypt(&record).is_err());
                assert_eq!(decrypter.sequence(), 0);
            }
            let _ = server_hello_params(&record);
        }
    }
}
