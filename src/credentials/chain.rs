//! Building a certificate's chain from the certificates at hand, checking each link's signature
//! with the algorithms rustls verifies with.

use serde::Serialize;

use super::inspect::CertInfo;

/// Whether `issuer`'s key made `child`'s signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Verified,
    /// The signature does not verify with the issuer's key.
    Invalid,
    /// rustls has no verifier for this key / signature algorithm pair (SHA-1, small RSA, ...).
    Unverifiable,
}

pub fn check_link(child: &CertInfo, issuer: &CertInfo) -> Link {
    let algorithms = rustls::crypto::aws_lc_rs::default_provider()
        .signature_verification_algorithms
        .all;
    let mut candidates = algorithms.iter().filter(|alg| {
        alg.public_key_alg_id().as_ref() == issuer.raw.spki_alg_id.as_slice()
            && alg.signature_alg_id().as_ref() == child.raw.signature_alg_id.as_slice()
    });
    let mut any = false;
    let verified = candidates.any(|alg| {
        any = true;
        alg.verify_signature(&issuer.raw.public_key, &child.raw.tbs, &child.raw.signature)
            .is_ok()
    });
    match (verified, any) {
        (true, _) => Link::Verified,
        (false, true) => Link::Invalid,
        (false, false) => Link::Unverifiable,
    }
}

/// How the walk up from the leaf ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum ChainEnd {
    /// Reached a CA given as trusted (index into the anchors).
    Trusted { anchor: usize },
    /// Reached a self-signed root that is not among the anchors.
    UntrustedRoot,
    /// The next issuer is in none of the certificates at hand.
    MissingIssuer { issuer: String },
    /// Certificates named like the issuer exist, but none of their keys made the signature.
    WrongIssuerKey { issuer: String },
    /// Gave up: the chain is longer than any real one.
    TooLong,
}

/// The chain from a leaf upwards, as far as it could be built.
#[derive(Debug, Clone)]
pub struct Chain {
    /// Indices into the pool, leaf first.
    pub path: Vec<usize>,
    pub end: ChainEnd,
    /// Links accepted by name because rustls cannot verify their signature algorithm:
    /// (index of the child in the pool).
    pub unverified_links: Vec<usize>,
}

const MAX_DEPTH: usize = 10;

/// Walks from `pool[leaf]` to a trust anchor, using the other certificates of `pool` as
/// intermediates. Pool and anchors are searched by subject name, then by signature.
pub fn build(pool: &[&CertInfo], leaf: usize, anchors: &[&CertInfo]) -> Chain {
    let mut chain = Chain {
        path: vec![leaf],
        end: ChainEnd::TooLong,
        unverified_links: vec![],
    };
    while chain.path.len() <= MAX_DEPTH {
        let current_index = *chain.path.last().unwrap_or(&leaf);
        let current = pool[current_index];
        let mut wrong_key = false;

        if let Some(anchor) = anchors.iter().position(|a| a.raw.der == current.raw.der) {
            chain.end = ChainEnd::Trusted { anchor };
            return chain;
        }
        for (index, anchor) in anchors
            .iter()
            .enumerate()
            .filter(|(_, a)| a.raw.subject == current.raw.issuer)
        {
            match check_link(current, anchor) {
                Link::Verified => {
                    chain.end = ChainEnd::Trusted { anchor: index };
                    return chain;
                }
                Link::Unverifiable => {
                    chain.unverified_links.push(current_index);
                    chain.end = ChainEnd::Trusted { anchor: index };
                    return chain;
                }
                Link::Invalid => wrong_key = true,
            }
        }
        if current.self_issued && check_link(current, current) != Link::Invalid {
            chain.end = ChainEnd::UntrustedRoot;
            return chain;
        }
        let next = pool.iter().enumerate().find_map(|(index, candidate)| {
            if chain.path.contains(&index) || candidate.raw.subject != current.raw.issuer {
                return None;
            }
            match check_link(current, candidate) {
                Link::Invalid => {
                    wrong_key = true;
                    None
                }
                link => Some((index, link)),
            }
        });
        match next {
            Some((index, link)) => {
                if link == Link::Unverifiable {
                    chain.unverified_links.push(current_index);
                }
                chain.path.push(index);
            }
            None => {
                let issuer = current.issuer.clone();
                chain.end = if wrong_key {
                    ChainEnd::WrongIssuerKey { issuer }
                } else {
                    ChainEnd::MissingIssuer { issuer }
                };
                return chain;
            }
        }
    }
    chain
}

