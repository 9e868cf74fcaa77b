//! Party ids: a party's Ed25519 key written as a `did:key`.
//!
//! `did:key:z…` is the base58-btc multibase of the multicodec prefix
//! `0xed 0x01` (ed25519-pub) followed by the 32-byte public key, so the id
//! *is* the key: anyone can check a party's signature from its id alone.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use thiserror::Error;

use crate::PublicKey;

const DID_KEY_PREFIX: &str = "did:key:z";
const ED25519_MULTICODEC: [u8; 2] = [0xed, 0x01];

/// A party (person or organisation), identified by its party key.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartyId(PublicKey);

/// Text that is not an Ed25519 `did:key`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PartyIdError {
    /// It does not start with `did:key:z`.
    #[error("a party id starts with \"did:key:z\"")]
    NotDidKey,
    /// The rest is not base58.
    #[error("the party id is not valid base58")]
    NotBase58,
    /// It is a `did:key` of another key type.
    #[error("the party id is not an Ed25519 key")]
    NotEd25519,
    /// The key bytes are not a valid key.
    #[error("the party id does not hold a valid key")]
    BadKey,
}

impl PartyId {
    /// The party whose key is `key`.
    pub fn new(key: PublicKey) -> PartyId {
        PartyId(key)
    }

    /// The party key.
    pub fn key(&self) -> &PublicKey {
        &self.0
    }

    /// The last eight characters of the id, for showing beside a name.
    pub fn fingerprint(&self) -> String {
        let full = self.to_string();
        full[full.len().saturating_sub(8)..].to_owned()
    }
}

/// The ids met lately, both ways: a node writes and reads the same few
/// party ids (its own, its contacts') several times for every chat message,
/// and each costs microseconds — base58 is quadratic in the key's length,
/// and reading a key back checks it is a point of the curve. Bounded: emptied
/// when it holds [`Known::MOST`] ids.
#[derive(Default)]
struct Known {
    texts: HashMap<[u8; 32], Arc<str>>,
    parties: HashMap<Arc<str>, PartyId>,
}

impl Known {
    const MOST: usize = 4_096;

    fn get() -> std::sync::MutexGuard<'static, Known> {
        static KNOWN: OnceLock<Mutex<Known>> = OnceLock::new();
        KNOWN
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn make_room(&mut self) {
        if self.texts.len() >= Known::MOST || self.parties.len() >= Known::MOST {
            self.texts.clear();
            self.parties.clear();
        }
    }
}

/// The `did:key` text of a party key.
fn did_text(key: &PublicKey) -> Arc<str> {
    if let Some(text) = Known::get().texts.get(key.as_bytes()) {
        return Arc::clone(text);
    }
    let mut bytes = Vec::with_capacity(34);
    bytes.extend_from_slice(&ED25519_MULTICODEC);
    bytes.extend_from_slice(key.as_bytes());
    let text: Arc<str> = format!("{DID_KEY_PREFIX}{}", bs58::encode(bytes).into_string()).into();
    let mut known = Known::get();
    known.make_room();
    known.texts.insert(*key.as_bytes(), Arc::clone(&text));
    text
}

impl std::fmt::Display for PartyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&did_text(&self.0))
    }
}

impl std::fmt::Debug for PartyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PartyId({self})")
    }
}

impl FromStr for PartyId {
    type Err = PartyIdError;

    fn from_str(text: &str) -> Result<PartyId, PartyIdError> {
        if let Some(party) = Known::get().parties.get(text) {
            return Ok(*party);
        }
        let encoded = text.strip_prefix(DID_KEY_PREFIX).ok_or(PartyIdError::NotDidKey)?;
        let bytes = bs58::decode(encoded).into_vec().map_err(|_| PartyIdError::NotBase58)?;
        let key = bytes
            .strip_prefix(&ED25519_MULTICODEC)
            .ok_or(PartyIdError::NotEd25519)?;
        let party = PublicKey::from_bytes(key)
            .map(PartyId)
            .map_err(|_| PartyIdError::BadKey)?;
        let mut known = Known::get();
        known.make_room();
        known.parties.insert(text.into(), party);
        Ok(party)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;
    use proptest::prelude::*;

    /// Published did:key vectors: (did, publicKeyBase58).
    const VECTORS: [(&str, &str); 2] = [
        (
            "did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th",
            "8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K",
        ),
        (
            "did:key:z6MkwJSaEMnE4u6LiqrZV1BJHSkc9x8S4mTm3ArNL1m19BZR",
            "HrBXe7XnjMbscM1roSDTSMCcLNraetDQM9wSVjnzDxn3",
        ),
    ];

    #[test]
    fn ids_parse_and_print_as_the_published_vectors() {
        for (did, key58) in VECTORS {
            let key = PublicKey::from_bytes(&bs58::decode(key58).into_vec().unwrap()).unwrap();
            assert_eq!(PartyId::new(key).to_string(), did);
            assert_eq!(did.parse::<PartyId>().unwrap().key(), &key);
        }
    }

    #[test]
    fn ids_read_and_written_again_and_again_stay_the_same_past_the_bound_of_those_kept() {
        let parties: Vec<(PartyId, String)> = (0..Known::MOST + 10)
            .map(|n| {
                let mut seed = [0u8; 32];
                seed[..8].copy_from_slice(&(n as u64).to_le_bytes());
                let party = PartyId::new(SecretKey::from_seed(&seed).public());
                (party, party.to_string())
            })
            .collect();
        for (party, text) in parties.iter().rev().chain(parties.iter()) {
            assert_eq!(&party.to_string(), text);
            assert_eq!(&text.parse::<PartyId>().unwrap(), party);
            assert_eq!(&text.parse::<PartyId>().unwrap().to_string(), text);
        }
        let (did, _) = VECTORS[0];
        let party: PartyId = did.parse().unwrap();
        assert_eq!(party.to_string(), did, "a published vector, after many others");
        for _ in 0..2 {
            assert_eq!(
                "did:key:z0OIl".parse::<PartyId>(),
                Err(PartyIdError::NotBase58),
                "a refused text is refused every time"
            );
        }
    }

    #[test]
    fn other_texts_are_refused_with_a_reason() {
        assert_eq!("alice".parse::<PartyId>(), Err(PartyIdError::NotDidKey));
        assert_eq!("did:key:z0OIl".parse::<PartyId>(), Err(PartyIdError::NotBase58));
        // A secp256k1 did:key (multicodec 0xe7).
        assert_eq!(
            "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme".parse::<PartyId>(),
            Err(PartyIdError::NotEd25519)
        );
        let short_key = bs58::encode([&ED25519_MULTICODEC[..], &[1u8; 31]].concat()).into_string();
        assert_eq!(
            format!("did:key:z{short_key}").parse::<PartyId>(),
            Err(PartyIdError::BadKey)
        );
    }

    proptest! {
        #[test]
        fn every_party_id_round_trips_through_text(seed in any::<[u8; 32]>()) {
            let id = PartyId::new(SecretKey::from_seed(&seed).public());
            let text = id.to_string();
            prop_assert!(text.starts_with("did:key:z6Mk"));
            prop_assert_eq!(text.parse::<PartyId>(), Ok(id));
        }
    }
}
