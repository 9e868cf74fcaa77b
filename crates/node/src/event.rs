//! The node's one stream of events.

use serde::{Deserialize, Serialize};

/// Something the node did or saw, for the UI and for scripts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum NodeEvent {
    /// The node listens on a new address.
    Listening {
        /// The address, as a multiaddr.
        address: String,
    },
    /// The node stopped listening on an address.
    ListenerClosed {
        /// The address, as a multiaddr.
        address: String,
    },
    /// A peer connected.
    PeerConnected {
        /// The peer's libp2p id.
        peer_id: String,
    },
    /// A peer's last connection closed.
    PeerDisconnected {
        /// The peer's libp2p id.
        peer_id: String,
    },
    /// The node's identity changed: a party was created or restored.
    IdentityChanged {
        /// The identity now.
        identity: crate::identity::IdentityState,
    },
    /// A contact was added, updated with a newer card, or removed.
    ContactsChanged {
        /// The contact's party id.
        party_id: String,
    },
    /// A contact came online, went offline, or its round trip changed.
    PresenceChanged {
        /// The contact's presence now.
        presence: crate::presence::ContactPresence,
    },
    /// An invite was made, withdrawn or redeemed.
    InvitesChanged,
    /// A device joined the party's cadre or was revoked (on the main
    /// device), or this device joined a party's cadre.
    CadreChanged,
    /// AutoNAT found anew whether peers on the internet can dial this node.
    ReachabilityChanged {
        /// The reachability now.
        reachability: crate::Reachability,
    },
    /// A `tallymesh:` link was handed to the node to act on (see
    /// [`crate::links`]); the window offers what it means.
    LinkOpened {
        /// The link.
        link: String,
    },
    /// A block of a tally's ledger became final on this node.
    BlockCertified {
        /// The tally id, in hex.
        tally_id: String,
        /// The block's height.
        height: u64,
        /// The block's hash, in hex.
        hash: String,
    },
    /// An entry (a chit, a network change) became final on a tally's ledger.
    EntryCertified {
        /// The tally id, in hex.
        tally_id: String,
        /// The entry's id (SHA-256 of its signed bytes), in hex.
        entry_id: String,
        /// The height of the block that holds it.
        height: u64,
    },
    /// An entry submitted on this node was refused and will not be offered
    /// again.
    EntryRefused {
        /// The tally id, in hex.
        tally_id: String,
        /// The entry's id, in hex.
        entry_id: String,
        /// Why, in words a user can act on.
        reason: String,
    },
    /// Something changed on one of the party's tallies.
    TallyChanged {
        /// The tally id (a UUID).
        tally: String,
        /// What changed.
        change: crate::tallies::TallyChange,
    },
    /// A chat message was kept (sent, received, or noted by the node) or
    /// its status changed (held, delivered, read, paid).
    ChatMessage {
        /// The message now.
        message: crate::chat::MessageView,
    },
    /// Another party started or stopped typing in a conversation. Never
    /// stored.
    ChatTyping {
        /// The conversation's id.
        conversation: String,
        /// Who.
        party_id: String,
        /// Typing now.
        typing: bool,
    },
    /// A conversation was made, or its unread count or members changed.
    ChatConversationsChanged,
    /// A party's (or a device's) trust score, or the attestations about
    /// it, changed.
    TrustChanged {
        /// The party id, or the peer id of a device no known party answers for.
        subject: String,
    },
    /// Verified evidence of misbehaviour was kept (found here or received).
    EvidenceKept {
        /// The offence's id, in hex.
        offence: String,
        /// The party it names, when it binds one.
        party_id: Option<String>,
        /// What happened, in words.
        summary: String,
    },
    /// The node is stopping.
    ShuttingDown,
}

impl NodeEvent {
    /// The node event a network event is, if it is one the node passes on
    /// as it is. Requests, gossip and the like are the node's own business.
    pub(crate) fn from_net(event: &tallymesh_net::NetEvent) -> Option<NodeEvent> {
        use tallymesh_net::NetEvent as N;
        Some(match event {
            N::Listening(address) => NodeEvent::Listening {
                address: address.to_string(),
            },
            N::ListenerClosed(address) => NodeEvent::ListenerClosed {
                address: address.to_string(),
            },
            N::PeerConnected(peer) => NodeEvent::PeerConnected {
                peer_id: peer.to_string(),
            },
            N::PeerDisconnected(peer) => NodeEvent::PeerDisconnected {
                peer_id: peer.to_string(),
            },
            N::DialFailed { .. }
            | N::PeerDiscovered { .. }
            | N::PingRtt { .. }
            | N::Request { .. }
            | N::Gossip { .. }
            | N::Misbehaved { .. }
            // Kept by the node, which tells of changes itself.
            | N::Reachability(_)
            // The cadre's relay is the node's business (`cadre_relay`).
            | N::RelayReservation { .. }
            | N::RelayReservationLost { .. }
            | N::RelayOffered { .. } => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_with_a_kind_tag_in_camel_case() {
        let json = serde_json::to_value(NodeEvent::PeerConnected { peer_id: "12D3".into() }).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "peerConnected", "peerId": "12D3"}));
        let json = serde_json::to_value(NodeEvent::ShuttingDown).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "shuttingDown"}));
        let json = serde_json::to_value(NodeEvent::IdentityChanged {
            identity: crate::identity::IdentityState::None,
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "identityChanged", "identity": {"state": "none"}})
        );
    }
}
