//! What loggers, consoles and serial tools write in front of each line of a TLS stack's log
//! (timestamps, syslog and ESP-IDF headers, colour codes), removed before the stacks' modules
//! read the line.
//!
//! Each prefix is matched by its exact shape, none by a mere separator, and none of these
//! shapes begins a line of wolfSSL, mbedTLS or OpenSSL: a line is never cut inside the stack's
//! own text (mbedTLS's `[ Protocol is TLSv1.2 ]` has no digits in its brackets; OpenSSL's
//! `40D0...:error:` is no time of day).

/// The prefixes one line may carry, one after another (`[RX] ` before a timestamp, syslog's
/// header before ESP-IDF's).
const MAX_PREFIXES: usize = 4;

/// A prefix's matcher: what follows the prefix, when `line` starts with one.
type Matcher = fn(&str) -> Option<&str>;

/// Every prefix known, the longest shapes first (syslog's date before a bare time of day).
const PREFIXES: &[Matcher] = &[
    colour,
    bracketed,
    syslog,
    iso_date_time,
    time_of_day,
    esp_idf,
    zephyr_level,
];

/// `line` without the prefixes in front of it, nor a colour reset at its end; `line` itself
/// when it has none.
pub(super) fn strip(line: &str) -> &str {
    let mut rest = line;
    for _ in 0..MAX_PREFIXES {
        let trimmed = rest.trim_start();
        match PREFIXES.iter().find_map(|matcher| matcher(trimmed)) {
            Some(after) => rest = after,
            None => break,
        }
    }
    trailing_colour(rest)
}

/// Terminal colour codes (`ESC [ 0;32m`), as ESP-IDF's console and others print them.
fn colour(line: &str) -> Option<&str> {
    let mut rest = line.strip_prefix("\u{1b}[")?;
    rest = rest.trim_start_matches(|c: char| c.is_ascii_digit() || c == ';');
    rest.strip_prefix('m')
}

/// A colour reset at the end of a line.
fn trailing_colour(line: &str) -> &str {
    let Some(at) = line.rfind("\u{1b}[") else {
        return line;
    };
    let code = &line[at + 2..];
    let sgr = code
        .strip_suffix('m')
        .is_some_and(|c| c.bytes().all(|b| b.is_ascii_digit() || b == b';'));
    if sgr { line[..at].trim_end() } else { line }
}

/// A bracketed timestamp (`[00:01:02.345] `, the kernel's `[  12.345678] `, Zephyr's
/// `[00:00:01.234,567] `), or a serial tool's direction (`[RX] `).
fn bracketed(line: &str) -> Option<&str> {
    let inside_and_rest = line.strip_prefix('[')?;
    let (inside, rest) = inside_and_rest.split_once(']')?;
    let timestamp = inside.bytes().any(|b| b.is_ascii_digit())
        && inside.bytes().any(|b| b == b':' || b == b'.')
        && inside
            .bytes()
            .all(|b| b.is_ascii_digit() || b" :.,-+/TZ".contains(&b));
    (timestamp || matches!(inside, "RX" | "TX")).then(|| rest.trim_start())
}

/// `2026-11-26 12:34:56.789 `, `2026-11-26T12:34:56Z `, `2026-11-26T12:34:56.123+01:00 `; and
/// after it, as syslog writes in this form, `host prog[123]: `.
fn iso_date_time(line: &str) -> Option<&str> {
    let mut at = Cursor(line);
    at.digits(4)?;
    at.byte(b'-')?;
    at.digits(2)?;
    at.byte(b'-')?;
    at.digits(2)?;
    at.byte(b'T').or_else(|| at.byte(b' '))?;
    at.clock()?;
    at.zone();
    let rest = at.space()?;
    Some(host_and_process(rest).unwrap_or(rest))
}

/// `12:34:56.789 ` or `12:34:56 `: a time of day alone (with the Arduino serial monitor's `-> `).
fn time_of_day(line: &str) -> Option<&str> {
    let mut at = Cursor(line);
    at.clock()?;
    let rest = at.space()?;
    // The Arduino IDE's serial monitor: `12:34:56.789 -> `.
    Some(rest.strip_prefix("-> ").unwrap_or(rest))
}

/// BSD syslog, as `/var/log/syslog` and journalctl write it: `Nov 26 12:34:56 host prog[123]: `
/// (or `prog: `).
fn syslog(line: &str) -> Option<&str> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = line.get(..3)?;
    if !MONTHS.contains(&month) {
        return None;
    }
    let mut at = Cursor(line[3..].strip_prefix(' ')?.trim_start_matches(' '));
    at.digits_between(1, 2)?;
    at.byte(b' ')?;
    at.clock()?;
    let rest = at.space()?;
    let (_host, rest) = rest.split_once(' ')?;
    let (process, rest) = rest.split_once(": ")?;
    (!process.is_empty() && !process.contains(' ')).then_some(rest)
}

/// `host prog[123]: `: the host and the process with its id, as syslog writes them after an
/// ISO timestamp. The id is required: without it, `connect state: ` would pass for one.
fn host_and_process(line: &str) -> Option<&str> {
    let (host, rest) = line.split_once(' ')?;
    let (process, rest) = rest.split_once("]: ")?;
    let (name, pid) = process.split_once('[')?;
    let valid = !host.is_empty()
        && !name.is_empty()
        && !name.contains(' ')
        && !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit());
    valid.then_some(rest)
}

