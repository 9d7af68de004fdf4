//! Peers on loopback: `openssl s_server`, `gnutls-serv` and mosquitto (each killed when dropped),
//! rustls servers and clients with the fixture PKI, plain TCP servers, and the TLS bytes a
//! misbehaving server answers with. Every server thread ends by itself: when its client goes
//! away, or after a bounded time.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::fixtures::pki;
use super::process::wait_listening;

/// A real `openssl s_server` on a loopback port, killed when dropped.
pub struct OpenSslServer {
    server: Listening,
    pub port: u16,
}

impl OpenSslServer {
    /// Starts `openssl s_server` with the fixture server certificate (chain and key) and `extra`
    /// arguments, and waits until it accepts connections.
    pub fn start(extra: &[&str]) -> OpenSslServer {
        OpenSslServer::spawn(extra, Stdio::null)
    }

    /// The same with s_server's stdout piped, where it prints what the client sends; take it
    /// with [`OpenSslServer::stdio`].
    pub fn start_echoing(extra: &[&str]) -> OpenSslServer {
        OpenSslServer::spawn(extra, Stdio::piped)
    }

    /// s_server's stdin (closing it ends the connection) and, after `start_echoing`, its stdout.
    pub fn stdio(&mut self) -> (ChildStdin, Option<ChildStdout>) {
        let child = &mut self.server.child;
        (
            child.stdin.take().expect("stdin is piped"),
            child.stdout.take(),
        )
    }

    fn spawn(extra: &[&str], stdout: fn() -> Stdio) -> OpenSslServer {
        let (cert, key, chain) = (
            pki("server.pem"),
            pki("server.key"),
            pki("intermediate-ca.pem"),
        );
        let server = Listening::start_with("openssl s_server", |port| {
            let accept = format!("127.0.0.1:{port}");
            let mut command = Command::new("openssl");
            command.args(["s_server", "-accept", &accept, "-quiet", "-no_dhe"]);
            if !extra.contains(&"-cert") {
                command.args(["-cert", &cert, "-key", &key, "-cert_chain", &chain]);
            }
            command
                .args(extra)
                .stdin(Stdio::piped())
                .stdout(stdout())
                .stderr(Stdio::null());
            command
        });
        OpenSslServer {
            port: server.port,
            server,
        }
    }

    pub fn endpoint(&self) -> String {
        self.server.endpoint()
    }
}

/// An `openssl s_server` that requires a client certificate from the fixture PKI and rejects
/// any it cannot verify, as AWS IoT Core does.
pub fn mutual_tls_server(extra: &[&str]) -> OpenSslServer {
    mutual_tls(extra, OpenSslServer::start)
}

/// The same, printing what the client sends (see [`OpenSslServer::start_echoing`]).
pub fn mutual_tls_echoing_server(extra: &[&str]) -> OpenSslServer {
    mutual_tls(extra, OpenSslServer::start_echoing)
}

fn mutual_tls(extra: &[&str], start: fn(&[&str]) -> OpenSslServer) -> OpenSslServer {
    let root = pki("root-ca.pem");
    let mut args = vec!["-CAfile", &root, "-Verify", "3", "-verify_return_error"];
    args.extend_from_slice(extra);
    start(&args)
}

/// A server process listening on a loopback port, killed when dropped.
pub struct Listening {
    child: Child,
    pub port: u16,
}

impl Listening {
    /// Spawns `command(port)` (its stdio closed) on a free port until it listens there.
    pub fn start(what: &str, mut command: impl FnMut(u16) -> Command) -> Listening {
        Listening::start_with(what, |port| {
            let mut spawned = command(port);
            spawned
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            spawned
        })
    }

