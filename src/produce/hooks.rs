//! rustls hooks that report what TLS 1.3 encrypts: the server's chain and CertificateVerify, the
//! CertificateRequest, and our own Certificate and CertificateVerify (checked against our cert).
//!
//! Hooks only record facts; the producer turns them into transcript events in wire order.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::sign::{CertifiedKey, Signer, SigningKey};
use rustls::{CertificateError, DigitallySignedStruct, Error, SignatureAlgorithm, SignatureScheme};

use crate::credentials::inspect::CertInfo;
use crate::credentials::keys::verify_tls_signature;
use crate::model::WithheldReason;

/// What the hooks saw, in the order they saw it.
#[derive(Debug, Clone)]
pub enum HookFact {
    /// The server's chain and our verdict on it.
    ServerChain {
        chain: Vec<CertInfo>,
        result: Result<(), Error>,
    },
    /// The server's TLS 1.3 CertificateVerify.
    ServerSignature {
        scheme: SignatureScheme,
        length: usize,
        result: Result<(), Error>,
    },
    /// The server's TLS 1.2 ServerKeyExchange signature.
    ServerKeyExchangeSignature {
        scheme: SignatureScheme,
        result: Result<(), Error>,
    },
    /// The server asked for a client certificate.
    CertificateRequested {
        ca_names: Vec<String>,
        schemes: Vec<SignatureScheme>,
    },
    /// What we answer: the chain we send, and when it is empty although a certificate was
    /// configured or asked for, why (reason id, message).
    ClientCertificate {
        chain: Vec<CertInfo>,
        withheld: Option<(WithheldReason, String)>,
    },
    /// A fact about our answer worth a line in the transcript.
    ClientNote(String),
    /// Server side: the CertificateRequest we send (CA names, schemes).
    RequestSent {
        ca_names: Vec<String>,
        schemes: Vec<SignatureScheme>,
    },
    /// Server side: the client's Certificate message arrived (a chain may follow).
    ClientCertificateArrived,
    /// Server side: the client's chain and our verdict on it.
    ClientChain {
        chain: Vec<CertInfo>,
        result: Result<(), Error>,
    },
    /// Server side: the client's CertificateVerify and our verdict on it.
    ClientSignatureChecked {
        scheme: SignatureScheme,
        length: usize,
        result: Result<(), Error>,
    },
    /// A signature made with our key (a CertificateVerify, or a TLS 1.2 ServerKeyExchange),
    /// checked against our own certificate.
    OwnSignature {
        scheme: SignatureScheme,
        length: usize,
        verified: Option<bool>,
    },
}

/// Facts shared between the hooks (called inside rustls) and the producer.
#[derive(Debug, Clone, Default)]
pub struct Facts(Arc<Mutex<Vec<HookFact>>>);

impl Facts {
    fn push(&self, fact: HookFact) {
        if let Ok(mut facts) = self.0.lock() {
            facts.push(fact);
        }
    }

    /// Takes the facts recorded since the last call.
    pub fn drain(&self) -> Vec<HookFact> {
        self.0
            .lock()
            .map(|mut facts| std::mem::take(&mut *facts))
            .unwrap_or_default()
    }
}

fn chain_infos(
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
) -> Vec<CertInfo> {
    std::iter::once(end_entity)
        .chain(intermediates)
        .filter_map(|der| CertInfo::from_der(der).ok())
        .collect()
}

/// Verifies the server with webpki, records everything, and with `insecure` accepts whatever
/// the verdict (the verdict is still recorded and reported).
#[derive(Debug)]
pub struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    insecure: bool,
    facts: Facts,
    /// The schemes offered for the server's signature, when not all the inner verifier's:
    /// rustls offers what its verifier says it supports.
    schemes: Option<Vec<SignatureScheme>>,
}

impl RecordingVerifier {
    pub fn new(inner: Arc<WebPkiServerVerifier>, insecure: bool, facts: Facts) -> Self {
        RecordingVerifier {
            inner,
            insecure,
            facts,
            schemes: None,
        }
    }

    /// Offers only `schemes` for the server's signature (none given: every one it can check).
    pub fn offering(mut self, schemes: &[SignatureScheme]) -> Self {
        self.schemes = (!schemes.is_empty()).then(|| schemes.to_vec());
        self
    }

