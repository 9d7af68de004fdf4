//! Reading credential files: PEM (many blocks, any order, CRLF, leading text), DER, PKCS#12 and
//! encrypted PKCS#8. What a file holds is reported as it is; whether that is what the user meant
//! is decided by the caller, which knows the file's role.

use std::fmt;
use std::path::{Path, PathBuf};

use rustls::pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer,
};
use serde::Serialize;
use x509_parser::prelude::{FromDer, X509Certificate};
use zeroize::Zeroizing;

use crate::error::{Error, InputProblem, NotPemOrDer, PemLabel, PemLine, PemProblem};
use crate::model::certificate::KeyEncoding;

/// Where passwords for encrypted keys and PKCS#12 files come from.
pub trait PasswordSource {
    /// The password for `path`, or an error saying how to provide one.
    fn password(&self, path: &Path) -> Result<Zeroizing<String>, Error>;
}

/// How a file was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Container {
    Pem,
    Der,
    Pkcs12,
}

impl fmt::Display for Container {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Container::Pem => "PEM",
            Container::Der => "DER",
            Container::Pkcs12 => "PKCS#12",
        })
    }
}

/// A private key as read from a file (decrypted if it was encrypted). Its bytes are never printed.
pub struct PrivateKey {
    pub der: PrivateKeyDer<'static>,
    pub encoding: KeyEncoding,
    pub encrypted: bool,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PrivateKey({}, encrypted: {}, material hidden)",
            self.encoding, self.encrypted
        )
    }
}

/// Something in a file that is neither a certificate nor a private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Other {
    EcParameters,
    PublicKey,
    CertificateRequest,
    Crl,
    /// A block of another label; its label only when it looks like one.
    Unknown(PemLabel),
}

impl fmt::Display for Other {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Other::EcParameters => f.write_str("EC PARAMETERS block"),
            Other::PublicKey => f.write_str("a public key"),
            Other::CertificateRequest => f.write_str("a certificate signing request (CSR)"),
            Other::Crl => f.write_str("a certificate revocation list"),
            Other::Unknown(label) => write!(f, "a '{label}' PEM block"),
        }
    }
}

/// Everything found in one file, in file order.
#[derive(Debug)]
pub struct FileContents {
    pub path: PathBuf,
    pub container: Container,
    pub certs: Vec<CertificateDer<'static>>,
    pub keys: Vec<PrivateKey>,
    pub others: Vec<Other>,
}

impl FileContents {
    fn new(path: &Path, container: Container) -> Self {
        FileContents {
            path: path.to_path_buf(),
            container,
            certs: vec![],
            keys: vec![],
            others: vec![],
        }
    }

    /// What the file holds, for "this file holds X, not Y" messages.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        match self.certs.len() {
            0 => {}
            1 => parts.push("a certificate".to_string()),
            n => parts.push(format!("{n} certificates")),
        }
        match self.keys.len() {
            0 => {}
            1 => parts.push("a private key".to_string()),
            n => parts.push(format!("{n} private keys")),
        }
        parts.extend(self.others.iter().map(Other::to_string));
        if parts.is_empty() {
            "nothing iotdoctor recognises".into()
        } else {
            parts.join(" and ")
        }
    }
}

/// A credential file given by its contents instead of read from disk, under the name reports
/// show for it: the demo's built-in test PKI.
#[derive(Clone, Copy)]
pub struct Embedded {
    pub path: &'static str,
    pub bytes: &'static [u8],
}

impl fmt::Debug for Embedded {
    // The bytes may be a private key: only their length is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Embedded({}, {} bytes)", self.path, self.bytes.len())
    }
}

/// The bytes of the file at `path`; `-` is stdin (`vault read ... | iotdoctor check-certs --cert
/// - --key key.pem` keeps a credential off disk).
pub fn contents(path: &Path) -> Result<Vec<u8>, Error> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes).map(|_| bytes)
    } else {
        std::fs::read(path)
    }
    .map_err(|e| Error::input(path, InputProblem::Unreadable(e)))
}

/// Reads a certificate or key file, PEM or DER. Encrypted keys are decrypted with a password
/// from `passwords`, asked for only when one is met.
pub fn read_file(path: &Path, passwords: &dyn PasswordSource) -> Result<FileContents, Error> {
    let bytes = contents(path)?;
    read_bytes(path, &bytes, passwords)
}

