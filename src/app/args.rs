//! From the command line to each command's options: clap's types stop here.

use std::time::Duration;

use super::connect::{self, Sni};
use super::credentials::Identity;
use super::output::Format;
use super::{analyze, check_certs, explain, serve};
use crate::cli::{
    self, AnalyzeArgs, CheckCertsArgs, ConnectArgs, DeviceArgs, ExplainArgs, MqttVersion, Profile,
    ServeArgs, StackChoice, TlsChoice,
};
use crate::error::Error;
use crate::explain::Stack;
use crate::produce::client::TlsVersion;

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
    let (host, port) = parse_endpoint(&args.endpoint)?;
    let timeout = seconds("timeout", args.timeout)?;
    let grace = seconds("grace", args.grace)?;
    let sni = match (args.sni, args.no_sni) {
        (Some(name), _) => Sni::Name(name),
        (None, true) => Sni::Off,
        (None, false) => Sni::Host,
    };
    let mqtt = args.mqtt.mqtt.then_some(connect::Mqtt {
        version: match args.mqtt.mqtt_version {
            MqttVersion::V311 => connect::MqttVersion::V311,
            MqttVersion::V5 => connect::MqttVersion::V5,
        },
        client_id: args.mqtt.client_id,
        username: args.mqtt.username,
    });
    Ok(connect::Options {
        host,
        port,
        endpoint: args.endpoint,
        ca: args.ca,
        device: identity(args.device),
        embedded: vec![],
        address: args.address,
        sni,
        alpn: args.alpn,
        tls: args.tls.map(tls),
        timeout,
        grace,
        keylog: args.keylog,
        insecure: args.insecure,
        aws_iot: args.profile == Some(Profile::AwsIot),
        mqtt,
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

/// `host`, `host:port`, `1.2.3.4:port`, `[::1]:port` or a bare IPv6 address; port 8883 by default.
fn parse_endpoint(endpoint: &str) -> Result<(String, u16), Error> {
    const MQTT_TLS: u16 = 8883;
    let bad = |why: &str| Error::Usage(format!("--endpoint {endpoint}: {why}"));
    let port = |text: &str| {
        text.parse::<u16>()
            .map_err(|_| bad("the port must be a number from 1 to 65535"))
    };
    let (host, port) = if let Some(rest) = endpoint.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(|| bad("missing ']'"))?;
        match after.strip_prefix(':') {
            Some(p) => (host, port(p)?),
            None if after.is_empty() => (host, MQTT_TLS),
            None => return Err(bad("expected ':PORT' after ']'")),
        }
    } else if endpoint.matches(':').count() > 1 {
        (endpoint, MQTT_TLS)
    } else {
        match endpoint.rsplit_once(':') {
            Some((host, p)) => (host, port(p)?),
            None => (endpoint, MQTT_TLS),
        }
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    if port == 0 {
        return Err(bad("the port must be a number from 1 to 65535"));
    }
    Ok((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::parse_endpoint;

    #[test]
    fn endpoints_take_the_forms_users_type() {
        let ok = |e: &str| parse_endpoint(e).unwrap();
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
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
    }
}
