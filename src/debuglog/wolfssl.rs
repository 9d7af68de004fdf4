//! wolfSSL's debug log (`wolfSSL_Debugging_ON()` on a build with `--enable-debug`): function
//! entries (`wolfSSL Entering wolfSSL_new`), the client's state machine (`connect state: ...`),
//! `sent: ...` / `processing ...` per handshake message, alerts and error codes.

use super::{Credential, LoadScope, LogWhat, Out, message_name};
use crate::explain::Stack;
use crate::model::Side;

const STACK: Stack = Stack::WolfSsl;

#[derive(Debug, Default)]
pub(super) struct State {
    /// Inside SendCertificateVerify: whether a private key was used since it began.
    signing: Option<bool>,
    /// A `got ALERT!` line waits for its `Alert type:` line.
    alert_pending: bool,
}

impl State {
    /// Recognises one line; returns whether it was wolfSSL's.
    pub(super) fn line(&mut self, line: &str, out: &mut Out<'_>) -> bool {
        let text = line.trim();
        if let Some(function) = text.strip_prefix("wolfSSL Entering ") {
            self.entering(function.trim(), out);
            return true;
        }
        if let Some(rest) = text.strip_prefix("wolfSSL Leaving ") {
            // `wolfSSL_connect, return 1`, `wolfSSL_connect_TLSv13, return 1`
            let connect = rest.starts_with("wolfSSL_connect") || rest.starts_with("SSL_connect");
            if connect && rest.trim_end().ends_with("return 1") {
                out.push(STACK, LogWhat::HandshakeDone);
            }
            return true;
        }
        if let Some(code) = text.strip_prefix("wolfSSL error occurred, error = ") {
            // Positive numbers here repeat the alert just received; errors are negative.
            let code: String = code
                .chars()
                .take_while(|c| *c == '-' || c.is_ascii_digit())
                .collect();
            if code.starts_with('-') {
                out.error(STACK, &code, text);
            }
            return true;
        }
        if text.starts_with("wolfSSL_CTX_load_verify_locations") {
            out.push(
                STACK,
                LogWhat::CredentialLoaded {
                    call: "wolfSSL_CTX_load_verify_locations".into(),
                    item: Credential::Ca,
                    scope: LoadScope::Context,
                },
            );
            return true;
        }
        if let Some(state) = text.strip_prefix("connect state: ") {
            if state.trim() == "CLIENT_HELLO_SENT" {
                out.message(STACK, Side::Client, "ClientHello");
            }
            return true;
        }
        if let Some(what) = text.strip_prefix("sent: ") {
            self.sent(what.trim(), out);
            return true;
        }
        if let Some(what) = text.strip_prefix("processing ") {
            // What this side received: from its peer.
            if let Some(name) = message_name(what) {
                let from = out.log.side.peer();
                out.message(STACK, from, name);
                return true;
            }
            return false;
        }
        if text.starts_with("Using ") && text.ends_with(" private key") {
            if let Some(signed) = self.signing.as_mut() {
                *signed = true;
            }
            return true;
        }
        if text == "got ALERT!" {
            self.alert_pending = true;
            return true;
        }
        if let Some(name) = text.strip_prefix("Alert type: ")
            && std::mem::take(&mut self.alert_pending)
        {
            out.alert(STACK, Side::Server, None, None, name.trim());
            return true;
        }
        if let Some(rest) = text.strip_prefix("SendAlert: ") {
            // `SendAlert: 0 close_notify`: the number, then the name.
            let mut words = rest.split_whitespace();
            let code = words.next().and_then(|c| c.parse().ok());
            let name = words.next().unwrap_or_default();
            out.alert(STACK, Side::Client, None, code, name);
            return true;
        }
        if text == "got app DATA" {
            out.push(STACK, LogWhat::ApplicationData { from: Side::Server });
            return true;
        }
        false
    }

    fn entering(&mut self, function: &str, out: &mut Out<'_>) {
        let name = function.trim_end_matches("()");
        // wolfSSL logs its OpenSSL-compatible names too (`SSL_CTX_use_certificate_file`).
        let bare = name.strip_prefix("wolfSSL_").unwrap_or(name);
        let loaded = |item, scope| LogWhat::CredentialLoaded {
            call: name.to_string(),
            item,
            scope,
        };
        if bare == "new" || bare == "SSL_new" {
            out.push(
                STACK,
                LogWhat::SessionCreated {
                    call: name.to_string(),
                },
            );
        } else if bare.starts_with("CTX_use_certificate")
            || bare.starts_with("SSL_CTX_use_certificate")
        {
            out.push(STACK, loaded(Credential::Certificate, LoadScope::Context));
        } else if bare.starts_with("CTX_use_PrivateKey")
            || bare.starts_with("SSL_CTX_use_PrivateKey")
        {
            out.push(STACK, loaded(Credential::Key, LoadScope::Context));
        } else if bare.starts_with("use_certificate") || bare.starts_with("SSL_use_certificate") {
            out.push(STACK, loaded(Credential::Certificate, LoadScope::Session));
        } else if bare.starts_with("use_PrivateKey") || bare.starts_with("SSL_use_PrivateKey") {
            out.push(STACK, loaded(Credential::Key, LoadScope::Session));
        } else if bare == "connect_TLSv13" {
            out.version("TLSv1.3");
        } else if bare == "accept" || bare == "SSL_accept" {
            out.side(Side::Server);
        } else if name == "SendCertificateVerify" || name == "SendTls13CertificateVerify" {
            self.signing = Some(false);
        }
    }

    fn sent(&mut self, what: &str, out: &mut Out<'_>) {
        let Some(name) = message_name(what) else {
            return;
        };
        if name == "CertificateVerify" {
            // wolfSSL logs the CertificateVerify as sent even when it had no key to sign with.
            match self.signing.take() {
                Some(false) => out.push(
                    STACK,
                    LogWhat::NoSignature {
                        detail: "wolfSSL went through SendCertificateVerify without using a private key (no 'Using ... private key' line): the session has no certificate and key, so its Certificate message was empty".into(),
                    },
                ),
                _ => out.message(STACK, Side::Client, name),
            }
            return;
        }
        let from = out.log.side;
        out.message(STACK, from, name);
    }
}
