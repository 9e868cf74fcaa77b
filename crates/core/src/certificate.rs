//! Certificates: the precommits that make a block final.
//!
//! A certificate is a quorum of precommits for one block in one round: the
//! signed votes, exactly as their signers made them, of more than the
//! threshold of the stock party's nodes and more than the threshold of the
//! foil party's nodes. Anyone who knows the tally network at that height
//! can check it, so a node that fell behind can take certified blocks from
//! any node, even one it does not trust.
//!
//! CBOR: an array of byte strings, each a signed `ledger-vote` record.
//!
//! ```
//! use tallymesh_core::certificate::Certificate;
//! use tallymesh_core::record::Signed;
//! use tallymesh_core::tally_network::{TallyId, TallyNetwork};
//! use tallymesh_core::vote::{Step, Vote};
//! use tallymesh_core::{Digest, SecretKey};
//!
//! let (a, b) = (SecretKey::from_seed(&[1; 32]), SecretKey::from_seed(&[2; 32]));
//! let network = TallyNetwork::new(vec![a.public()], vec![b.public()]).unwrap();
//! let (tally, block) = (TallyId([5; 16]), Digest([6; 32]));
//! let vote = Vote { tally, height: 1, round: 0, step: Step::Precommit, block: Some(block) };
//! let certificate = Certificate::new(vec![Signed::sign(vote.clone(), &a), Signed::sign(vote, &b)]);
//! let received = Certificate::from_bytes(&certificate.to_bytes()).unwrap();
//! assert_eq!(received.verify(&network, tally, 1, block), Ok(0));
//! ```

use std::collections::BTreeSet;

use thiserror::Error;

use crate::Digest;
use crate::cbor::{self, Value};
use crate::record::{RecordError, Signed};
use crate::tally_network::{MAX_NODES_PER_SIDE, TallyId, TallyNetwork};
use crate::vote::{Step, Vote};

/// The most votes a certificate may carry: one per node of the largest network.
pub const MAX_CERTIFICATE_VOTES: usize = 2 * MAX_NODES_PER_SIDE;

/// A quorum of precommits for one block.
#[derive(Debug, Clone, PartialEq)]
pub struct Certificate {
    votes: Vec<Signed<Vote>>,
}

/// Why a certificate does not certify the block it was offered with.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CertificateError {
    /// The bytes are not a certificate, or a vote in it is not validly signed.
    #[error("malformed certificate: {0}")]
    Malformed(#[from] RecordError),
    /// It holds no votes, or more than any network could sign.
    #[error("a certificate holds 1 to {MAX_CERTIFICATE_VOTES} votes")]
    Size,
    /// A vote is not a precommit for this tally, height and block.
    #[error("a vote in the certificate is not a precommit for this block")]
    WrongVote,
    /// The votes are not all of one round.
    #[error("the certificate's votes are of different rounds")]
    MixedRounds,
    /// A signer is not a node of the tally network at this height.
    #[error("a vote in the certificate is by a node outside the tally network")]
    NotMember,
    /// A node signed twice.
    #[error("a node's vote appears twice in the certificate")]
    Repeated,
    /// The signers do not make a quorum of both parties.
    #[error("the certificate does not hold a quorum of both parties' nodes")]
    NoQuorum,
}

impl Certificate {
    /// A certificate of `votes` (checked by [`Certificate::verify`], not here).
    pub fn new(votes: Vec<Signed<Vote>>) -> Certificate {
        Certificate { votes }
    }

    /// The votes.
    pub fn votes(&self) -> &[Signed<Vote>] {
        &self.votes
    }

