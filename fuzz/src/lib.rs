//! What the fuzz targets share: a scratch file for the entry points that take a path, and the
//! renderers every decoded input ends in, so that the whole path from bytes to report is covered.

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use iotdoctor::credentials::load::PasswordSource;
use iotdoctor::decode::decrypt::KeyLog;
use iotdoctor::error::Error;
use iotdoctor::report::{Report, json, style::Style, text};
use zeroize::Zeroizing;

/// A file of this process's own in the temporary directory, rewritten with each input: the
/// capture and credential readers take a path, as the command line gives them.
pub fn scratch_file(bytes: &[u8]) -> &'static Path {
    static PATH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let path = PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("iotdoctor-fuzz-{}", std::process::id()))
    });
    std::fs::write(path, bytes).expect("the temporary directory is writable");
    path
}

/// A fixture of the repository, by its path under `fixtures/`.
pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(relative)
}

/// The secrets of the fixture captures' TLS 1.3 handshakes, read once, so that inputs made from
/// those captures decrypt.
pub fn fixture_keys() -> Arc<KeyLog> {
    static KEYS: LazyLock<Arc<KeyLog>> = LazyLock::new(|| {
        let mut text = String::new();
        for name in [
            "no-cert-tls13.keys",
            "ok-tls13.keys",
            "key-mismatch-tls13.keys",
        ] {
            text += &std::fs::read_to_string(fixture(&format!("pcaps/{name}"))).unwrap_or_default();
        }
        Arc::new(KeyLog::parse(&text))
    });
    KEYS.clone()
}

/// The password of the fixture PKI's encrypted key and PKCS#12 bundle, so that inputs mutated
/// from them get past decryption.
pub struct FixturePassword;

impl PasswordSource for FixturePassword {
    fn password(&self, _: &Path) -> Result<Zeroizing<String>, Error> {
        Ok(Zeroizing::new("iotdoctor".into()))
    }
}

/// Renders a report both ways; neither may fail on any input.
pub fn render(report: &Report) {
    text::render(report, Style::plain(), &mut std::io::sink()).expect("text renders");
    json::render(report, &mut std::io::sink()).expect("JSON renders");
}
