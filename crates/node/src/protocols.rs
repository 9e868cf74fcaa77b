//! The request-response protocols this node speaks, by their wire names.

use tallymesh_net::{NetError, ProtocolName, RequestProtocol};

use crate::contacts::handshake;

/// The node's protocols, named once at start.
#[derive(Debug, Clone)]
pub(crate) struct Protocols {
    /// `/tallymesh/contact/1`: redeeming invites, exchanging cards.
    pub(crate) contact: ProtocolName,
    /// `/tallymesh/cadre/1`: enrolling devices in the party's cadre.
    pub(crate) cadre: ProtocolName,
    /// `/tallymesh/tally/1`: negotiating tallies.
    pub(crate) tally: ProtocolName,
    /// `/tallymesh/ledger/1`: ledger consensus between the nodes of a
    /// tally network.
    pub(crate) ledger: ProtocolName,
    /// `/tallymesh/chat/1`: encrypted chat items, mailboxes and keys.
    pub(crate) chat: ProtocolName,
    /// `/tallymesh/trust/1`: contacts exchanging attestations and evidence.
    pub(crate) trust: ProtocolName,
}

impl Protocols {
    /// Names every protocol.
    pub(crate) fn new() -> Result<Protocols, NetError> {
        let name = |name: &str| ProtocolName::new(name).map_err(|e| NetError::InvalidConfig(e.to_string()));
        Ok(Protocols {
            contact: name("contact")?,
            cadre: name("cadre")?,
            tally: name("tally")?,
            ledger: name("ledger")?,
            chat: name("chat")?,
            trust: name("trust")?,
        })
    }

    /// The protocols with their limits, for the swarm's configuration.
    pub(crate) fn request_protocols(&self) -> Vec<RequestProtocol> {
        vec![
            handshake::request_protocol(self.contact.clone()),
            crate::cadre::request_protocol(self.cadre.clone()),
            crate::tallies::wire::request_protocol(self.tally.clone()),
            crate::ledger::wire::request_protocol(self.ledger.clone()),
            crate::chat::request_protocol(self.chat.clone()),
            crate::trust::request_protocol(self.trust.clone()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contact_protocol_has_its_documented_name() {
        let protocols = Protocols::new().unwrap();
        assert_eq!(
            protocols.contact.as_str(),
            tallymesh_protocol::contact::CONTACT_PROTOCOL
        );
        assert_eq!(protocols.cadre.as_str(), tallymesh_protocol::cadre::CADRE_PROTOCOL);
        assert_eq!(
            protocols.tally.as_str(),
            tallymesh_protocol::negotiation::TALLY_PROTOCOL
        );
        assert_eq!(protocols.ledger.as_str(), "/tallymesh/ledger/1");
        assert_eq!(protocols.chat.as_str(), tallymesh_protocol::chat::CHAT_PROTOCOL);
        assert_eq!(protocols.trust.as_str(), crate::trust::TRUST_PROTOCOL);
    }
}
