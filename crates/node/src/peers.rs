//! The peers this node is connected to, and whose devices they are.

use std::collections::HashMap;
use std::sync::PoisonError;

use serde::{Deserialize, Serialize};
use tallymesh_core::card::ContactCard;
use tallymesh_net::{Multiaddr, PeerId, ProtocolName, RequestError};

use crate::{Node, NodeError};

/// A connected peer, as `tallymesh peers` and the Network screen show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PeerInfo {
    /// The peer's libp2p id.
    pub peer_id: String,
    /// The remote address of each open connection.
    pub addresses: Vec<String>,
    /// The latest ping round trip, in milliseconds, once one completed.
    pub rtt_ms: Option<u32>,
    /// The contact whose device this is, when it is one.
    pub party_id: Option<String>,
    /// That contact's name.
    pub display_name: Option<String>,
    /// How often the peer broke one of our protocols' rules (oversized,
    /// malformed or wrong-version messages) since this node started.
    pub strikes: u32,
}

/// The party (id, name) of each device a contact's card certifies.
pub(crate) type DeviceParties = HashMap<PeerId, (String, String)>;

impl Node {
    /// Every connected peer, contacts' devices first, then by peer id.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, NodeError> {
        let connected = self.inner.net.peers().await?;
        let parties = self.device_parties().await?;
        let strikes = self
            .inner
            .strikes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut peers: Vec<PeerInfo> = connected
            .into_iter()
            .map(|peer| {
                let party = parties.get(&peer.peer);
                PeerInfo {
                    peer_id: peer.peer.to_string(),
                    addresses: peer.addresses.iter().map(ToString::to_string).collect(),
                    rtt_ms: peer.rtt.map(|rtt| u32::try_from(rtt.as_millis()).unwrap_or(u32::MAX)),
                    party_id: party.map(|(id, _)| id.clone()),
                    display_name: party.map(|(_, name)| name.clone()),
                    strikes: strikes.get(&peer.peer).copied().unwrap_or(0),
                }
            })
            .collect();
        peers.sort_by(|a, b| (a.party_id.is_none(), &a.peer_id).cmp(&(b.party_id.is_none(), &b.peer_id)));
        Ok(peers)
    }

    /// Counts one broken rule against `peer`: shown as a strike, and
    /// weighed in the trust score of the party the peer acts for.
    pub(crate) fn strike(&self, peer: PeerId, why: &str) {
        let count = {
            let mut strikes = self.inner.strikes.lock().unwrap_or_else(PoisonError::into_inner);
            let count = strikes.entry(peer).or_insert(0);
            *count = count.saturating_add(1);
            *count
        };
        tracing::info!(%peer, count, "a peer broke a protocol's rules: {why}");
        self.inner.trust.invalid(peer, why);
    }

    /// Asks the devices `card` certifies, in turn, at the addresses it lists,
    /// until one answers `request` on `protocol`. On failure: the last
    /// device's error, or `None` when the card certifies no device.
    pub(crate) async fn ask_devices(
        &self,
        card: &ContactCard,
        protocol: &ProtocolName,
        request: &[u8],
    ) -> Result<Vec<u8>, Option<RequestError>> {
        self.ask_devices_until(card, protocol, request, |_| true).await
    }

    /// Like [`Node::ask_devices`], but an answer for which `settles` is
    /// false (a device that says another device should take the request)
    /// moves on to the next device; the last such answer is returned when
    /// no device settles it.
    pub(crate) async fn ask_devices_until(
        &self,
        card: &ContactCard,
        protocol: &ProtocolName,
        request: &[u8],
        settles: impl Fn(&[u8]) -> bool,
    ) -> Result<Vec<u8>, Option<RequestError>> {
        let net = &self.inner.net;
        let mut unsettled = None;
        let addresses: Vec<Multiaddr> = card.addresses.iter().filter_map(|a| a.parse().ok()).collect();
        let mut last_failure = None;
        // In order of trust: the devices of one party share its score, so
        // the ones that failed us least come first.
        let devices = crate::directory::card_peers(card);
        for peer in self.trust().rank_peers(devices).await {
            for address in &addresses {
                // Addresses are the party's; a device that does not listen
                // on one simply fails to be dialled there.
                let _ = net.add_address(peer, address.clone()).await;
            }
            match net.request(peer, protocol, request.to_vec()).await {
                Ok(answer) if settles(&answer) => return Ok(answer),
                Ok(answer) => unsettled = Some(answer),
                Err(error) => {
                    tracing::info!(%peer, %protocol, "a device of the party did not answer: {error}");
                    if matches!(error, RequestError::Timeout) {
                        self.inner
                            .trust
                            .timeout(peer, &format!("a request on {protocol} timed out"));
                    }
                    last_failure = Some(error);
                }
            }
        }
        unsettled.ok_or(last_failure)
    }

    /// Which contact each known device belongs to, from the kept cards.
    pub(crate) async fn device_parties(&self) -> Result<DeviceParties, NodeError> {
        Ok(self.directory().await?.device_parties())
    }
}
