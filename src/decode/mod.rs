//! Bytes to events, with no sockets: TLS records and handshake messages ([`wire`]), TLS 1.3
//! record decryption ([`decrypt`]), where records start again after a hole ([`resync`]),
//! previews of bytes that are not TLS ([`plaintext`]), and just enough MQTT ([`mqtt`]).

pub mod decrypt;
pub mod mqtt;
pub mod plaintext;
pub mod resync;
pub mod wire;