/// Reads the contents of the certificate or key file `path`, as [`read_file`] does.
pub fn read_bytes(
    path: &Path,
    bytes: &[u8],
    passwords: &dyn PasswordSource,
) -> Result<FileContents, Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::input(path, InputProblem::Empty));
    }
    if contains(bytes, b"-----BEGIN ") {
        read_pem(path, bytes, passwords)
    } else if looks_like_pkcs12(bytes) {
        read_pkcs12(path, bytes, passwords)
    } else {
        read_der(path, bytes, passwords)
    }
}

/// Reads a PKCS#12 (.p12 / .pfx) bundle.
pub fn read_pkcs12(
    path: &Path,
    bytes: &[u8],
    passwords: &dyn PasswordSource,
) -> Result<FileContents, Error> {
    use p12_keystore::Pkcs12Archive;
    if !looks_like_pkcs12(bytes) {
        let found = read_bytes(path, bytes, passwords)
            .map(|c| c.describe())
            .unwrap_or_else(|_| "data that is not PKCS#12".into());
        return Err(Error::input(
            path,
            InputProblem::WrongKind {
                expected: "a PKCS#12 bundle",
                found,
            },
        ));
    }
    // Bundles exported without a password are common; try that before asking.
    let archive = match Pkcs12Archive::from_pkcs12(bytes, "") {
        Ok(archive) => archive,
        Err(_) => {
            let password = passwords.password(path)?;
            Pkcs12Archive::from_pkcs12(bytes, &password).map_err(|e| match e {
                p12_keystore::error::Error::MacError(_) => Error::input(
                    path,
                    InputProblem::WrongPassword("PKCS#12 integrity check failed"),
                ),
                other => Error::input(path, InputProblem::BadPkcs12(pkcs12_reason(&other))),
            })?
        }
    };
    let mut contents = FileContents::new(path, Container::Pkcs12);
    for bag in archive.certs {
        let der = CertificateDer::from(bag.cert.as_der().to_vec());
        check_certificate(path, &der, contents.certs.len() + 1)?;
        contents.certs.push(der);
    }
    for bag in archive.keys {
        contents.keys.push(PrivateKey {
            der: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(bag.key.as_der().to_vec())),
            encoding: KeyEncoding::Pkcs8,
            encrypted: true,
        });
    }
    Ok(contents)
}

fn read_pem(
    path: &Path,
    bytes: &[u8],
    passwords: &dyn PasswordSource,
) -> Result<FileContents, Error> {
    let bad = |problem: PemProblem| Error::input(path, InputProblem::BadPem(problem));
    let blocks = pem::parse_many(bytes)
        .map_err(|e| bad(unfinished_line(bytes).unwrap_or(pem_problem(&e))))?;
    let begins = count(bytes, b"-----BEGIN ");
    if blocks.len() < begins {
        return Err(bad(unfinished_line(bytes).unwrap_or_else(|| {
            PemProblem::NoEnd(begin_label_after(bytes, blocks.len()))
        })));
    }
    let mut contents = FileContents::new(path, Container::Pem);
    for (index, block) in blocks.iter().enumerate() {
        let der = block.contents();
        let number = index + 1;
        match block.tag() {
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                let cert = CertificateDer::from(der.to_vec());
                check_certificate(path, &cert, number)?;
                contents.certs.push(cert);
            }
            "PRIVATE KEY" => contents
                .keys
                .push(parse_key(path, der, KeyEncoding::Pkcs8, false)?),
            "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {
                if block
                    .headers()
                    .get("Proc-Type")
                    .is_some_and(|v| v.contains("ENCRYPTED"))
                {
                    return Err(Error::input(path, InputProblem::LegacyEncryptedPem));
                }
                let encoding = if block.tag() == "RSA PRIVATE KEY" {
                    KeyEncoding::Pkcs1
                } else {
                    KeyEncoding::Sec1
                };
                contents.keys.push(parse_key(path, der, encoding, false)?);
            }
            "ENCRYPTED PRIVATE KEY" => contents.keys.push(decrypt_pkcs8(path, der, passwords)?),
            "EC PARAMETERS" => contents.others.push(Other::EcParameters),
            "PUBLIC KEY" | "RSA PUBLIC KEY" => contents.others.push(Other::PublicKey),
            "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => {
                contents.others.push(Other::CertificateRequest)
            }
            "PKCS7" | "CERTIFICATE CHAIN" => match super::der::pkcs7_certificates(der) {
                Some(certs) => {
                    for cert in certs {
                        let cert = CertificateDer::from(cert);
                        check_certificate(path, &cert, contents.certs.len() + 1)?;
                        contents.certs.push(cert);
                    }
                }
                None => contents
                    .others
                    .push(Other::Unknown(PemLabel::new(block.tag()))),
            },
            "X509 CRL" => contents.others.push(Other::Crl),
            other => contents.others.push(Other::Unknown(PemLabel::new(other))),
        }
    }
    Ok(contents)
}

