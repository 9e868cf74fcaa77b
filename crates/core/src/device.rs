//! Device certificates: a party vouching that a device acts for it.

use crate::cbor::Value;
use crate::record::{Fields, Record, RecordError, Signed};
use crate::{PartyId, PublicKey, Timestamp};

/// The longest device name, in characters.
pub const MAX_DEVICE_NAME: usize = 64;

/// A party's statement that the device with this libp2p peer id (and,
/// once chat exists, this chat identity key) belongs to it. Signed by the
/// party key; see [`DeviceCertificate::verify`].
///
/// Fields (CBOR map): 0 version (1), 1 party key, 2 peer id bytes,
/// 3 device name, 4 issued at (ms), 5 chat identity key (optional),
/// 6 expires at (ms, optional). Version 1 readers ignore keys they do not
/// know, so later versions may add fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCertificate {
    /// The party the device acts for.
    pub party: PartyId,
    /// The device's libp2p peer id, as its multihash bytes.
    pub peer_id: Vec<u8>,
    /// A name the user gave the device ("Laptop", "Home server").
    pub name: String,
    /// When the party signed it.
    pub issued_at: Timestamp,
    /// The device's chat identity key (Curve25519), when it has one.
    pub chat_identity_key: Option<[u8; 32]>,
    /// When it stops being valid, if ever.
    pub expires_at: Option<Timestamp>,
}

impl Record for DeviceCertificate {
    const KIND: &'static str = "device";

    fn to_value(&self) -> Value {
        let mut entries = vec![
            (Value::Uint(0), Value::Uint(1)),
            (Value::Uint(1), Value::Bytes(self.party.key().as_bytes().to_vec())),
            (Value::Uint(2), Value::Bytes(self.peer_id.clone())),
            (Value::Uint(3), Value::Text(self.name.clone())),
            (Value::Uint(4), Value::Uint(self.issued_at.as_millis())),
        ];
        if let Some(key) = &self.chat_identity_key {
            entries.push((Value::Uint(5), Value::Bytes(key.to_vec())));
        }
        if let Some(expiry) = self.expires_at {
            entries.push((Value::Uint(6), Value::Uint(expiry.as_millis())));
        }
        Value::map_of(entries)
    }

    fn from_value(value: &Value) -> Result<Self, RecordError> {
        let f = Fields::named("device certificate", value)?;
        f.version(&[1])?;
        let peer_id = f.bytes(2)?.to_vec();
        if peer_id.is_empty() || peer_id.len() > 64 {
            return Err(RecordError::Invalid("a device certificate needs a peer id".into()));
        }
        let name = f.text(3)?.to_owned();
        if name.trim().is_empty() || name.chars().count() > MAX_DEVICE_NAME {
            return Err(RecordError::Invalid(format!(
                "a device name has 1 to {MAX_DEVICE_NAME} characters"
            )));
        }
        let chat_identity_key = match f.opt_bytes(5)? {
            Some(bytes) => Some(
                bytes
                    .try_into()
                    .map_err(|_| RecordError::Invalid("a chat identity key is 32 bytes".into()))?,
            ),
            None => None,
        };
        Ok(DeviceCertificate {
            party: PartyId::new(f.key(1)?),
            peer_id,
            name,
            issued_at: Timestamp::from_millis(f.uint(4)?),
            chat_identity_key,
            expires_at: f.opt_uint(6)?.map(Timestamp::from_millis),
        })
    }
}

impl DeviceCertificate {
    /// Checks a received certificate: signed by the party it names, for
    /// `party` if given, and not expired at `now`.
    pub fn verify(
        signed: &Signed<DeviceCertificate>,
        party: Option<&PartyId>,
        now: Timestamp,
    ) -> Result<(), RecordError> {
        let cert = signed.record();
        if signed.signer() != cert.party.key() {
            return Err(RecordError::Invalid(
                "the device certificate is not signed by the party it names".into(),
            ));
        }
        if party.is_some_and(|p| p != &cert.party) {
            return Err(RecordError::Invalid(
                "the device certificate belongs to another party".into(),
            ));
        }
        if cert.expires_at.is_some_and(|e| e <= now) {
            return Err(RecordError::Invalid(format!(
                "the certificate of device \"{}\" has expired",
                cert.name
            )));
        }
        Ok(())
    }

