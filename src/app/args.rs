//! From the command line to each command's options: clap's types stop here.

use std::net::IpAddr;
use std::time::Duration;

use super::connect::{self, Server, Sni};
use super::credentials::Identity;
use super::output::Format;
use super::{analyze, check_certs, explain, serve};
use crate::cli::{
    self, AnalyzeArgs, CheckCertsArgs, ConnectArgs, DeviceArgs, ExplainArgs, MqttVersion, Profile,
    ServeArgs, StackChoice, TlsChoice,
};
use crate::decode::mqtt::Password;
use crate::error::Error;
use crate::explain::Stack;
use crate::produce::client::TlsVersion;
use crate::produce::offer::{self, Offer};
use crate::produce::presets;
use zeroize::Zeroizing;

impl From<cli::Format> for Format {
    fn from(format: cli::Format) -> Format {
        match format {
            cli::Format::Text => Format::Text,
            cli::Format::Json => Format::Json,
        }
    }
}

pub fn check_certs(args: CheckCertsArgs) -> check_certs::Options {
    check_certs::Options {
        device: identity(args.device),
        ca: args.ca,
        warn_days: args.warn_days,
        aws_iot: args.profile == Some(Profile::AwsIot),
    }
}

pub fn explain(args: ExplainArgs) -> explain::Options {
    let query = match args.log {
        Some(path) => explain::Query::Log(path),
        None => explain::Query::Words(
            args.query
                .into_iter()
                .chain(args.more_words)
                .collect::<Vec<_>>()
                .join(" "),
        ),
    };
    explain::Options {
        query,
        stack: args.stack.map(|choice| match choice {
            StackChoice::Tls => Stack::Tls,
            StackChoice::Wolfssl => Stack::WolfSsl,
            StackChoice::Mbedtls => Stack::MbedTls,
            StackChoice::Openssl => Stack::OpenSsl,
            StackChoice::Gnutls => Stack::GnuTls,
            StackChoice::Mqtt => Stack::Mqtt,
        }),
    }
}

/// Fails on an endpoint or a time that cannot be used, in that order.
pub fn connect(args: ConnectArgs) -> Result<connect::Options, Error> {
    let server = server(
        args.endpoint,
        args.server,
        args.port,
        args.address,
        args.sni,
        args.no_sni,
    )?;
    let port = server.port;
    let timeout = seconds("timeout", args.timeout)?;
    let grace = seconds("grace", args.grace)?;
    let mqtt = args.mqtt.mqtt.then_some(connect::Mqtt {
        version: match args.mqtt.mqtt_version {
            MqttVersion::V311 => connect::MqttVersion::V311,
            MqttVersion::V5 => connect::MqttVersion::V5,
        },
        client_id: args.mqtt.client_id,
        username: args.mqtt.username,
        password: args
            .mqtt
            .password_env
            .map(|var| match std::env::var(&var) {
                Ok(password) => Ok(Password(Zeroizing::new(password))),
                // The name is not repeated: it may be the password itself, given by mistake.
                Err(_) => Err(Error::Usage(
                    "--password-env: no environment variable of that name holds text (give the \
                     name of a variable that holds the password, not the password)"
                        .into(),
                )),
            })
            .transpose()?,
    });
    let mut offer = match &args.like {
        Some(like) => like_offer(like, args.flow, port)?,
        None => Offer::default(),
    };
    let lists = [
        (
            "--ciphers",
            &args.ciphers,
            offer::parse_suites as fn(&str) -> _,
        ),
        ("--groups", &args.groups, offer::parse_groups),
        ("--sigalgs", &args.sigalgs, offer::parse_sigalgs),
    ];
    for (flag, list, parse) in lists {
        if let Some(list) = list {
            let codes = parse(list).map_err(|e| Error::Usage(format!("{flag}: {e}")))?;
            match flag {
                "--ciphers" => offer.suites = codes,
                "--groups" => offer.groups = codes,
                _ => offer.sigalgs = codes,
            }
        }
    }
    Ok(connect::Options {
        server,
        ca: args.ca,
        device: identity(args.device),
        embedded: vec![],
        alpn: args.alpn,
        tls: args.tls.map(tls),
        offer,
        timeout,
        grace,
        keylog: args.keylog,
        insecure: args.insecure,
        aws_iot: args.profile == Some(Profile::AwsIot),
        mqtt,
    })
}

