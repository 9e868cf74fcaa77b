//! The forward key chain: which key may sign a party's next action on a tally.
//!
//! Every action a party signs on a tally names the public key that must
//! sign its *next* action there. Action keys are derived from the party
//! secret, so nothing more needs storing:
//!
//! ```text
//! seed(tally, n) = HKDF-SHA256(salt = "tallymesh/v1/action-key",
//!                              ikm  = party secret seed,
//!                              info = tally id (16 bytes) ‖ n (8 bytes, big-endian))
//! ```
//!
//! A leaked action key signs at most the one action it was meant for: the
//! next one needs a key derived from the party secret.
//!
//! ```
//! use tallymesh_core::action_key::{action_key, check_chain, ActionLink};
//! use tallymesh_core::SecretKey;
//!
//! let party = SecretKey::from_seed(&[7; 32]);
//! let tally = [1u8; 16];
//! let links: Vec<ActionLink> = (0..3)
//!     .map(|n| ActionLink {
//!         signer: action_key(&party, &tally, n).public(),
//!         next: action_key(&party, &tally, n + 1).public(),
//!     })
//!     .collect();
//! assert!(check_chain(&action_key(&party, &tally, 0).public(), &links).is_ok());
//! ```

use hkdf::Hkdf;
use sha2::Sha256;
use thiserror::Error;
use zeroize::Zeroizing;

use crate::{PublicKey, SecretKey};

const SALT: &[u8] = b"tallymesh/v1/action-key";

/// The key that signs action `index` of the party on tally `tally_id`.
pub fn action_key(party_secret: &SecretKey, tally_id: &[u8; 16], index: u64) -> SecretKey {
    let ikm = party_secret.seed();
    let mut info = [0u8; 24];
    info[..16].copy_from_slice(tally_id);
    info[16..].copy_from_slice(&index.to_be_bytes());
    let mut seed = Zeroizing::new([0u8; 32]);
    // HKDF can only fail for outputs longer than 255 hash lengths; 32 bytes
    // is always fine, and a zero seed would still be a valid (if useless) key.
    let _ = Hkdf::<Sha256>::new(Some(SALT), ikm.as_ref()).expand(&info, seed.as_mut());
    SecretKey::from_seed(&seed)
}

/// One signed action as the chain sees it: who signed it, and whom it names
/// to sign the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionLink {
    /// The key that signed this action.
    pub signer: PublicKey,
    /// The key this action names for the party's next action.
    pub next: PublicKey,
}

/// An action signed by a key its predecessor did not name.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("action {index} is signed by a key the previous action did not name")]
pub struct ChainError {
    /// The position of the offending action.
    pub index: usize,
}

/// Checks a party's actions in order: the first is signed by `first`
/// (named in the tally both parties signed), and each later one by the key
/// its predecessor named.
pub fn check_chain(first: &PublicKey, links: &[ActionLink]) -> Result<(), ChainError> {
    let mut expected = *first;
    for (index, link) in links.iter().enumerate() {
        if link.signer != expected {
            return Err(ChainError { index });
        }
        expected = link.next;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn chain(party: &SecretKey, tally: &[u8; 16], len: u64) -> Vec<ActionLink> {
        (0..len)
            .map(|n| ActionLink {
                signer: action_key(party, tally, n).public(),
                next: action_key(party, tally, n + 1).public(),
            })
            .collect()
    }

    #[test]
    fn keys_differ_by_tally_and_index_and_are_reproducible() {
        let party = SecretKey::from_seed(&[7; 32]);
        let a = action_key(&party, &[1; 16], 0).public();
        assert_eq!(a, action_key(&party, &[1; 16], 0).public());
        assert_ne!(a, action_key(&party, &[1; 16], 1).public());
        assert_ne!(a, action_key(&party, &[2; 16], 0).public());
        assert_ne!(a, party.public());
    }

    #[test]
    fn an_action_signed_by_a_leaked_earlier_key_breaks_the_chain() {
        let party = SecretKey::from_seed(&[7; 32]);
        let tally = [3; 16];
        let mut links = chain(&party, &tally, 4);
        // Someone holding key 1 signs action 2 with it.
        links[2].signer = action_key(&party, &tally, 1).public();
        assert_eq!(
            check_chain(&action_key(&party, &tally, 0).public(), &links),
            Err(ChainError { index: 2 })
        );
    }

    proptest! {
        #[test]
        fn an_honest_chain_verifies_and_any_substituted_signer_is_caught(
            seed in any::<[u8; 32]>(),
            tally in any::<[u8; 16]>(),
            len in 1u64..12,
            victim in any::<prop::sample::Index>(),
        ) {
            let party = SecretKey::from_seed(&seed);
            let first = action_key(&party, &tally, 0).public();
            let mut links = chain(&party, &tally, len);
            prop_assert!(check_chain(&first, &links).is_ok());
            let i = victim.index(links.len());
            links[i].signer = SecretKey::from_seed(&[0xEE; 32]).public();
            prop_assert_eq!(check_chain(&first, &links), Err(ChainError { index: i }));
        }
    }
}
