//! Failures of the connection beneath TLS, as a log states them: the system's own text
//! (`Connection refused`, `Name or service not known`) or an `errno` number.

use serde::Serialize;

/// How the connection failed beneath TLS. Serialised in snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionFailure {
    /// Nothing accepted the TCP connection (`ECONNREFUSED`).
    Refused,
    /// The host name did not resolve (`getaddrinfo` failed).
    NameNotResolved,
    /// No route to the host or its network.
    Unreachable,
    /// Connecting, or waiting for the peer, took too long.
    TimedOut,
    /// The peer reset the connection (`ECONNRESET`).
    Reset,
    /// The peer closed the connection (end of file, `EPIPE`) without an alert.
    Closed,
}

impl ConnectionFailure {
    /// A few words for the report: `connection refused`.
    pub fn describe(self) -> &'static str {
        match self {
            ConnectionFailure::Refused => "connection refused",
            ConnectionFailure::NameNotResolved => "host name not resolved",
            ConnectionFailure::Unreachable => "no route to the host",
            ConnectionFailure::TimedOut => "timed out",
            ConnectionFailure::Reset => "connection reset by the peer",
            ConnectionFailure::Closed => "connection closed by the peer",
        }
    }

    /// The failure a system message names (`strerror`, `gai_strerror` on Linux, macOS and
    /// musl), found anywhere in `text`, in any case.
    pub fn in_text(text: &str) -> Option<ConnectionFailure> {
        let lower = text.to_ascii_lowercase();
        SYSTEM_TEXTS
            .iter()
            .find(|(words, _)| lower.contains(words))
            .map(|(_, failure)| *failure)
    }

    /// The failure of an `errno` (Linux) or `WSAGetLastError()` (Windows) value a socket call
    /// reported. `on_open_connection`: the call read or wrote a connection already made (not
    /// `connect`); there, 0 means the peer closed it (end of file, no error).
    pub fn of_errno(errno: u32, on_open_connection: bool) -> Option<ConnectionFailure> {
        use ConnectionFailure::*;
        Some(match errno {
            0 if on_open_connection => Closed,
            111 | 10061 => Refused,
            104 | 10054 => Reset,
            110 | 10060 => TimedOut,
            101 | 113 | 10051 | 10065 => Unreachable,
            // EPIPE: written to a connection the peer had closed.
            32 => Closed,
            _ => return None,
        })
    }
}

/// Phrases of the system's messages, lower case. Only whole phrases that say nothing else.
const SYSTEM_TEXTS: &[(&str, ConnectionFailure)] = &[
    ("connection refused", ConnectionFailure::Refused),
    ("connection reset", ConnectionFailure::Reset),
    ("connection timed out", ConnectionFailure::TimedOut),
    ("operation timed out", ConnectionFailure::TimedOut),
    ("network is unreachable", ConnectionFailure::Unreachable),
    ("no route to host", ConnectionFailure::Unreachable),
    ("host is unreachable", ConnectionFailure::Unreachable),
    (
        "name or service not known",
        ConnectionFailure::NameNotResolved,
    ),
    (
        "temporary failure in name resolution",
        ConnectionFailure::NameNotResolved,
    ),
    (
        "no address associated with hostname",
        ConnectionFailure::NameNotResolved,
    ),
    (
        "nodename nor servname provided",
        ConnectionFailure::NameNotResolved,
    ),
    ("name does not resolve", ConnectionFailure::NameNotResolved),
    ("gethostbyname failure", ConnectionFailure::NameNotResolved),
    ("broken pipe", ConnectionFailure::Closed),
];

#[cfg(test)]
mod tests {
    use super::ConnectionFailure::*;
    use super::*;

    #[test]
    fn system_messages_name_their_failure() {
        for (text, failure) in [
            ("system library:BIO_connect:Connection refused", Refused),
            ("Connection reset by peer", Reset),
            ("connect: Connection timed out", TimedOut),
            ("Network is unreachable", Unreachable),
            ("No route to host", Unreachable),
            ("bio_addr.c:746:Name or service not known", NameNotResolved),
            ("Temporary failure in name resolution", NameNotResolved),
            (
                "nodename nor servname provided, or not known",
                NameNotResolved,
            ),
            ("Broken pipe", Closed),
        ] {
            assert_eq!(ConnectionFailure::in_text(text), Some(failure), "{text}");
        }
        for text in ["connect error", "certificate verify failed", "refused", ""] {
            assert_eq!(ConnectionFailure::in_text(text), None, "{text}");
        }
    }

    #[test]
    fn errno_zero_is_a_close_only_when_reading_or_writing() {
        assert_eq!(ConnectionFailure::of_errno(0, true), Some(Closed));
        assert_eq!(ConnectionFailure::of_errno(0, false), None);
        assert_eq!(ConnectionFailure::of_errno(111, false), Some(Refused));
        assert_eq!(ConnectionFailure::of_errno(10054, true), Some(Reset));
        assert_eq!(ConnectionFailure::of_errno(2, true), None);
    }
}