pub fn probe(args: cli::ProbeArgs) -> Result<super::probe::Options, Error> {
    let server = server(
        args.endpoint,
        args.server,
        args.port,
        args.address,
        args.sni,
        args.no_sni,
    )?;
    let port = server.port;
    Ok(super::probe::Options {
        server,
        ca: args.ca,
        timeout: seconds("timeout", args.timeout)?,
        grace: seconds("grace", args.grace)?,
        max_time: seconds("max-time", args.max_time)?,
        like: args
            .like
            .as_deref()
            .map(|like| like_offer(like, None, port))
            .transpose()?,
    })
}

pub fn serve(args: ServeArgs) -> Result<serve::Options, Error> {
    Ok(serve::Options {
        listen: args.listen,
        cert: args.cert,
        key: args.key,
        client_ca: args.client_ca,
        embedded: vec![],
        optional_client_cert: args.optional_client_cert,
        tls: args.tls.map(tls),
        client_sigalgs: args.client_sigalgs,
        alpn: args.alpn,
        mqtt: args.mqtt.then_some(args.mqtt_return_code),
        once: args.once,
        timeout: seconds("timeout", args.timeout)?,
        max_connections: args.max_connections.map(|n| n as usize),
    })
}

pub fn analyze(args: AnalyzeArgs) -> analyze::Options {
    analyze::Options {
        capture: args.capture,
        keylog: args.keylog,
        ca: args.ca,
        flow: args.flow,
    }
}

/// The server `connect` and `probe` name with the same options (clap requires `endpoint` or
/// `server`); fails on an endpoint that cannot be used.
fn server(
    endpoint: Option<String>,
    server: Option<String>,
    port: Option<u16>,
    address: Option<IpAddr>,
    sni: Option<String>,
    no_sni: bool,
) -> Result<Server, Error> {
    let endpoint = endpoint.or(server).unwrap_or_default();
    let (host, port) = parse_endpoint(&endpoint, port)?;
    Ok(Server {
        host,
        port,
        endpoint,
        address,
        sni: match (sni, no_sni) {
            (Some(name), _) => Sni::Name(name),
            (None, true) => Sni::Off,
            (None, false) => Sni::Host,
        },
    })
}

fn identity(device: DeviceArgs) -> Identity {
    Identity {
        cert: device.cert,
        key: device.key,
        chain: device.chain,
        p12: device.p12,
        key_pass_env: device.key_pass_env,
    }
}

fn tls(choice: TlsChoice) -> TlsVersion {
    match choice {
        TlsChoice::V12 => TlsVersion::V12,
        TlsChoice::V13 => TlsVersion::V13,
    }
}

/// `--NAME VALUE` as a time: clap takes any number for some options.
fn seconds(name: &str, value: f64) -> Result<Duration, Error> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| Error::Usage(format!("--{name} {value}: give a number of seconds")))
}

/// `host`, `host:port`, `1.2.3.4:port`, `[::1]:port` or a bare IPv6 address, or any of these
/// after a URL scheme (`mqtts://`, `ssl://`, `tls://`, `https://`; a path after the authority
/// is ignored); the port from the endpoint, else `--port`, else the scheme's (8883 by default).
fn parse_endpoint(given: &str, port_option: Option<u16>) -> Result<(String, u16), Error> {
    let bad = |why: &str| Error::Usage(format!("--endpoint {given}: {why}"));
    let (default_port, endpoint) = match given.split_once("://") {
        None => (8883, given),
        Some((scheme, rest)) => {
            let port = match scheme.to_ascii_lowercase().as_str() {
                "mqtts" | "ssl" | "tls" | "tcps" => 8883,
                "https" | "wss" => 443,
                "mqtt" | "tcp" | "ws" | "http" => {
                    return Err(bad(&format!(
                        "{scheme}:// is plain text; iotdoctor connects with TLS: give the TLS \
                         port (mqtts://HOST:8883)"
                    )));
                }
                _ => return Err(bad(&format!("unknown scheme {scheme}://"))),
            };
            // user@ and /path are not part of the server's address.
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            (
                port,
                authority
                    .rsplit_once('@')
                    .map_or(authority, |(_, host)| host),
            )
        }
    };
    let (host, port) = split_host_port(endpoint, bad)?;
    let port = match (port, port_option) {
        (Some(a), Some(b)) if a != b => {
            return Err(bad(&format!("it says port {a}, and --port says {b}")));
        }
        (Some(port), _) | (None, Some(port)) => port,
        (None, None) => default_port,
    };
    Ok((host, port))
}