    /// The certificate's bytes: an array of the signed votes' bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        cbor::encode(&Value::Array(
            self.votes.iter().map(|v| Value::Bytes(v.bytes().to_vec())).collect(),
        ))
    }

    /// Reads a certificate from untrusted bytes, checking every vote's
    /// signature (but not yet what the votes say: see [`Certificate::verify`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Certificate, CertificateError> {
        let Value::Array(items) = cbor::decode(bytes).map_err(RecordError::from)? else {
            return Err(RecordError::Shape("a certificate is an array".into()).into());
        };
        if items.is_empty() || items.len() > MAX_CERTIFICATE_VOTES {
            return Err(CertificateError::Size);
        }
        let votes = items
            .iter()
            .map(|item| match item {
                Value::Bytes(b) => Signed::<Vote>::from_bytes(b),
                _ => Err(RecordError::Shape("a certificate's vote is a byte string".into())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Certificate { votes })
    }

    /// Checks that this certificate makes `block` final at `height` of
    /// `tally`, under the tally network of that height: every vote a
    /// precommit for `block` in one round, by distinct members, together a
    /// quorum of both parties. Returns the round.
    pub fn verify(
        &self,
        network: &TallyNetwork,
        tally: TallyId,
        height: u64,
        block: Digest,
    ) -> Result<u64, CertificateError> {
        let first = self.votes.first().ok_or(CertificateError::Size)?;
        if self.votes.len() > MAX_CERTIFICATE_VOTES {
            return Err(CertificateError::Size);
        }
        let round = first.record().round;
        let mut signers = BTreeSet::new();
        for vote in &self.votes {
            let v = vote.record();
            if v.tally != tally || v.height != height || v.step != Step::Precommit || v.block != Some(block) {
                return Err(CertificateError::WrongVote);
            }
            if v.round != round {
                return Err(CertificateError::MixedRounds);
            }
            if !network.contains(vote.signer()) {
                return Err(CertificateError::NotMember);
            }
            if !signers.insert(*vote.signer()) {
                return Err(CertificateError::Repeated);
            }
        }
        if network.is_quorum(&signers) {
            Ok(round)
        } else {
            Err(CertificateError::NoQuorum)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;
    use proptest::prelude::*;

    const TALLY: TallyId = TallyId([5; 16]);
    const BLOCK: Digest = Digest([6; 32]);

    fn nodes(n: usize, from: u8) -> Vec<SecretKey> {
        (0..n).map(|i| SecretKey::from_seed(&[from + i as u8; 32])).collect()
    }

    fn precommit(key: &SecretKey, round: u64, block: Digest) -> Signed<Vote> {
        let vote = Vote {
            tally: TALLY,
            height: 2,
            round,
            step: Step::Precommit,
            block: Some(block),
        };
        Signed::sign(vote, key)
    }

    fn network(stock: &[SecretKey], foil: &[SecretKey]) -> TallyNetwork {
        TallyNetwork::new(
            stock.iter().map(SecretKey::public).collect(),
            foil.iter().map(SecretKey::public).collect(),
        )
        .unwrap()
    }

    #[test]
    fn a_majority_of_each_side_certifies_and_one_side_alone_does_not() {
        let (stock, foil) = (nodes(3, 1), nodes(4, 10));
        let net = network(&stock, &foil);
        let quorum: Vec<_> = stock[..2]
            .iter()
            .chain(&foil[..3])
            .map(|k| precommit(k, 0, BLOCK))
            .collect();
        assert_eq!(Certificate::new(quorum).verify(&net, TALLY, 2, BLOCK), Ok(0));
        let short: Vec<_> = stock.iter().chain(&foil[..2]).map(|k| precommit(k, 0, BLOCK)).collect();
        assert_eq!(
            Certificate::new(short).verify(&net, TALLY, 2, BLOCK),
            Err(CertificateError::NoQuorum)
        );
    }

    #[test]
    fn votes_for_another_block_round_or_by_strangers_are_refused() {
        let (stock, foil) = (nodes(1, 1), nodes(1, 10));
        let net = network(&stock, &foil);
        let other = Certificate::new(vec![
            precommit(&stock[0], 0, BLOCK),
            precommit(&foil[0], 0, Digest([7; 32])),
        ]);
        assert_eq!(other.verify(&net, TALLY, 2, BLOCK), Err(CertificateError::WrongVote));
        let mixed = Certificate::new(vec![precommit(&stock[0], 0, BLOCK), precommit(&foil[0], 1, BLOCK)]);
        assert_eq!(mixed.verify(&net, TALLY, 2, BLOCK), Err(CertificateError::MixedRounds));
        let stranger = SecretKey::from_seed(&[99; 32]);
        let outsider = Certificate::new(vec![precommit(&stock[0], 0, BLOCK), precommit(&stranger, 0, BLOCK)]);
        assert_eq!(outsider.verify(&net, TALLY, 2, BLOCK), Err(CertificateError::NotMember));
        let twice = Certificate::new(vec![precommit(&stock[0], 0, BLOCK), precommit(&stock[0], 0, BLOCK)]);
        assert_eq!(twice.verify(&net, TALLY, 2, BLOCK), Err(CertificateError::Repeated));
        assert_eq!(
            Certificate::new(vec![]).verify(&net, TALLY, 2, BLOCK),
            Err(CertificateError::Size)
        );
    }

    #[test]
    fn a_certificate_with_a_forged_vote_does_not_decode() {
        let (stock, foil) = (nodes(1, 1), nodes(1, 10));
        let cert = Certificate::new(vec![precommit(&stock[0], 0, BLOCK), precommit(&foil[0], 0, BLOCK)]);
        let mut bytes = cert.to_bytes();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(matches!(
            Certificate::from_bytes(&bytes),
            Err(CertificateError::Malformed(_))
        ));
    }

    proptest! {
        #[test]
        fn certificates_round_trip(n in 1usize..5, m in 1usize..5, round in any::<u64>()) {
            let (stock, foil) = (nodes(n, 1), nodes(m, 20));
            let cert = Certificate::new(stock.iter().chain(&foil).map(|k| precommit(k, round, BLOCK)).collect());
            let decoded = Certificate::from_bytes(&cert.to_bytes()).unwrap();
            prop_assert_eq!(&decoded, &cert);
            prop_assert_eq!(decoded.verify(&network(&stock, &foil), TALLY, 2, BLOCK), Ok(round));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Certificate::from_bytes(&bytes);
        }
    }
}