fn read_der(
    path: &Path,
    bytes: &[u8],
    passwords: &dyn PasswordSource,
) -> Result<FileContents, Error> {
    let mut contents = FileContents::new(path, Container::Der);
    if bytes.first() != Some(&0x30) {
        return Err(Error::input(
            path,
            InputProblem::NotPemOrDer(describe_unknown(bytes)),
        ));
    }
    if X509Certificate::from_der(bytes).is_ok() {
        contents.certs.push(CertificateDer::from(bytes.to_vec()));
    } else if let Some(certs) = super::der::pkcs7_certificates(bytes) {
        for cert in certs {
            let cert = CertificateDer::from(cert);
            check_certificate(path, &cert, contents.certs.len() + 1)?;
            contents.certs.push(cert);
        }
    } else if pkcs8::PrivateKeyInfoRef::try_from(bytes).is_ok() {
        contents
            .keys
            .push(parse_key(path, bytes, KeyEncoding::Pkcs8, false)?);
    } else if pkcs8::EncryptedPrivateKeyInfoRef::try_from(bytes).is_ok() {
        contents.keys.push(decrypt_pkcs8(path, bytes, passwords)?);
    } else if pkcs1::RsaPrivateKeyRef::try_from(bytes).is_ok() {
        contents
            .keys
            .push(parse_key(path, bytes, KeyEncoding::Pkcs1, false)?);
    } else if sec1::EcPrivateKey::try_from(bytes).is_ok() {
        contents
            .keys
            .push(parse_key(path, bytes, KeyEncoding::Sec1, false)?);
    } else {
        return Err(Error::input(
            path,
            InputProblem::NotPemOrDer(NotPemOrDer::OtherDer),
        ));
    }
    Ok(contents)
}

/// Checks that a key's DER parses in the encoding its label claims, and wraps it for rustls.
fn parse_key(
    path: &Path,
    der: &[u8],
    encoding: KeyEncoding,
    encrypted: bool,
) -> Result<PrivateKey, Error> {
    let valid = match encoding {
        KeyEncoding::Pkcs8 => pkcs8::PrivateKeyInfoRef::try_from(der).is_ok(),
        KeyEncoding::Pkcs1 => pkcs1::RsaPrivateKeyRef::try_from(der).is_ok(),
        KeyEncoding::Sec1 => sec1::EcPrivateKey::try_from(der).is_ok(),
    };
    if !valid {
        return Err(Error::input(path, InputProblem::MalformedKey(encoding)));
    }
    let owned = der.to_vec();
    let der = match encoding {
        KeyEncoding::Pkcs8 => PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(owned)),
        KeyEncoding::Pkcs1 => PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(owned)),
        KeyEncoding::Sec1 => PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(owned)),
    };
    Ok(PrivateKey {
        der,
        encoding,
        encrypted,
    })
}

fn decrypt_pkcs8(
    path: &Path,
    der: &[u8],
    passwords: &dyn PasswordSource,
) -> Result<PrivateKey, Error> {
    let encrypted = pkcs8::EncryptedPrivateKeyInfoRef::try_from(der)
        .map_err(|_| Error::input(path, InputProblem::MalformedEncryptedKey))?;
    let password = passwords.password(path)?;
    let document = encrypted
        .decrypt(password.as_bytes())
        .map_err(|e| Error::input(path, InputProblem::WrongPassword(decrypt_reason(&e))))?;
    parse_key(path, document.as_bytes(), KeyEncoding::Pkcs8, true)
}

fn check_certificate(path: &Path, der: &CertificateDer<'_>, number: usize) -> Result<(), Error> {
    // The parser's own message is not shown: the block may be a key under the wrong label.
    X509Certificate::from_der(der.as_ref())
        .map(|_| ())
        .map_err(|_| Error::input(path, InputProblem::NotACertificate(number)))
}

