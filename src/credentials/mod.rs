//! Credential files: loading them (certificates, keys, CAs), inspecting them, and the offline
//! checks that turn them into [`Finding`]s.

pub mod aws_iot;
pub mod chain;
pub mod checks;
mod der;
pub mod inspect;
pub mod keys;
pub mod load;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use crate::model::{Finding, FindingId, Severity};
use inspect::CertInfo;
use load::{Container, Embedded, FileContents, Other, PasswordSource, PrivateKey};

use crate::error::{Error, InputProblem};

/// Which files to read, by role.
#[derive(Debug, Clone, Default)]
pub struct LoadRequest {
    /// The device certificate file (may also hold intermediates and the key).
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// A PKCS#12 bundle holding certificate, key and maybe intermediates.
    pub p12: Option<PathBuf>,
    /// Intermediates the device sends.
    pub chain: Vec<PathBuf>,
    /// CAs the device certificate should chain to.
    pub cas: Vec<PathBuf>,
    /// Files of the request given by their contents: these paths are never opened.
    pub embedded: Vec<Embedded>,
}

impl LoadRequest {
    /// The contents of `path`: the embedded ones when the request has them, else the file's.
    fn bytes_of(&self, path: &Path) -> Result<Cow<'static, [u8]>, Error> {
        match self.embedded.iter().find(|e| Path::new(e.path) == path) {
            Some(embedded) => Ok(Cow::Borrowed(embedded.bytes)),
            None => load::contents(path).map(Cow::Owned),
        }
    }

    fn read(&self, path: &Path, passwords: &dyn PasswordSource) -> Result<FileContents, Error> {
        load::read_bytes(path, &self.bytes_of(path)?, passwords)
    }
}

/// Why a certificate was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// From the device certificate file (`--cert`) or PKCS#12 bundle (`--p12`).
    Device,
    /// From a `--chain` file.
    Chain,
    /// From a `--ca` file.
    Ca,
}

/// Where a certificate or key came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub path: PathBuf,
    /// 1-based position among the certificates of its file.
    pub position: usize,
    pub container: Container,
}

impl Origin {
    /// `file.pem` for a file's only certificate, `file.pem #2` otherwise.
    pub fn label(&self, of: usize) -> String {
        if of > 1 {
            format!("{} #{}", self.path.display(), self.position)
        } else {
            self.path.display().to_string()
        }
    }
}

/// A parsed certificate with its origin.
#[derive(Debug, Clone)]
pub struct LoadedCert {
    pub info: CertInfo,
    pub origin: Origin,
    pub role: Role,
}

/// A key with its origin.
#[derive(Debug)]
pub struct LoadedKey {
    pub key: PrivateKey,
    pub path: PathBuf,
    pub container: Container,
}

/// Everything read, by role, in file order.
#[derive(Debug, Default)]
pub struct Credentials {
    pub device: Vec<LoadedCert>,
    pub chain: Vec<LoadedCert>,
    pub cas: Vec<LoadedCert>,
    pub key: Option<LoadedKey>,
    /// Blocks read but not used, by file.
    pub ignored: Vec<(PathBuf, Other)>,
}

impl Credentials {
    /// Reads every file of the request. Fails on the first file that cannot be used as asked.
    pub fn load(
        request: &LoadRequest,
        passwords: &dyn PasswordSource,
    ) -> Result<Credentials, Error> {
        let mut creds = Credentials::default();

        if let Some(path) = &request.p12 {
            let contents = load::read_pkcs12(path, &request.bytes_of(path)?, passwords)?;
            creds.take_device_file(contents, request.key.is_none())?;
        }
        if let Some(path) = &request.cert {
            let contents = request.read(path, passwords)?;
            require_certs(&contents, "a certificate")?;
            creds.take_device_file(contents, request.key.is_none() && creds.key.is_none())?;
        }
        if let Some(path) = &request.key {
            let mut contents = request.read(path, passwords)?;
            if contents.keys.is_empty() {
                return Err(Error::input(
                    path,
                    InputProblem::WrongKind {
                        expected: "a private key",
                        found: contents.describe(),
                    },
                ));
            }
            creds.key = Some(single_key(&mut contents)?);
            creds.note_ignored(&contents);
        }
        for path in &request.chain {
            let contents = request.read(path, passwords)?;
            require_certs(&contents, "a certificate")?;
            creds.chain.extend(certs_of(&contents, Role::Chain)?);
            creds.note_ignored(&contents);
        }
        for path in &request.cas {
            let contents = request.read(path, passwords)?;
            require_certs(&contents, "a CA certificate")?;
            creds.cas.extend(certs_of(&contents, Role::Ca)?);
            creds.note_ignored(&contents);
        }
        Ok(creds)
    }

    fn take_device_file(
        &mut self,
        mut contents: FileContents,
        take_key: bool,
    ) -> Result<(), Error> {
        if take_key && !contents.keys.is_empty() {
            self.key = Some(single_key(&mut contents)?);
        }
        self.device.extend(certs_of(&contents, Role::Device)?);
        self.note_ignored(&contents);
        Ok(())
    }

    fn note_ignored(&mut self, contents: &FileContents) {
        self.ignored.extend(
            contents
                .others
                .iter()
                .map(|other| (contents.path.clone(), other.clone())),
        );
    }
}

fn require_certs(contents: &FileContents, expected: &'static str) -> Result<(), Error> {
    if contents.certs.is_empty() {
        return Err(Error::input(
            &contents.path,
            InputProblem::WrongKind {
                expected,
                found: contents.describe(),
            },
        ));
    }
    Ok(())
}

fn single_key(contents: &mut FileContents) -> Result<LoadedKey, Error> {
    if contents.keys.len() > 1 {
        return Err(Error::input(
            &contents.path,
            InputProblem::SeveralKeys(contents.keys.len()),
        ));
    }
    let key = contents.keys.remove(0);
    tracing::info!(file = %contents.path.display(), encoding = %key.encoding, encrypted = key.encrypted, "private key read");
    Ok(LoadedKey {
        key,
        path: contents.path.clone(),
        container: contents.container,
    })
}

fn certs_of(contents: &FileContents, role: Role) -> Result<Vec<LoadedCert>, Error> {
    tracing::info!(
        file = %contents.path.display(),
        container = %contents.container,
        holds = %contents.describe(),
        ?role,
        "read"
    );
    contents
        .certs
        .iter()
        .enumerate()
        .map(|(i, der)| {
            // The parser's message is not kept: it describes bytes of the file.
            let info = CertInfo::from_der(der).map_err(|_| {
                Error::input(&contents.path, InputProblem::MalformedCertificate(i + 1))
            })?;
            let origin = Origin {
                path: contents.path.clone(),
                position: i + 1,
                container: contents.container,
            };
            Ok(LoadedCert { info, origin, role })
        })
        .collect()
}