    /// The same with the stdio `command` sets: another test may take the port between
    /// `free_port` and the server's bind, so up to five tries.
    fn start_with(what: &str, mut command: impl FnMut(u16) -> Command) -> Listening {
        for _ in 0..5 {
            let port = free_port();
            let mut child = command(port)
                .spawn()
                .unwrap_or_else(|e| panic!("{what} is installed (tests/run installs it): {e}"));
            if wait_listening(&mut child, port) {
                return Listening { child, port };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("{what} did not start");
    }

    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real `gnutls-serv` with the fixture server certificate (chain and key) and `extra`
/// arguments.
pub fn gnutls_server(extra: &[&str]) -> Listening {
    let (cert, key) = (pki("server-chain.pem"), pki("server.key"));
    Listening::start("gnutls-serv", |port| {
        let mut command = Command::new("gnutls-serv");
        command
            .args(["-p", &port.to_string(), "--x509certfile", &cert])
            .args(["--x509keyfile", &key])
            .args(extra);
        command
    })
}

/// How a mosquitto broker's one listener speaks.
pub enum MqttListener {
    /// Plain MQTT, no TLS.
    Plain,
    /// TLS with the fixture server certificate, requiring a client certificate from the fixture
    /// root.
    Tls,
}

/// A real mosquitto broker with one listener on a loopback port, killed when dropped.
pub struct Mosquitto {
    server: Listening,
    _dir: tempfile::TempDir,
}

impl Mosquitto {
    /// Starts mosquitto with a `listener` and `settings` (lines of mosquitto.conf) added to it.
    pub fn start(listener: MqttListener, settings: &str) -> Mosquitto {
        let binary = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("mosquitto is installed (tests/run installs it)");
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("mosquitto.conf");
        let tls = match listener {
            MqttListener::Plain => String::new(),
            MqttListener::Tls => format!(
                "cafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate true\n",
                pki("root-ca.pem"),
                pki("server-chain.pem"),
                pki("server.key"),
            ),
        };
        let server = Listening::start("mosquitto", |port| {
            // `user root`: a broker started by root keeps its rights (it would become user
            // `mosquitto`, which may not read a checkout under /root); ignored otherwise.
            std::fs::write(
                &config,
                format!("user root\nlistener {port} 127.0.0.1\n{tls}{settings}\n"),
            )
            .unwrap();
            let mut command = Command::new(binary);
            command.arg("-c").arg(&config);
            command
        });
        Mosquitto { server, _dir: dir }
    }

    pub fn port(&self) -> u16 {
        self.server.port
    }

    /// The broker by name (its certificate's name), reached at 127.0.0.1 with `--address`.
    pub fn endpoint(&self) -> String {
        format!("localhost:{}", self.server.port)
    }
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A plain TCP server on loopback that runs `behave` on the first connection, in a thread.
pub fn tcp_server(behave: impl FnOnce(TcpStream) + Send + 'static) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            behave(stream);
        }
    });
    port
}

/// The fixture server chain (`server-chain.pem`) and its key.
fn server_credentials() -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let chain = CertificateDer::pem_file_iter(pki("server-chain.pem"))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(pki("server.key")).unwrap();
    (chain, key)
}

/// The fixture root as the only trust anchor.
fn fixture_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(pki("root-ca.pem")).unwrap())
        .unwrap();
    roots
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A rustls server with the fixture server chain, speaking only `versions`; with
/// `client_auth`, requiring a client certificate of the fixture root.
pub fn rustls_server_config(
    versions: &[&'static rustls::SupportedProtocolVersion],
    client_auth: bool,
) -> rustls::ServerConfig {
    let (chain, key) = server_credentials();
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .unwrap();
    let builder = if client_auth {
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(fixture_roots()),
            provider(),
        )
        .build()
        .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    builder.with_single_cert(chain, key).unwrap()
}

/// A device's rustls client: the fixture root as its CA and, `with_certificate`, the EC
/// certificate (with its chain) and key.
pub fn device_config(with_certificate: bool) -> Arc<rustls::ClientConfig> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(fixture_roots());
    let config = if with_certificate {
        let chain = CertificateDer::pem_file_iter(pki("client-ec-chain.pem"))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(pki("client-ec.key")).unwrap();
        builder.with_client_auth_cert(chain, key).unwrap()
    } else {
        builder.with_no_client_auth()
    };
    Arc::new(config)
}

/// Reads the client's first record (its ClientHello) and returns it; the server's own reads
/// give up after a while so that the thread ends even if no client comes.
pub fn read_client_hello(stream: &mut TcpStream) -> Vec<u8> {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut got = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let want = match got.get(3..5) {
            Some(length) => 5 + usize::from(u16::from_be_bytes([length[0], length[1]])),
            None => 5,
        };
        if got.len() >= want {
            return got;
        }
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return got,
            Ok(n) => got.extend_from_slice(&buffer[..n]),
        }
    }
}

