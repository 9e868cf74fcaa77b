//! Evidence found here: a node of a tally network that signed twice, and
//! a device that sealed a chat item under a certificate its party never
//! signed.

use tallymesh_core::PublicKey;
use tallymesh_core::card::ContactCard;
use tallymesh_core::tally::OpenTally;
use tallymesh_core::tally_network::TallyId;
use tallymesh_core::trust::{Binding, Evidence, EvidenceError, EvidenceKind};
use tallymesh_store::Store;

use super::Trust;
use super::records::Taken;

impl Trust {
    /// The ledger of `tally` saw `node` sign `first` and `second` for one
    /// step (or one round's proposal): makes the evidence, binding the node
    /// to its party where the node can (the tally both parties signed, or
    /// a contact's device certificate), keeps it, and passes it on.
    pub(crate) async fn double_signed(&self, tally: TallyId, node: PublicKey, first: Vec<u8>, second: Vec<u8>) {
        let binding = match self.node.running_store().await {
            Ok(store) => binding_for(&store, tally, &node).await,
            Err(_) => None,
        };
        let evidence = Evidence::new(EvidenceKind::DoubleSigned, first, second, binding);
        match self.take_evidence(evidence.bytes(), None).await {
            Ok(Taken::New) => self.share_evidence(evidence.bytes().to_vec()),
            Ok(_) => {}
            Err(error) => tracing::warn!("a double signature the ledger reported does not make evidence: {error}"),
        }
    }

    /// Chat refused an item whose certificate does not verify for the
    /// party it names: `seal` is the item's seal (signed by the sending
    /// device) and `certificate` the certificate it was sent under. When
    /// that certificate is not signed by its party, makes the evidence,
    /// binding the device to its party by a contact's genuine certificate
    /// of it when there is one, keeps it, and passes it on. A certificate
    /// that is its party's but expired proves nothing and leaves none.
    pub(crate) async fn forged_certificate(&self, seal: Vec<u8>, certificate: Vec<u8>) {
        let bare = Evidence::new(EvidenceKind::ForgedCertificate, seal.clone(), certificate.clone(), None);
        let finding = match bare.verify() {
            Ok(finding) => finding,
            Err(error @ EvidenceError::ProvesNothing(_)) => {
                tracing::debug!("a refused chat certificate is no evidence: {error}");
                return;
            }
            Err(error) => {
                tracing::warn!("a refused chat certificate does not make evidence: {error}");
                return;
            }
        };
        let binding = match self.node.running_store().await {
            Ok(store) => device_binding(&store, &finding.node).await,
            Err(_) => None,
        };
        let evidence = match binding {
            Some(binding) => Evidence::new(EvidenceKind::ForgedCertificate, seal, certificate, Some(binding)),
            None => bare,
        };
        match self.take_evidence(evidence.bytes(), None).await {
            Ok(Taken::New) => self.share_evidence(evidence.bytes().to_vec()),
            Ok(_) => {}
            Err(error) => tracing::warn!("a forged chat certificate does not make evidence: {error}"),
        }
    }
}

/// What ties `node` to a party: the open tally of `tally` when this node's
/// party holds it and it names the node, else a device certificate of a
/// contact's card that names it.
async fn binding_for(store: &Store, tally: TallyId, node: &PublicKey) -> Option<Binding> {
    if let Ok(Some(row)) = store.tally(&tally.0).await
        && let Ok(open) = OpenTally::from_bytes(&row.current)
    {
        let agreed = open.tally();
        if agreed.stock.nodes.contains(node) || agreed.foil.nodes.contains(node) {
            return Some(Binding::Tally(open.bytes().to_vec()));
        }
    }
    device_binding(store, node).await
}

/// A device certificate of a contact's card that names `node` and is
/// signed by its party.
async fn device_binding(store: &Store, node: &PublicKey) -> Option<Binding> {
    let contacts = store.contacts().await.ok()?;
    contacts.iter().find_map(|row| {
        let card = ContactCard::from_signed_bytes(&row.card).ok()?;
        card.record()
            .devices
            .iter()
            .find(|device| device.record().names_node(node) && device.signer() == device.record().party.key())
            .map(|device| Binding::Device(device.bytes().to_vec()))
    })
}

#[cfg(test)]
mod tests {
    use tallymesh_core::SecretKey;
    use tallymesh_core::device::peer_id_bytes;

    #[test]
    fn the_peer_id_core_derives_from_a_node_key_is_the_one_libp2p_derives() {
        for seed in [[1u8; 32], [7; 32], [200; 32]] {
            let key = SecretKey::from_seed(&seed).public();
            let peer = tallymesh_net::peer_id_of_ed25519(key.as_bytes()).unwrap();
            assert_eq!(peer.to_bytes(), peer_id_bytes(&key));
        }
    }
}
