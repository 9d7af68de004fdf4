//! The integration tests, one binary: each module tests one command or one concern through the
//! built `iotdoctor` binary or the library, with real peers on loopback only.

mod common;

mod analyze;
mod analyze_gaps;
mod check_certs;
mod connect_bounds;
mod connect_cli;
mod connect_mqtt;
mod connect_openssl;
mod connect_rustls;
mod connect_transport;
mod demo;
mod device_keylogs;
mod docs_ids;
mod explain;
mod frozen_clock;
mod habits;
mod hostile_bytes;
mod hostile_peers;
mod json_contract;
mod layering;
mod like;
mod openssl_agrees;
mod output;
mod probe;
mod probe_device_only;
mod probe_raw;
mod real_client_certs;
mod real_keylogs;
mod real_not_tls;
mod real_records;
mod secrets;
mod serve;
mod server_cert_usage;
