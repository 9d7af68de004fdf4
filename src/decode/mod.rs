//! Bytes to events, with no sockets: TLS record framing ([`record`]), one connection's records
//! and handshake messages in wire order ([`wire`]), each handshake message and alert
//! ([`messages`]) and their reassembly across records ([`handshake`]), record decryption with
//! a key log (TLS 1.3: [`decrypt`], TLS 1.2: [`decrypt12`]), where records start again after a
//! hole ([`resync`]), previews of bytes that are not TLS ([`plaintext`]), and just enough MQTT
//! ([`mqtt`]).

pub mod decrypt;
pub mod decrypt12;
pub mod handshake;
pub mod messages;
pub mod mqtt;
pub mod plaintext;
mod reader;
pub mod record;
pub mod resync;
pub mod wire;
