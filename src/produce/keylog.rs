//! The key log of `connect`: TLS secrets in the NSS key log format Wireshark reads, in a file
//! only its owner can read, created only when there is a secret to write.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, InputProblem};

/// Appends each secret rustls hands over to one file.
pub struct KeyLogFile {
    path: PathBuf,
    file: Mutex<State>,
}

enum State {
    /// Checked, not created yet: a connection that fails before TLS has no secrets to keep.
    Pending,
    Open(File),
    /// Could not be created; said once.
    Failed,
}

impl KeyLogFile {
    /// The key log `connect` writes: `--keylog FILE`, else the file `SSLKEYLOGFILE` names, else
    /// none. A path that cannot be written is refused now, before any connection, as far as
    /// that can be told without creating the file (an existing file that cannot be opened, a
    /// directory that does not exist); an existing file is made private now.
    pub fn for_connect(keylog: Option<&Path>) -> Result<Option<KeyLogFile>, Error> {
        let from_env = std::env::var_os("SSLKEYLOGFILE").filter(|v| !v.is_empty());
        let path = match (keylog, from_env) {
            (Some(path), _) => path.to_path_buf(),
            (None, Some(path)) => {
                tracing::info!(file = %Path::new(&path).display(), "key log from SSLKEYLOGFILE");
                PathBuf::from(path)
            }
            (None, None) => return Ok(None),
        };
        KeyLogFile::prepare(path).map(Some)
    }

    fn prepare(path: PathBuf) -> Result<KeyLogFile, Error> {
        let state = match std::fs::metadata(&path) {
            Ok(_) => {
                // Opening a file that exists creates nothing; its permissions are fixed now.
                let file = OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .map_err(|e| Error::input(&path, InputProblem::Unwritable(e)))?;
                make_private(&file, &path)?;
                State::Open(file)
            }
            Err(_) => {
                let parent = match path.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => parent,
                    _ => Path::new("."),
                };
                // Whether the directory lets us create the file is known only by creating it
                // (its mode bits do not say, for root or for another owner's directory): a
                // failure then is logged as an error when the first secret comes.
                match std::fs::metadata(parent) {
                    Ok(dir) if dir.is_dir() => State::Pending,
                    _ => return Err(Error::input(&path, InputProblem::NoDirectory)),
                }
            }
        };
        Ok(KeyLogFile {
            path,
            file: Mutex::new(state),
        })
    }

    /// Creates the file, readable by its owner alone (whatever the umask).
    fn create(&self) -> Result<File, Error> {
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(&self.path)
            .map_err(|e| Error::input(&self.path, InputProblem::Unwritable(e)))?;
        // It may have been made by someone else between the check and now.
        make_private(&file, &self.path)?;
        Ok(file)
    }
}

/// Tightens a regular file that group or others may read or write to 0600, or refuses it.
/// Pipes and devices are left alone: they were chosen on purpose.
fn make_private(file: &File, path: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = file
            .metadata()
            .map_err(|e| Error::input(path, InputProblem::Unwritable(e)))?;
        let mode = meta.permissions().mode() & 0o7777;
        if meta.is_file() && mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|_| Error::input(path, InputProblem::KeyLogNotPrivate(mode)))?;
            tracing::warn!(
                file = %path.display(),
                "the key log was open to other users (mode {mode:04o}); it is 0600 now"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = (file, path);
    Ok(())
}

impl std::fmt::Debug for KeyLogFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyLogFile({})", self.path.display())
    }
}

impl rustls::KeyLog for KeyLogFile {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let Ok(mut state) = self.file.lock() else {
            return;
        };
        if matches!(*state, State::Pending) {
            *state = match self.create() {
                Ok(file) => State::Open(file),
                Err(e) => {
                    tracing::error!("{e}: the TLS secrets of this connection are not saved");
                    State::Failed
                }
            };
        }
        if let State::Open(file) = &mut *state {
            let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
            let _ = writeln!(file, "{label} {} {}", hex(client_random), hex(secret));
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use rustls::KeyLog;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_key_log_is_created_private_at_the_first_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.log");
        let log = KeyLogFile::prepare(path.clone()).unwrap();
        assert!(!path.exists(), "no secret yet, no file");
        log.log("CLIENT_RANDOM", &[1; 32], &[2; 48]);
        log.log("CLIENT_RANDOM", &[3; 32], &[4; 48]);
        assert_eq!(mode(&path), 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.starts_with(&format!("CLIENT_RANDOM {} ", "01".repeat(32))));
    }

    #[test]
    fn an_open_key_log_is_made_private_and_appended_to() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.log");
        std::fs::write(&path, "earlier\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        let log = KeyLogFile::prepare(path.clone()).unwrap();
        assert_eq!(mode(&path), 0o600, "tightened before any connection");
        log.log("CLIENT_RANDOM", &[1; 32], &[2; 48]);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("earlier\nCLIENT_RANDOM "), "{text}");
    }

    #[test]
    fn a_key_log_in_a_missing_directory_is_refused_before_connecting() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("keys.log");
        let error = KeyLogFile::prepare(path).unwrap_err();
        assert_eq!(error.exit_code(), crate::error::exit::INPUT);
        assert!(error.to_string().contains("cannot write"), "{error}");
    }
}
