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
