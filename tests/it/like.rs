//! `connect` offering what a device offers: --ciphers, --groups and --sigalgs, --like with a
//! capture of a device's ClientHello or a preset of a TLS stack's defaults, against real
//! `openssl s_server` peers on loopback.

use crate::common::*;
use serde_json::Value;

/// Every suite name `openssl ciphers` knows is read as the suite of the same code.
#[test]
fn every_openssl_cipher_name_is_understood() {
    let out = std::process::Command::new("openssl")
        .args(["ciphers", "-V", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"])
        .output()
        .expect("openssl is installed");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let (Some(code), Some(_), Some(name)) = (words.next(), words.next(), words.next()) else {
            continue;
        };
        let hex = code.replace("0x", "").replace(',', "");
        let code = u16::from_str_radix(&hex, 16).unwrap();
        let parsed = iotdoctor::produce::offer::parse_suites(name);
        if parsed != Ok(vec![code]) {
            wrong.push(format!("{name} 0x{code:04x}: {parsed:?}"));
        }
        checked += 1;
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(checked > 50, "openssl listed {checked} suites");
}
