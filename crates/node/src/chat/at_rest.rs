//! Events waiting in the outbox to be sealed for their device — a message,
//! a receipt, a group's room key waiting for an Olm session — are kept
//! encrypted: XChaCha20-Poly1305 under a key derived from the chat pickle
//! key (which the keystore keeps), with the device's peer id (its bytes) as
//! associated data. So the database never holds a room key in clear, and an item
//! moved into another device's queue does not open.
//!
//! ```text
//! 0   1   format (1)
//! 1   24  nonce
//! 25  …   ciphertext ‖ 16-byte Poly1305 tag
//! ```
//!
//! An item that does not open (the pickle key was lost and chat started
//! anew, or its bytes changed) is given up by the delivery.

use chacha20poly1305::{AeadInOut, KeyInit, XChaCha20Poly1305, XNonce};
use tallymesh_net::PeerId;
use zeroize::{Zeroize, Zeroizing};

/// The format byte of an item encrypted at rest.
const FORMAT: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// What the pickle key is hashed with to make this key, so no other use
/// of the pickle key shares it.
const LABEL: &[u8] = b"tallymesh chat outbox at rest v1";

/// The key of the outbox's waiting events.
pub(crate) struct OutboxKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for OutboxKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OutboxKey(..)")
    }
}

impl OutboxKey {
    /// The key derived from the chat pickle key.
    pub(crate) fn derive(pickle_key: &[u8; 32]) -> OutboxKey {
        let mut input = Zeroizing::new(Vec::with_capacity(LABEL.len() + pickle_key.len()));
        input.extend_from_slice(LABEL);
        input.extend_from_slice(pickle_key);
        let mut digest = tallymesh_core::hash::Digest::of(&input).0;
        let key = OutboxKey(Zeroizing::new(digest));
        digest.zeroize();
        key
    }

    fn cipher(&self) -> Option<XChaCha20Poly1305> {
        XChaCha20Poly1305::new_from_slice(self.0.as_slice()).ok()
    }

    /// `plaintext`, encrypted for the outbox queue of `device`. `None` only
    /// when the system's random source fails.
    pub(crate) fn wrap(&self, device: &PeerId, plaintext: &[u8]) -> Option<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).ok()?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + TAG_LEN);
        out.push(FORMAT);
        out.extend_from_slice(&nonce);
        let mut buffer = Zeroizing::new(Vec::with_capacity(plaintext.len() + TAG_LEN));
        buffer.extend_from_slice(plaintext);
        self.cipher()?
            .encrypt_in_place(&XNonce::from(nonce), &device.to_bytes(), &mut *buffer)
            .ok()?;
        out.extend_from_slice(&buffer);
        Some(out)
    }

    /// The plaintext of an item waiting for `device`; `None` when it does
    /// not open. An item kept by an earlier version, before events waited
    /// encrypted, is a plain event (a CBOR map) and is taken as it is.
    pub(crate) fn unwrap(&self, device: &PeerId, stored: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        match stored.first() {
            Some(&FORMAT) if stored.len() >= 1 + NONCE_LEN + TAG_LEN => {
                let (nonce, ciphertext) = stored[1..].split_at(NONCE_LEN);
                let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
                let mut buffer = Zeroizing::new(ciphertext.to_vec());
                self.cipher()?
                    .decrypt_in_place(&XNonce::from(nonce), &device.to_bytes(), &mut *buffer)
                    .ok()?;
                Some(buffer)
            }
            Some(0xa0..=0xbf) => Some(Zeroizing::new(stored.to_vec())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiting_event_opens_again_for_its_device_and_holds_no_plaintext() {
        let (key, device) = (OutboxKey::derive(&[7; 32]), PeerId::random());
        let event = b"\xa2\x00\x01\x01room key of the group Friends";
        let stored = key.wrap(&device, event).unwrap();
        assert_eq!(stored[0], FORMAT);
        assert!(!stored.windows(7).any(|w| w == b"Friends"), "no plaintext at rest");
        assert_eq!(key.unwrap(&device, &stored).unwrap().as_slice(), event);
        assert_ne!(key.wrap(&device, event).unwrap(), stored, "a fresh nonce each time");
    }

    #[test]
    fn an_item_does_not_open_for_another_device_under_another_key_or_changed() {
        let (key, device) = (OutboxKey::derive(&[7; 32]), PeerId::random());
        let stored = key.wrap(&device, b"\xa1\x00\x01").unwrap();
        assert!(key.unwrap(&PeerId::random(), &stored).is_none());
        assert!(OutboxKey::derive(&[8; 32]).unwrap(&device, &stored).is_none());
        for at in 0..stored.len() {
            let mut changed = stored.clone();
            changed[at] ^= 0x01;
            assert!(key.unwrap(&device, &changed).is_none(), "byte {at} changed");
        }
        for len in 0..stored.len() {
            assert!(key.unwrap(&device, &stored[..len]).is_none(), "cut to {len} bytes");
        }
    }

    #[test]
    fn an_event_kept_in_clear_by_an_earlier_version_is_taken_as_it_is() {
        let (key, device) = (OutboxKey::derive(&[7; 32]), PeerId::random());
        assert_eq!(
            key.unwrap(&device, b"\xa1\x00\x01").unwrap().as_slice(),
            b"\xa1\x00\x01"
        );
        assert!(
            key.unwrap(&device, b"\x82\x00\x01").is_none(),
            "only a CBOR map is an event"
        );
        assert!(key.unwrap(&device, b"").is_none());
    }
}