/// Waits for the client to go away (its close or reset), at most `limit`.
pub fn until_client_leaves(stream: &mut TcpStream, limit: Duration) {
    let deadline = Instant::now() + limit;
    let mut buffer = [0u8; 4096];
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    while Instant::now() < deadline {
        match stream.read(&mut buffer) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

/// A server that answers the ClientHello with `answer`, then waits for the client to leave.
pub fn answers(answer: Vec<u8>) -> u16 {
    tcp_server(move |mut stream| {
        read_client_hello(&mut stream);
        let _ = stream.write_all(&answer);
        until_client_leaves(&mut stream, Duration::from_secs(20));
    })
}

/// A server that answers the ClientHello with `answer` and closes.
pub fn answers_and_closes(answer: Vec<u8>) -> u16 {
    tcp_server(move |mut stream| {
        read_client_hello(&mut stream);
        let _ = stream.write_all(&answer);
        let _ = stream.shutdown(std::net::Shutdown::Write);
        until_client_leaves(&mut stream, Duration::from_secs(20));
    })
}

/// A rustls server that completes a real handshake (`tls` "1.2" or "1.3"), sends `first` as
/// application data, then zeros for as long as the client takes them (at most a minute), never
/// reading again: the client's close_notify goes unanswered, as a server that streams and
/// ignores its peer would leave it.
pub fn endless_server(tls: &str, first: &'static [u8]) -> u16 {
    let version = match tls {
        "1.2" => &rustls::version::TLS12,
        _ => &rustls::version::TLS13,
    };
    let config = Arc::new(rustls_server_config(&[version], false));
    tcp_server(move |mut stream| {
        let started = Instant::now();
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
        let mut conn = rustls::ServerConnection::new(config).unwrap();
        while conn.is_handshaking() {
            if conn.complete_io(&mut stream).is_err() {
                return;
            }
        }
        let _ = conn.writer().write_all(first);
        let data = [0u8; 16 * 1024];
        while started.elapsed() < Duration::from_secs(60) {
            let _ = conn.writer().write(&data);
            while conn.wants_write() {
                if conn.write_tls(&mut stream).is_err() {
                    return;
                }
            }
        }
    })
}

/// Closes `stream` with a reset: SO_LINGER with a zero timeout.
pub fn socket_reset(stream: TcpStream) {
    use std::os::fd::AsRawFd;
    #[repr(C)]
    struct Linger {
        onoff: i32,
        linger: i32,
    }
    unsafe extern "C" {
        fn setsockopt(fd: i32, level: i32, name: i32, value: *const Linger, len: u32) -> i32;
    }
    const SOL_SOCKET: i32 = 1;
    const SO_LINGER: i32 = 13;
    let linger = Linger {
        onoff: 1,
        linger: 0,
    };
    // SAFETY: a valid socket and a properly sized struct linger.
    let done = unsafe {
        setsockopt(
            stream.as_raw_fd(),
            SOL_SOCKET,
            SO_LINGER,
            &linger,
            std::mem::size_of::<Linger>() as u32,
        )
    };
    assert_eq!(done, 0, "setsockopt(SO_LINGER)");
    drop(stream);
}

/// A TLS record.
pub fn record(content_type: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut out = vec![content_type];
    out.extend(version.to_be_bytes());
    out.extend((body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A handshake message: type, 24-bit length, body.
pub fn handshake(message_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![message_type];
    out.extend(&(body.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

/// The legacy_session_id of a ClientHello record, which a TLS 1.3 server echoes.
pub fn session_id(client_hello: &[u8]) -> Vec<u8> {
    // Record header 5, handshake header 4, version 2, random 32.
    let at = 5 + 4 + 2 + 32;
    let length = usize::from(*client_hello.get(at).unwrap_or(&0));
    client_hello
        .get(at + 1..at + 1 + length)
        .unwrap_or_default()
        .to_vec()
}

/// A ServerHello message.
pub fn server_hello(
    version: u16,
    random: [u8; 32],
    session_id: &[u8],
    suite: u16,
    extensions: &[u8],
) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    body.extend(random);
    body.push(session_id.len() as u8);
    body.extend_from_slice(session_id);
    body.extend(suite.to_be_bytes());
    body.push(0);
    if !extensions.is_empty() {
        body.extend((extensions.len() as u16).to_be_bytes());
        body.extend_from_slice(extensions);
    }
    handshake(2, &body)
}

/// A TLS 1.2 ServerHello record (ECDHE-ECDSA-AES128-GCM-SHA256, no extensions).
pub fn tls12_server_hello() -> Vec<u8> {
    record(22, 0x0303, &server_hello(0x0303, [7; 32], &[], 0xc02b, &[]))
}

/// SHA-256("HelloRetryRequest"): the ServerHello random that makes it a HelloRetryRequest.
pub const HELLO_RETRY_REQUEST_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// A rustls server on a loopback port with `config`, for 30 s: each connection is served on a
/// thread of its own until the handshake fails or the client closes (or 5 s pass).
pub fn serve_rustls(config: Arc<rustls::ServerConfig>) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs(30);
        while Instant::now() < end {
            let Ok((mut stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            };
            let config = config.clone();
            std::thread::spawn(move || {
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut conn = rustls::ServerConnection::new(config).unwrap();
                while conn.is_handshaking() {
                    if conn.complete_io(&mut stream).is_err() {
                        return;
                    }
                }
                while conn
                    .complete_io(&mut stream)
                    .is_ok_and(|(read, _)| read > 0)
                {}
            });
        }
    });
    port
}
