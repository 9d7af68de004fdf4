//! Reading the credentials `connect`, `serve` and `check-certs` are given, and the passwords of
//! encrypted ones.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::credentials::inspect::CertInfo;
use crate::credentials::load::{Embedded, PasswordSource};
use crate::credentials::{Credentials, LoadRequest};
use crate::error::{Error, InputProblem};

/// A certificate with its key, as files: the device's for `connect` and `check-certs`, the
/// server's for `serve`.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    /// The certificate file; may also hold intermediates and the key.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// Intermediates sent after the certificate.
    pub chain: Vec<PathBuf>,
    /// A PKCS#12 bundle holding certificate, key and maybe intermediates.
    pub p12: Option<PathBuf>,
    /// The environment variable holding the password of an encrypted key or bundle; without
    /// it, the terminal is asked.
    pub key_pass_env: Option<String>,
}

impl Identity {
    /// Reads the identity's files and the CA files `cas`; `embedded` are files given by their
    /// contents.
    pub fn load(&self, cas: &[PathBuf], embedded: &[Embedded]) -> Result<Credentials, Error> {
        let request = LoadRequest {
            cert: self.cert.clone(),
            key: self.key.clone(),
            p12: self.p12.clone(),
            chain: self.chain.clone(),
            cas: cas
                .iter()
                .map(|path| match path.to_str() {
                    Some(SYSTEM) => system_bundle(),
                    _ => Ok(path.clone()),
                })
                .collect::<Result<_, _>>()?,
            embedded: embedded.to_vec(),
        };
        let passwords = EnvOrPrompt {
            env_var: self.key_pass_env.clone(),
        };
        Credentials::load(&request, &passwords)
    }
}

/// `--ca system`: the operating system's CA bundle, where it has one.
const SYSTEM: &str = "system";

/// Where the systems iotdoctor runs on keep their CA bundle (Debian and Ubuntu, Fedora and
/// RHEL, openSUSE, Alpine and macOS), after the `SSL_CERT_FILE` OpenSSL honours.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

fn system_bundle() -> Result<PathBuf, Error> {
    if let Some(file) = std::env::var_os("SSL_CERT_FILE") {
        return Ok(file.into());
    }
    SYSTEM_BUNDLES
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
        .ok_or_else(|| {
            Error::Usage(format!(
                "--ca system: this system has no CA bundle where iotdoctor looks (SSL_CERT_FILE, {}); give the file",
                SYSTEM_BUNDLES.join(", ")
            ))
        })
}

/// The certificates of CA files, each file required to hold at least one.
pub fn read_cas(paths: &[PathBuf], embedded: &[Embedded]) -> Result<Vec<CertInfo>, Error> {
    let creds = Identity::default().load(paths, embedded)?;
    Ok(creds.cas.into_iter().map(|ca| ca.info).collect())
}

/// Passwords from the environment variable named by `--key-pass-env`, else from the terminal.
/// Never from a plain command-line argument, which other users of the machine can see.
struct EnvOrPrompt {
    env_var: Option<String>,
}

impl PasswordSource for EnvOrPrompt {
    fn password(&self, path: &Path) -> Result<Zeroizing<String>, Error> {
        if let Some(var) = &self.env_var {
            // The name is not repeated: users who give the password itself instead of a
            // variable's name would see it printed (and logged by CI).
            return match std::env::var(var) {
                Ok(password) => Ok(Zeroizing::new(password)),
                Err(std::env::VarError::NotUnicode(_)) => Err(Error::Password(
                    "--key-pass-env: the environment variable it names does not hold text".into(),
                )),
                Err(std::env::VarError::NotPresent) => Err(Error::Password(
                    "--key-pass-env: no environment variable of that name is set (give the name of a variable that holds the password, not the password)".into(),
                )),
            };
        }
        if !std::io::stdin().is_terminal() {
            return Err(Error::input(path, InputProblem::NeedsPassword));
        }
        rpassword::prompt_password(format!("Password for {}: ", path.display()))
            .map(Zeroizing::new)
            .map_err(|e| {
                Error::Password(format!("cannot read the password from the terminal: {e}"))
            })
    }
}