/// ESP-IDF's log header: a level letter, the time since boot (or of day) and the tag:
/// `I (1234) wolfssl: `, `W (12:34:56.789) esp-tls: `.
fn esp_idf(line: &str) -> Option<&str> {
    let mut chars = line.chars();
    if !matches!(chars.next()?, 'E' | 'W' | 'I' | 'D' | 'V') {
        return None;
    }
    let rest = chars.as_str().strip_prefix(" (")?;
    let (time, rest) = rest.split_once(") ")?;
    let time_ok = !time.is_empty()
        && time
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b':' || b == b'.');
    let (tag, rest) = rest.split_once(": ")?;
    (time_ok && !tag.is_empty() && !tag.contains(' ')).then_some(rest)
}

/// Zephyr's level and module, after its bracketed timestamp: `<inf> net_tls: `.
fn zephyr_level(line: &str) -> Option<&str> {
    let rest = ["<err> ", "<wrn> ", "<inf> ", "<dbg> "]
        .iter()
        .find_map(|level| line.strip_prefix(level))?;
    let (module, rest) = rest.split_once(": ")?;
    (!module.is_empty() && !module.contains(' ')).then_some(rest)
}

/// Reads a prefix's parts off the front of a line.
struct Cursor<'a>(&'a str);

impl<'a> Cursor<'a> {
    fn byte(&mut self, expected: u8) -> Option<()> {
        self.0 = self.0.strip_prefix(char::from(expected))?;
        Some(())
    }

    fn digits(&mut self, count: usize) -> Option<()> {
        self.digits_between(count, count)
    }

    fn digits_between(&mut self, min: usize, max: usize) -> Option<()> {
        let run = self.0.bytes().take_while(u8::is_ascii_digit).count();
        if run < min || run > max {
            return None;
        }
        self.0 = &self.0[run..];
        Some(())
    }

    /// `12:34:56`, with a fraction of a second after `.` or `,` or none.
    fn clock(&mut self) -> Option<()> {
        self.digits_between(1, 2)?;
        self.byte(b':')?;
        self.digits(2)?;
        self.byte(b':')?;
        self.digits(2)?;
        if self.byte(b'.').or_else(|| self.byte(b',')).is_some() {
            self.digits_between(1, 9)?;
        }
        Some(())
    }

    /// `Z`, `+01:00`, `-0500`, or nothing.
    fn zone(&mut self) {
        if self.byte(b'Z').is_some() {
            return;
        }
        let saved = self.0;
        let offset = (|| {
            self.byte(b'+').or_else(|| self.byte(b'-'))?;
            self.digits(2)?;
            let _ = self.byte(b':');
            self.digits(2)
        })();
        if offset.is_none() {
            self.0 = saved;
        }
    }

    /// What follows the whitespace that must end a prefix.
    fn space(self) -> Option<&'a str> {
        let rest = self.0.trim_start();
        (rest.len() < self.0.len()).then_some(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::strip;

    const LINE: &str = "wolfSSL Entering wolfSSL_new";

    #[test]
    fn each_known_prefix_is_removed() {
        for prefix in [
            "[00:01:02.345] ",
            "[  12.345678] ",
            "[00:00:01.234,567] <inf> net_tls: ",
            "2026-11-26 12:34:56.789 ",
            "2026-11-26 12:34:56,789 ",
            "2026-11-26T12:34:56Z ",
            "2026-11-26T12:34:56.123456+01:00 host device[123]: ",
            "12:34:56.789 ",
            "12:34:56.789 -> ",
            "12:34:56 ",
            "I (1234) wolfssl: ",
            "W (12:34:56.789) esp-tls: ",
            "\u{1b}[0;32mI (1234) wolfssl: ",
            "Nov 26 12:34:56 host prog[123]: ",
            "Nov  6 12:34:56 host prog: ",
            "[RX] ",
            "[RX] [00:01:02.345] ",
            "Nov 26 12:34:56 gateway device[77]: I (1234) wolfssl: ",
        ] {
            assert_eq!(strip(&format!("{prefix}{LINE}")), LINE, "{prefix:?}");
        }
        assert_eq!(
            strip(&format!("\u{1b}[0;32mI (1) tag: {LINE}\u{1b}[0m")),
            LINE
        );
    }

    #[test]
    fn lines_of_the_stacks_are_left_whole() {
        for line in [
            LINE,
            "connect state: CLIENT_HELLO_SENT",
            "Alert type: handshake_failure",
            "ssl_tls.c:5804: |2| 0x7ffc: => handshake",
            "  . Performing the SSL/TLS handshake...ssl_tls.c:5804: |2| => handshake",
            "  ! mbedtls_ssl_handshake returned -0x7780",
            "[ Protocol is TLSv1.2 ]",
            ">>> TLS 1.2, Handshake [length 0007], Certificate",
            "40D04DE9157F0000:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure",
            "140735:error:14094412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate",
            "SSL_connect:SSLv3/TLS write client certificate",
            "depth=0 CN = broker",
            "verify error:num=20:unable to get local issuer certificate",
            "    Level=fatal(2), description=handshake failure(40)",
            "[42] something",
            "2026-11-26 is a date",
            "12:34 not a time",
            "I (x) tag: not ESP-IDF",
            "Nov 26 is no syslog",
            "",
        ] {
            assert_eq!(strip(line), line, "{line:?}");
        }
    }

    #[test]
    fn odd_bytes_never_panic() {
        for line in [
            "[",
            "[]",
            "\u{1b}[",
            "\u{1b}[0;3",
            "Nov",
            "Nov 2",
            "2026-11-26T",
            "12:34:56.",
            "I (",
            "<inf> ",
            "é [00:01] é",
            "[00:01:02.345]",
            "2026-11-26 12:34:56 host p[1]:",
        ] {
            let _ = strip(line);
        }
    }
}