    /// The party key of the certificate, as a [`PublicKey`].
    pub fn party_key(&self) -> &PublicKey {
        self.party.key()
    }

    /// Whether the certificate names the device whose node key is `key`.
    pub fn names_node(&self, key: &PublicKey) -> bool {
        self.peer_id == peer_id_bytes(key)
    }
}

/// The libp2p peer id, as multihash bytes, of the device whose Ed25519
/// node key is `key`: the identity multihash (code `0x00`, length 36) of
/// the key's protobuf encoding (`0x08 0x01` Ed25519, `0x12 0x20` then the
/// 32 key bytes). A device's node key is its libp2p identity, so this is
/// the peer id its certificate names.
pub fn peer_id_bytes(key: &PublicKey) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(38);
    bytes.extend_from_slice(&[0x00, 0x24, 0x08, 0x01, 0x12, 0x20]);
    bytes.extend_from_slice(key.as_bytes());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;

    fn cert(party: &SecretKey) -> DeviceCertificate {
        DeviceCertificate {
            party: PartyId::new(party.public()),
            peer_id: vec![0, 36, 8, 1, 18, 32, 1, 2, 3],
            name: "Laptop".into(),
            issued_at: Timestamp::from_millis(1_000),
            chat_identity_key: Some([9; 32]),
            expires_at: None,
        }
    }

    #[test]
    fn a_certificate_signed_by_its_party_verifies() {
        let alice = SecretKey::from_seed(&[1; 32]);
        let signed = Signed::sign(cert(&alice), &alice);
        let received = Signed::<DeviceCertificate>::from_bytes(signed.bytes()).unwrap();
        assert_eq!(received.record(), &cert(&alice));
        let party = PartyId::new(alice.public());
        assert!(DeviceCertificate::verify(&received, Some(&party), Timestamp::from_millis(2_000)).is_ok());
    }

    #[test]
    fn a_certificate_signed_by_someone_else_is_refused() {
        let alice = SecretKey::from_seed(&[1; 32]);
        let mallory = SecretKey::from_seed(&[2; 32]);
        let forged = Signed::sign(cert(&alice), &mallory);
        let err = DeviceCertificate::verify(&forged, None, Timestamp::EPOCH).unwrap_err();
        assert!(err.to_string().contains("not signed by the party"), "{err}");
    }

    #[test]
    fn a_certificate_for_another_party_or_expired_is_refused() {
        let alice = SecretKey::from_seed(&[1; 32]);
        let bob = PartyId::new(SecretKey::from_seed(&[2; 32]).public());
        let mut expiring = cert(&alice);
        expiring.expires_at = Some(Timestamp::from_millis(5_000));
        let signed = Signed::sign(expiring, &alice);
        assert!(DeviceCertificate::verify(&signed, Some(&bob), Timestamp::EPOCH).is_err());
        assert!(DeviceCertificate::verify(&signed, None, Timestamp::from_millis(4_999)).is_ok());
        assert!(DeviceCertificate::verify(&signed, None, Timestamp::from_millis(5_000)).is_err());
    }

    #[test]
    fn unknown_fields_from_a_later_version_are_ignored() {
        let alice = SecretKey::from_seed(&[1; 32]);
        let Value::Map(mut entries) = cert(&alice).to_value() else {
            unreachable!()
        };
        entries.push((Value::Uint(40), Value::Text("from the future".into())));
        let decoded = DeviceCertificate::from_value(&Value::map_of(entries)).unwrap();
        assert_eq!(decoded, cert(&alice));
    }

    #[test]
    fn an_unsupported_version_is_refused_clearly() {
        let alice = SecretKey::from_seed(&[1; 32]);
        let Value::Map(mut entries) = cert(&alice).to_value() else {
            unreachable!()
        };
        entries[0].1 = Value::Uint(2);
        let err = DeviceCertificate::from_value(&Value::Map(entries)).unwrap_err();
        assert!(err.to_string().contains("version 2 is not supported"), "{err}");
    }
}