/// The key identifiers of a certificate: (Authority Key Identifier, Subject Key Identifier),
/// each when present.
pub fn key_identifiers(cert: &CertInfo) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    use x509_parser::prelude::{FromDer, ParsedExtension, X509Certificate};
    let Ok((_, parsed)) = X509Certificate::from_der(&cert.raw.der) else {
        return (None, None);
    };
    let (mut authority, mut subject) = (None, None);
    for extension in parsed.extensions() {
        match extension.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                authority = aki.key_identifier.as_ref().map(|k| k.0.to_vec());
            }
            ParsedExtension::SubjectKeyIdentifier(ski) => subject = Some(ski.0.to_vec()),
            _ => {}
        }
    }
    (authority, subject)
}

/// The organisation (O=) of a distinguished name as iotdoctor prints it ("O=Org, CN=Name").
pub fn organisation(dn: &str) -> Option<&str> {
    dn.split(',')
        .map(str::trim)
        .find_map(|part| part.strip_prefix("O="))
        .map(str::trim)
        .filter(|o| !o.is_empty())
}

/// A CA the issuer of a certificate is weighed against: named by a server in its
/// CertificateRequest (a name only), or given in a file (with its Subject Key Identifier).
#[derive(Debug, Clone)]
pub struct KnownCa<'a> {
    pub subject: &'a str,
    pub key_id: Option<Vec<u8>>,
}

/// How the issuer of a certificate relates to the CAs known (named or given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kinship {
    /// The issuer is one of them, by name or by key identifier.
    Known,
    /// Not one of them, but of the same organisation as one: likely an intermediate under it.
    SameOrganisation { organisation: String },
    /// Of an organisation none of them has, and its key identifier matches none: a CA of its
    /// own, not an intermediate under one of them.
    Stranger { why: String },
    /// Not enough to tell (no organisation in the names, no key identifiers).
    Unknown,
}

/// Weighs `issuer_dn` (with the Authority Key Identifier of the certificate it issued) against
/// the CAs known.
pub fn kinship(issuer_dn: &str, authority_key_id: Option<&[u8]>, cas: &[KnownCa<'_>]) -> Kinship {
    if cas.is_empty() {
        return Kinship::Unknown;
    }
    if cas.iter().any(|ca| ca.subject == issuer_dn)
        || authority_key_id
            .is_some_and(|aki| cas.iter().any(|ca| ca.key_id.as_deref() == Some(aki)))
    {
        return Kinship::Known;
    }
    let issuer_org = organisation(issuer_dn);
    if let Some(org) = issuer_org
        && cas.iter().any(|ca| organisation(ca.subject) == Some(org))
    {
        return Kinship::SameOrganisation {
            organisation: org.to_string(),
        };
    }
    let every_org_known = cas.iter().all(|ca| organisation(ca.subject).is_some());
    let every_key_known = cas.iter().all(|ca| ca.key_id.is_some()) && authority_key_id.is_some();
    let names = || {
        let mut orgs: Vec<&str> = cas
            .iter()
            .filter_map(|ca| organisation(ca.subject))
            .collect();
        orgs.dedup();
        orgs.join("', '")
    };
    match (issuer_org, every_org_known, every_key_known) {
        (Some(org), true, _) => Kinship::Stranger {
            why: format!("its organisation '{org}' is none of theirs ('{}')", names()),
        },
        (_, _, true) => Kinship::Stranger {
            why: "its key identifier matches none of theirs".into(),
        },
        _ => Kinship::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(subject: &str) -> KnownCa<'_> {
        KnownCa {
            subject,
            key_id: None,
        }
    }

    #[test]
    fn an_issuer_of_another_organisation_is_a_stranger_and_of_the_same_one_is_kin() {
        let root = [named("O=iotdoctor test PKI, CN=iotdoctor Test Root CA")];
        assert!(matches!(
            kinship("O=Rogue Org, CN=Rogue CA", None, &root),
            Kinship::Stranger { .. }
        ));
        assert_eq!(
            kinship(
                "O=iotdoctor test PKI, CN=iotdoctor Test Intermediate CA",
                None,
                &root
            ),
            Kinship::SameOrganisation {
                organisation: "iotdoctor test PKI".into()
            }
        );
        assert_eq!(
            kinship(
                "O=iotdoctor test PKI, CN=iotdoctor Test Root CA",
                None,
                &root
            ),
            Kinship::Known
        );
    }

    #[test]
    fn without_organisations_only_key_identifiers_can_tell() {
        let ca = [KnownCa {
            subject: "CN=Root",
            key_id: Some(vec![1, 2, 3]),
        }];
        assert_eq!(kinship("CN=Other", None, &ca), Kinship::Unknown);
        assert!(matches!(
            kinship("CN=Other", Some(&[9, 9]), &ca),
            Kinship::Stranger { .. }
        ));
        assert_eq!(kinship("CN=Renamed", Some(&[1, 2, 3]), &ca), Kinship::Known);
        assert_eq!(
            kinship("CN=Other", None, &[named("CN=Root")]),
            Kinship::Unknown
        );
    }
}