/// `host`, `host:port`, `1.2.3.4:port`, `[::1]:port` or a bare IPv6 address.
fn split_host_port(
    endpoint: &str,
    bad: impl Fn(&str) -> Error,
) -> Result<(String, Option<u16>), Error> {
    let port = |text: &str| match text.parse::<u16>() {
        Ok(port) if port > 0 => Ok(Some(port)),
        _ => Err(bad("the port must be a number from 1 to 65535")),
    };
    let (host, port) = if let Some(rest) = endpoint.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(|| bad("missing ']'"))?;
        match after.strip_prefix(':') {
            Some(p) => (host, port(p)?),
            None if after.is_empty() => (host, None),
            None => return Err(bad("expected ':PORT' after ']'")),
        }
    } else if endpoint.matches(':').count() > 1 {
        (endpoint, None)
    } else {
        match endpoint.rsplit_once(':') {
            Some((host, p)) => (host, port(p)?),
            None => (endpoint, None),
        }
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    Ok((host.to_string(), port))
}

/// `--like FILE|PRESET`: the device's offer.
fn like_offer(like: &str, flow: Option<u64>, port: u16) -> Result<Offer, Error> {
    presets::like(like, flow, port)
}

#[cfg(test)]
mod tests {
    use super::parse_endpoint;

    #[test]
    fn endpoints_take_the_forms_users_type() {
        let ok = |e: &str| parse_endpoint(e, None).unwrap();
        assert_eq!(
            ok("broker.example.com"),
            ("broker.example.com".into(), 8883)
        );
        assert_eq!(
            ok("broker.example.com:443"),
            ("broker.example.com".into(), 443)
        );
        assert_eq!(ok("127.0.0.1:8884"), ("127.0.0.1".into(), 8884));
        assert_eq!(ok("[::1]:8883"), ("::1".into(), 8883));
        assert_eq!(ok("[::1]"), ("::1".into(), 8883));
        assert_eq!(ok("::1"), ("::1".into(), 8883));
        for bad in [
            "",
            ":8883",
            "host:",
            "host:99999",
            "host:0",
            "[::1",
            "[::1]x",
        ] {
            assert!(parse_endpoint(bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls_and_port_options_name_the_server_too() {
        let ok = |e: &str, port| parse_endpoint(e, port).unwrap();
        let broker = |port| ("broker.example.com".to_string(), port);
        assert_eq!(ok("mqtts://broker.example.com", None), broker(8883));
        assert_eq!(ok("ssl://broker.example.com:8884", None), broker(8884));
        assert_eq!(
            ok("tls://user@broker.example.com:8883/x?y", None),
            broker(8883)
        );
        assert_eq!(ok("https://broker.example.com/mqtt", None), broker(443));
        assert_eq!(ok("broker.example.com", Some(443)), broker(443));
        assert_eq!(ok("broker.example.com:443", Some(443)), broker(443));
        assert_eq!(ok("mqtts://[::1]", Some(8884)), ("::1".to_string(), 8884));
        for (bad, port) in [
            ("broker.example.com:443", Some(8883)),
            ("mqtt://broker.example.com:1883", None),
            ("gopher://broker.example.com", None),
            ("mqtts://", None),
        ] {
            let err = parse_endpoint(bad, port).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("--endpoint {bad}")),
                "{bad}: {err}"
            );
        }
    }
}