/// PKCS#12 starts SEQUENCE { INTEGER 3, SEQUENCE { OID pkcs7-data ... } }.
fn looks_like_pkcs12(bytes: &[u8]) -> bool {
    let header_len = match bytes.get(1) {
        Some(&b) if b < 0x80 => 2,
        Some(&b) => 2 + (b & 0x7f) as usize,
        None => return false,
    };
    bytes.first() == Some(&0x30)
        && bytes.get(header_len..header_len + 3) == Some(&[0x02, 0x01, 0x03])
}

fn describe_unknown(bytes: &[u8]) -> NotPemOrDer {
    let sample = &bytes[..bytes.len().min(512)];
    let printable = sample
        .iter()
        .filter(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
        .count();
    if printable * 10 >= sample.len() * 9 {
        NotPemOrDer::Text
    } else {
        NotPemOrDer::Binary(bytes[0])
    }
}

/// What the pem crate's error means, without its text: that quotes the file (a BEGIN line that
/// lost its dashes makes the whole base64 body its "label").
fn pem_problem(e: &pem::PemError) -> PemProblem {
    match e {
        pem::PemError::MismatchedTags(begin, end) => PemProblem::Mismatched {
            begin: PemLabel::new(begin),
            end: PemLabel::new(end),
        },
        pem::PemError::InvalidData(_) => PemProblem::DamagedBase64,
        pem::PemError::InvalidHeader(_) => PemProblem::BadHeader,
        pem::PemError::NotUtf8(_) => PemProblem::NotText,
        pem::PemError::MissingBeginTag | pem::PemError::MissingEndTag => PemProblem::NoLabel,
        _ => PemProblem::Framing,
    }
}

/// A BEGIN or END line that does not end with its five dashes: the pem crate reads on into the
/// next lines for the rest of the label, so this is said before anything else. A file that
/// stops inside such a line is merely truncated, and left to say so.
fn unfinished_line(bytes: &[u8]) -> Option<PemProblem> {
    let text = String::from_utf8_lossy(bytes);
    let complete = if text.ends_with('\n') {
        &text[..]
    } else {
        text.rsplit_once('\n').map_or("", |(lines, _)| lines)
    };
    complete.lines().find_map(|line| {
        let line = line.trim();
        let (kind, label) = if let Some(label) = line.strip_prefix("-----BEGIN") {
            (PemLine::Begin, label)
        } else {
            (PemLine::End, line.strip_prefix("-----END")?)
        };
        (!line.ends_with("-----")).then(|| PemProblem::UnfinishedLine {
            line: kind,
            label: PemLabel::new(label.trim_end_matches('-')),
        })
    })
}

/// The label of the BEGIN line after the first `parsed` ones, read from that line alone.
fn begin_label_after(bytes: &[u8], parsed: usize) -> PemLabel {
    let text = String::from_utf8_lossy(bytes);
    text.match_indices("-----BEGIN ")
        .nth(parsed)
        .and_then(|(at, m)| text[at + m.len()..].lines().next())
        .map(|rest| PemLabel::new(rest.split("-----").next().unwrap_or_default()))
        .unwrap_or_else(|| PemLabel::new(""))
}

/// Why an encrypted PKCS#8 key could not be decrypted, in iotdoctor's words.
fn decrypt_reason(e: &pkcs8::Error) -> &'static str {
    match e {
        pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::DecryptFailed) => {
            "PKCS#5 decryption failed"
        }
        pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::UnsupportedAlgorithm { .. }) => {
            "unsupported encryption algorithm"
        }
        pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::AlgorithmParametersInvalid {
            ..
        }) => "invalid encryption parameters",
        pkcs8::Error::EncryptedPrivateKey(_) => "unsupported encryption scheme",
        _ => "what it decrypts to is not a private key",
    }
}

