//! Ed25519 keys and signatures, with every signature bound to a record kind.
//!
//! A signature covers `tallymesh/v1/<kind>`, a zero byte, then the bytes
//! signed, so a signature made for one kind of record can never be passed
//! off as another (DESIGN §4).

use ed25519_dalek::Signer;
use thiserror::Error;
use zeroize::Zeroizing;

/// The prefix of every domain tag.
pub const DOMAIN_PREFIX: &str = "tallymesh/v1/";

/// An Ed25519 public key that is a valid curve point.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey([u8; 32]);

/// An Ed25519 secret key. Its bytes are wiped from memory when it is
/// dropped, and it never prints.
pub struct SecretKey(ed25519_dalek::SigningKey);

/// An Ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature([u8; 64]);

/// Why a key or a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    /// The bytes are not a public key.
    #[error("not an Ed25519 public key")]
    BadPublicKey,
    /// The bytes are not 64 long.
    #[error("a signature is 64 bytes")]
    BadSignatureLength,
    /// The signature does not verify for this key, kind and bytes.
    #[error("the signature does not match")]
    BadSignature,
}

impl PublicKey {
    /// The key in `bytes`, if it is a valid point.
    pub fn from_bytes(bytes: &[u8]) -> Result<PublicKey, KeyError> {
        let array: [u8; 32] = bytes.try_into().map_err(|_| KeyError::BadPublicKey)?;
        ed25519_dalek::VerifyingKey::from_bytes(&array).map_err(|_| KeyError::BadPublicKey)?;
        Ok(PublicKey(array))
    }

    /// The 32 bytes of the key.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Checks that `signature` was made by this key over `bytes` for a
    /// record of `kind`. Strict verification: no malleable signatures, no
    /// weak keys.
    pub fn verify(&self, kind: &str, bytes: &[u8], signature: &Signature) -> Result<(), KeyError> {
        let key = ed25519_dalek::VerifyingKey::from_bytes(&self.0).map_err(|_| KeyError::BadPublicKey)?;
        let signature = ed25519_dalek::Signature::from_bytes(&signature.0);
        key.verify_strict(&tagged(kind, bytes), &signature)
            .map_err(|_| KeyError::BadSignature)
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", crate::hash::hex(&self.0[..8]))
    }
}

impl SecretKey {
    /// The key whose 32-byte seed is `seed` (RFC 8032's "private key").
    pub fn from_seed(seed: &[u8; 32]) -> SecretKey {
        SecretKey(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    /// The seed, for the keystore to store. Wiped when dropped.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    /// Signs `bytes` as a record of `kind`.
    pub fn sign(&self, kind: &str, bytes: &[u8]) -> Signature {
        Signature(self.0.sign(&tagged(kind, bytes)).to_bytes())
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey(public: {:?}, secret: redacted)", self.public())
    }
}

impl Signature {
    /// The signature in `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Signature, KeyError> {
        bytes
            .try_into()
            .map(Signature)
            .map_err(|_| KeyError::BadSignatureLength)
    }

    /// The 64 bytes of the signature.
    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signature({}…)", crate::hash::hex(&self.0[..8]))
    }
}

/// The bytes a signature of a `kind` record over `bytes` covers.
pub fn tagged(kind: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(DOMAIN_PREFIX.len() + kind.len() + 1 + bytes.len());
    out.extend_from_slice(DOMAIN_PREFIX.as_bytes());
    out.extend_from_slice(kind.as_bytes());
    out.push(0);
    out.extend_from_slice(bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::hash::unhex;

    #[test]
    fn keys_follow_rfc_8032_test_1() {
        let seed: [u8; 32] = unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
            .try_into()
            .unwrap();
        let key = SecretKey::from_seed(&seed);
        assert_eq!(
            key.public().as_bytes().to_vec(),
            unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        );
    }

    #[test]
    fn secret_keys_never_print_their_secret() {
        let seed = [0xa7u8; 32];
        let key = SecretKey::from_seed(&seed);
        let printed = format!("{key:?} {key:#?}");
        // Neither as hex nor as the list of numbers `Debug` of bytes gives.
        assert!(!printed.contains(&crate::hash::hex(&seed)), "{printed}");
        assert!(!printed.contains("167, 167"), "{printed}");
        assert!(!printed.contains("167,\n"), "{printed}");
        assert!(printed.contains("redacted"), "{printed}");
    }

    #[test]
    fn the_domain_tag_comes_first_and_ends_with_a_zero_byte() {
        assert_eq!(tagged("card", b"xy"), b"tallymesh/v1/card\0xy".to_vec());
    }

    #[test]
    fn invalid_public_keys_are_refused() {
        assert_eq!(PublicKey::from_bytes(&[1u8; 31]), Err(KeyError::BadPublicKey));
        // y = 2 is not on the curve.
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        assert_eq!(PublicKey::from_bytes(&not_a_point), Err(KeyError::BadPublicKey));
    }

    proptest! {
        #[test]
        fn a_signature_verifies_only_for_its_kind_key_and_bytes(
            seed in any::<[u8; 32]>(),
            other_seed in any::<[u8; 32]>(),
            bytes in proptest::collection::vec(any::<u8>(), 0..100),
            flip in any::<prop::sample::Index>(),
        ) {
            let key = SecretKey::from_seed(&seed);
            let signature = key.sign("card", &bytes);
            prop_assert!(key.public().verify("card", &bytes, &signature).is_ok());
            prop_assert_eq!(key.public().verify("device", &bytes, &signature), Err(KeyError::BadSignature));
            if seed != other_seed {
                let other = SecretKey::from_seed(&other_seed).public();
                prop_assert_eq!(other.verify("card", &bytes, &signature), Err(KeyError::BadSignature));
            }
            if !bytes.is_empty() {
                let mut tampered = bytes.clone();
                let i = flip.index(tampered.len());
                tampered[i] ^= 0x01;
                prop_assert_eq!(key.public().verify("card", &tampered, &signature), Err(KeyError::BadSignature));
            }
        }
    }
}