    fn outcome<T>(&self, result: &Result<T, Error>, ok: T) -> Result<T, Error> {
        match result {
            Ok(_) => Ok(ok),
            Err(_) if self.insecure => Ok(ok),
            Err(e) => Err(e.clone()),
        }
    }
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let result = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        self.facts.push(HookFact::ServerChain {
            chain: chain_infos(end_entity, intermediates),
            result: result.as_ref().map(|_| ()).map_err(Clone::clone),
        });
        self.outcome(&result, ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        let result = self.inner.verify_tls12_signature(message, cert, dss);
        self.facts.push(HookFact::ServerKeyExchangeSignature {
            scheme: dss.scheme,
            result: result.as_ref().map(|_| ()).map_err(Clone::clone),
        });
        self.outcome(&result, HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        let result = self.inner.verify_tls13_signature(message, cert, dss);
        self.facts.push(HookFact::ServerSignature {
            scheme: dss.scheme,
            length: dss.signature().len(),
            result: result.as_ref().map(|_| ()).map_err(Clone::clone),
        });
        self.outcome(&result, HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes
            .clone()
            .unwrap_or_else(|| self.inner.supported_verify_schemes())
    }
}

/// Offers our certificate (if any), recording the CertificateRequest and what we send.
#[derive(Debug)]
pub struct RecordingResolver {
    /// Or why there is none to offer: a reason id and a sentence, as recorded.
    identity: Result<Identity, (WithheldReason, String)>,
    facts: Facts,
}

/// Our certificate chain and key, as rustls will use them.
#[derive(Debug, Clone)]
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: Arc<dyn SigningKey>,
}

impl RecordingResolver {
    pub fn new(identity: Result<Identity, (WithheldReason, String)>, facts: Facts) -> Self {
        RecordingResolver { identity, facts }
    }
}

impl ResolvesClientCert for RecordingResolver {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        let ca_names: Vec<String> = root_hint_subjects
            .iter()
            .map(|dn| distinguished_name(dn))
            .collect();
        self.facts.push(HookFact::CertificateRequested {
            ca_names: ca_names.clone(),
            schemes: sigschemes.to_vec(),
        });
        let identity = match &self.identity {
            Ok(identity) => identity,
            Err(withheld) => {
                self.facts.push(HookFact::ClientCertificate {
                    chain: vec![],
                    withheld: Some(withheld.clone()),
                });
                return None;
            }
        };
        let infos: Vec<CertInfo> = identity
            .chain
            .iter()
            .filter_map(|der| CertInfo::from_der(der).ok())
            .collect();
        let leaf = infos.first().cloned()?;
        if identity.key.choose_scheme(sigschemes).is_none() {
            // rustls answers with an empty Certificate here, without telling anyone.
            self.facts.push(HookFact::ClientCertificate {
                chain: vec![],
                withheld: Some((
                    WithheldReason::NoMatchingScheme,
                    format!(
                        "the client key ({}) can make none of the signature schemes the server accepts, \
                         so the TLS library sends an empty Certificate instead of '{}'",
                        leaf.key,
                        leaf.short_name()
                    ),
                )),
            });
        } else {
            self.facts
                .push(HookFact::ClientNote(chain_against_names(&infos, &ca_names)));
            self.facts.push(HookFact::ClientCertificate {
                chain: infos,
                withheld: None,
            });
        }
        let key = Arc::new(RecordingKey::new(
            identity.key.clone(),
            leaf,
            self.facts.clone(),
        ));
        Some(Arc::new(CertifiedKey::new(identity.chain.clone(), key)))
    }

    fn has_certs(&self) -> bool {
        self.identity.is_ok()
    }
}

/// Whether the chain we are about to send reaches a CA the server named.
fn chain_against_names(chain: &[CertInfo], ca_names: &[String]) -> String {
    use crate::credentials::chain::{Kinship, KnownCa, key_identifiers, kinship};
    use crate::credentials::inspect::short_dn;
    if ca_names.is_empty() {
        return "the server named no CAs: it takes any certificate it can verify".into();
    }
    match chain
        .iter()
        .find(|c| ca_names.contains(&c.issuer) || ca_names.contains(&c.subject))
    {
        Some(cert) if ca_names.contains(&cert.subject) => {
            format!(
                "our chain includes '{}', a CA the server named",
                cert.short_name()
            )
        }
        Some(cert) => format!(
            "our chain reaches '{}', a CA the server named",
            short_dn(&cert.issuer)
        ),
        None => {
            let top = chain.last();
            let known: Vec<KnownCa<'_>> = ca_names
                .iter()
                .map(|name| KnownCa {
                    subject: name,
                    key_id: None,
                })
                .collect();
            // Whether the top one's issuer could be an intermediate under a named CA at all.
            let kin = match top.map(|c| {
                (
                    c,
                    kinship(&c.issuer, key_identifiers(c).0.as_deref(), &known),
                )
            }) {
                Some((_, Kinship::Stranger { why })) => format!(": a stranger to them, {why}"),
                Some((c, Kinship::SameOrganisation { organisation })) if !c.self_issued => {
                    format!(
                        ": of '{organisation}' like a CA named, perhaps an intermediate under it"
                    )
                }
                _ => String::new(),
            };
            format!(
                "none of the {} certificate(s) we send is issued by a CA the server named (the top one is issued by '{}'){kin}",
                chain.len(),
                top.map(|c| short_dn(&c.issuer)).unwrap_or_default()
            )
        }
    }
}

