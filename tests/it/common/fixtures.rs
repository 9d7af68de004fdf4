//! The fixtures' paths, the password of the encrypted ones, and deterministic damage.

use std::path::{Path, PathBuf};

use iotdoctor::credentials::load::PasswordSource;
use iotdoctor::error::{Error, InputProblem};
use zeroize::Zeroizing;

/// A file under `fixtures/`, for example `fixture("pcaps", "all.pcapng")`.
pub fn fixture(dir: &str, name: &str) -> PathBuf {
    [env!("CARGO_MANIFEST_DIR"), "fixtures", dir, name]
        .iter()
        .collect()
}

/// A file of the test PKI (`fixtures/pki`), as an argument.
pub fn pki(name: &str) -> String {
    pki_path(name).to_string_lossy().into_owned()
}

pub fn pki_path(name: &str) -> PathBuf {
    fixture("pki", name)
}

/// A capture of `fixtures/pcaps`, as an argument.
pub fn pcap(name: &str) -> String {
    fixture("pcaps", name).to_string_lossy().into_owned()
}

pub fn amazon_root(number: u8) -> String {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "src",
        "credentials",
        "amazon",
        &format!("AmazonRootCA{number}.pem"),
    ]
    .iter()
    .collect();
    path.to_string_lossy().into_owned()
}

/// The password of every encrypted key and bundle of the test PKI.
pub const PASSWORD: &str = "iotdoctor";

/// Answers every password question with the same password.
pub struct Fixed(pub &'static str);
impl PasswordSource for Fixed {
    fn password(&self, _: &Path) -> Result<Zeroizing<String>, Error> {
        Ok(Zeroizing::new(self.0.into()))
    }
}

/// Has no password to give, as a user who gave none.
pub struct NoPassword;
impl PasswordSource for NoPassword {
    fn password(&self, path: &Path) -> Result<Zeroizing<String>, Error> {
        Err(Error::input(path, InputProblem::NeedsPassword))
    }
}

/// xorshift64*: a small deterministic generator, so that a failure reproduces.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Options that name files of the test PKI: `[("--cert", "client-ec.pem")]` gives
/// `["--cert", "<fixtures>/pki/client-ec.pem"]`.
pub fn pki_flags(flags: &[(&str, &str)]) -> Vec<String> {
    flags
        .iter()
        .flat_map(|(flag, name)| [flag.to_string(), pki(name)])
        .collect()
}

/// The EC device of the test PKI: its certificate with the intermediate, and its key.
pub const EC_DEVICE: [(&str, &str); 2] = [
    ("--cert", "client-ec-chain.pem"),
    ("--key", "client-ec.key"),
];

/// The arguments as `&str`, for the runs that take them.
pub fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}