/// Why a PKCS#12 bundle could not be read, in iotdoctor's words.
fn pkcs12_reason(e: &p12_keystore::error::Error) -> &'static str {
    use p12_keystore::error::Error as P12;
    match e {
        P12::InvalidVersion => "not a version 3 PFX",
        P12::UnsupportedContentType => "a content type iotdoctor does not support",
        P12::UnsupportedCertificateType => "a certificate type iotdoctor does not support",
        P12::UnsupportedEncryptionScheme | P12::Pkcs5Error(_) => {
            "an encryption scheme iotdoctor does not support"
        }
        P12::UnsupportedMacAlgorithm => "a MAC algorithm iotdoctor does not support",
        P12::InvalidPrivateKey => "its private key is malformed",
        _ => "its structure is damaged",
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    count(haystack, needle) > 0
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoPasswords;
    impl PasswordSource for NoPasswords {
        fn password(&self, path: &Path) -> Result<Zeroizing<String>, Error> {
            Err(Error::input(path, InputProblem::NeedsPassword))
        }
    }

    fn read_bytes(bytes: &[u8]) -> Result<FileContents, Error> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("input");
        std::fs::write(&path, bytes).unwrap();
        read_file(&path, &NoPasswords)
    }

    fn problem(result: Result<FileContents, Error>) -> String {
        match result {
            Err(Error::Input { problem, .. }) => problem.to_string(),
            other => panic!("expected an input error, got {other:?}"),
        }
    }

    #[test]
    fn empty_and_whitespace_files_are_called_empty() {
        assert_eq!(problem(read_bytes(b"")), "the file is empty");
        assert_eq!(problem(read_bytes(b" \r\n\n")), "the file is empty");
    }

    #[test]
    fn text_and_binary_garbage_say_what_they_are() {
        assert!(
            problem(read_bytes(b"hello world\n")).contains("text without any '-----BEGIN' line")
        );
        assert!(
            problem(read_bytes(&[0xde, 0xad, 0xbe, 0xef, 0x00, 0x01]))
                .contains("binary data that is not DER")
        );
        assert!(
            problem(read_bytes(&[0x30, 0x03, 0x02, 0x01, 0x01]))
                .contains("not a certificate, a private key")
        );
    }

    #[test]
    fn truncated_pem_names_the_block() {
        let text = b"-----BEGIN CERTIFICATE-----\nMIIB\n";
        assert!(problem(read_bytes(text)).contains("'CERTIFICATE' has no END line"));
    }

    #[test]
    fn broken_pem_framing_is_named_without_quoting_the_file() {
        let body = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgWfCKgqEnfB8pNE4C";
        let cases = [
            (
                format!("-----BEGIN PRIVATE KEY\n{body}\n-----END PRIVATE KEY-----\n"),
                "the line '-----BEGIN PRIVATE KEY' does not end with '-----'",
            ),
            (
                format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY\n"),
                "the line '-----END PRIVATE KEY' does not end with '-----'",
            ),
            (
                format!("-----BEGIN {body}-----\n{body}\n-----END PRIVATE KEY-----\n"),
                "a '(not a PEM label)' block ends with END PRIVATE KEY",
            ),
            (
                format!(
                    "-----BEGIN PRIVATE KEY-----\n{body}\n\n{body}\n-----END PRIVATE KEY-----\n"
                ),
                "a block has a blank line inside its base64",
            ),
        ];
        for (text, expected) in cases {
            let message = problem(read_bytes(text.as_bytes()));
            assert!(message.contains(expected), "{message}");
            assert!(!message.contains(&body[..16]), "{message}");
        }
    }

    #[test]
    fn only_label_like_labels_are_kept() {
        assert_eq!(PemLabel::new(" PRIVATE KEY ").as_str(), Some("PRIVATE KEY"));
        assert_eq!(PemLabel::new("X509 CRL").as_str(), Some("X509 CRL"));
        for not_a_label in [
            "",
            "PRIVATE KEY\nMIGHAgEAMBMG",
            "MIGHAgEAMBMGByqGSM49",
            "private key",
            "CERTIFICATEXYZW",
        ] {
            assert_eq!(PemLabel::new(not_a_label).as_str(), None, "{not_a_label}");
        }
    }

    #[test]
    fn unknown_blocks_are_kept_as_others() {
        let text =
            b"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n\
            -----BEGIN FOO-----\nAAAA\n-----END FOO-----\n";
        let contents = read_bytes(text).unwrap();
        assert_eq!(
            contents.others,
            vec![Other::EcParameters, Other::Unknown(PemLabel::new("FOO"))]
        );
        assert_eq!(
            contents.describe(),
            "EC PARAMETERS block and a 'FOO' PEM block"
        );
    }

    #[test]
    fn pkcs12_sniffing_reads_the_version() {
        assert!(looks_like_pkcs12(&[
            0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x03, 0x30
        ]));
        assert!(!looks_like_pkcs12(&[0x30, 0x82, 0x01, 0x00, 0x30, 0x82]));
        assert!(!looks_like_pkcs12(&[0x30]));
        assert!(!looks_like_pkcs12(&[0x30, 0xff]));
    }
}