/// A CA name from a CertificateRequest, as text.
fn distinguished_name(der: &[u8]) -> String {
    use x509_parser::prelude::{FromDer, X509Name};
    if let Ok((_, name)) = X509Name::from_der(der) {
        return name.to_string();
    }
    // Some stacks hand over the Name without its outer SEQUENCE.
    let mut wrapped = vec![0x30];
    if der.len() < 0x80 {
        wrapped.push(der.len() as u8);
    } else {
        wrapped.extend([0x82, (der.len() >> 8) as u8, der.len() as u8]);
    }
    wrapped.extend_from_slice(der);
    X509Name::from_der(&wrapped)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|_| format!("(unparsable name, {} bytes)", der.len()))
}

/// Our signing key, recording each signature and checking it against our own certificate.
#[derive(Debug)]
pub struct RecordingKey {
    inner: Arc<dyn SigningKey>,
    leaf: CertInfo,
    facts: Facts,
}

impl RecordingKey {
    /// `leaf` is the certificate `inner` should belong to.
    pub fn new(inner: Arc<dyn SigningKey>, leaf: CertInfo, facts: Facts) -> Self {
        RecordingKey { inner, leaf, facts }
    }
}

/// What the check of our own signature against our certificate found, for the transcript.
pub fn own_signature_detail(verified: Option<bool>) -> Option<String> {
    Some(
        match verified {
            Some(true) => "our signature verifies against our own certificate",
            Some(false) => "our signature does NOT verify against our own certificate: the key does not belong to it",
            None => "could not check our signature against our certificate",
        }
        .to_string(),
    )
}

impl SigningKey for RecordingKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        let inner = self.inner.choose_scheme(offered)?;
        Some(Box::new(RecordingSigner {
            inner,
            leaf: self.leaf.clone(),
            facts: self.facts.clone(),
        }))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.inner.algorithm()
    }

    fn public_key(&self) -> Option<rustls::pki_types::SubjectPublicKeyInfoDer<'_>> {
        self.inner.public_key()
    }
}

#[derive(Debug)]
struct RecordingSigner {
    inner: Box<dyn Signer>,
    leaf: CertInfo,
    facts: Facts,
}

impl Signer for RecordingSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let signature = self.inner.sign(message)?;
        let scheme = self.inner.scheme();
        self.facts.push(HookFact::OwnSignature {
            scheme,
            length: signature.len(),
            verified: verify_tls_signature(&self.leaf, scheme, message, &signature),
        });
        Ok(signature)
    }

    fn scheme(&self) -> SignatureScheme {
        self.inner.scheme()
    }
}

/// A short, stable description of a rustls certificate error, for evidence lines.
pub fn describe_certificate_error(error: &Error) -> String {
    match error {
        Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "unknown issuer: the chain does not lead to a CA given".into()
        }
        Error::InvalidCertificate(e) => super::rustls_text::certificate_error(e),
        other => super::rustls_text::error(other),
    }
}

/// Server side: verifies the client with webpki and records the CertificateRequest sent, the
/// client's chain and its CertificateVerify, with our verdict on each.
#[derive(Debug)]
pub struct RecordingClientVerifier {
    inner: Arc<dyn rustls::server::danger::ClientCertVerifier>,
    mandatory: bool,
    /// Signature schemes offered in the CertificateRequest (`--client-sigalgs`); all by default.
    schemes: Option<Vec<SignatureScheme>>,
    facts: Facts,
}

impl RecordingClientVerifier {
    /// Records the verdict on the client's CertificateVerify and passes it on.
    fn recorded(
        &self,
        dss: &DigitallySignedStruct,
        result: Result<HandshakeSignatureValid, Error>,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.facts.push(HookFact::ClientSignatureChecked {
            scheme: dss.scheme,
            length: dss.signature().len(),
            result: result.as_ref().map(|_| ()).map_err(Clone::clone),
        });
        result
    }

    pub fn new(
        inner: Arc<dyn rustls::server::danger::ClientCertVerifier>,
        mandatory: bool,
        schemes: Option<Vec<SignatureScheme>>,
        facts: Facts,
    ) -> Self {
        RecordingClientVerifier {
            inner,
            mandatory,
            schemes,
            facts,
        }
    }
}

impl rustls::server::danger::ClientCertVerifier for RecordingClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        // rustls asks this as the client's Certificate arrives, empty or not.
        self.facts.push(HookFact::ClientCertificateArrived);
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        let hints = self.inner.root_hint_subjects();
        // Asked for when the CertificateRequest is built: record what it carries.
        self.facts.push(HookFact::RequestSent {
            ca_names: hints
                .iter()
                .map(|dn| distinguished_name(dn.as_ref()))
                .collect(),
            schemes: self.supported_verify_schemes(),
        });
        hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<rustls::server::danger::ClientCertVerified, Error> {
        let result = self
            .inner
            .verify_client_cert(end_entity, intermediates, now);
        self.facts.push(HookFact::ClientChain {
            chain: chain_infos(end_entity, intermediates),
            result: result.as_ref().map(|_| ()).map_err(Clone::clone),
        });
        result
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.recorded(dss, self.inner.verify_tls12_signature(message, cert, dss))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.recorded(dss, self.inner.verify_tls13_signature(message, cert, dss))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes
            .clone()
            .unwrap_or_else(|| self.inner.supported_verify_schemes())
    }
}
