//! `tallymesh:` links handed to the node from outside: the operating system
//! opening a link with the desktop app, or `tallymesh open LINK`.
//!
//! The node does not act on a link by itself: acting needs the person's
//! consent ("Add Alice as a contact?"). It checks that the text is one of
//! our links and announces it as [`NodeEvent::LinkOpened`] for the window
//! to offer. A second copy of the app started by the operating system for
//! a link passes it to the running one this way, through the control
//! endpoint.

use thiserror::Error;

use crate::{Node, NodeEvent};

/// The scheme of every link the app handles.
pub const LINK_SCHEME: &str = "tallymesh:";

/// The longest link accepted: far above a card with sixteen devices and an
/// invite, far below anything that could hurt.
pub const MAX_LINK_BYTES: usize = 16 * 1024;

/// Why a link was not passed on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LinkError {
    /// The text does not start with `tallymesh:`.
    #[error("This is not a Tallymesh link.")]
    NotALink,
    /// Longer than [`MAX_LINK_BYTES`].
    #[error("This link is too long to be a Tallymesh link.")]
    TooLong,
}

/// Whether `text` is a `tallymesh:` link this node would pass on; returns
/// it without surrounding blanks.
pub fn check_link(text: &str) -> Result<&str, LinkError> {
    let link = text.trim();
    if link.len() > MAX_LINK_BYTES {
        return Err(LinkError::TooLong);
    }
    let scheme = link.get(..LINK_SCHEME.len()).ok_or(LinkError::NotALink)?;
    if !scheme.eq_ignore_ascii_case(LINK_SCHEME) {
        return Err(LinkError::NotALink);
    }
    Ok(link)
}

impl Node {
    /// Announces a `tallymesh:` link as [`NodeEvent::LinkOpened`] (see the
    /// module docs).
    pub fn open_link(&self, text: &str) -> Result<(), LinkError> {
        let link = check_link(text)?;
        tracing::info!(bytes = link.len(), "a link was opened");
        // No subscriber is not an error: the window reads the event when it
        // listens, and a headless node has nobody to ask.
        let _ = self.inner.events.send(NodeEvent::LinkOpened { link: link.to_owned() });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tallymesh_links_pass() {
        assert_eq!(
            check_link("  tallymesh:card?v=1&d=abc \n"),
            Ok("tallymesh:card?v=1&d=abc")
        );
        assert_eq!(check_link("TALLYMESH:card"), Ok("TALLYMESH:card"));
        assert_eq!(check_link("https://example.org"), Err(LinkError::NotALink));
        assert_eq!(check_link("tally"), Err(LinkError::NotALink));
        assert_eq!(check_link("é"), Err(LinkError::NotALink));
        let long = format!("tallymesh:{}", "a".repeat(MAX_LINK_BYTES));
        assert_eq!(check_link(&long), Err(LinkError::TooLong));
    }
}
