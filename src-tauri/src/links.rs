//! `tallymesh:` links the app is opened with.
//!
//! The operating system opens a link by starting the app with the link as
//! an argument (Linux, Windows) or by handing it to the running app
//! (macOS, through the deep-link plugin). Three cases:
//! - no app runs for the data directory: the links wait in
//!   [`PendingLinks`] until the window takes them (`links_take`);
//! - an app (or headless node) already runs for it: the new process passes
//!   the links to it through the node's control endpoint and exits, and
//!   the running window hears of them as `linkOpened` node events;
//! - the app runs and receives a link: the node announces it the same way.

use std::ffi::OsString;
use std::path::Path;
use std::sync::Mutex;

use tallymesh_node::control::ControlClient;
use tallymesh_node::links::check_link;

/// Links that arrived before the window could hear of them.
#[derive(Debug, Default)]
pub(crate) struct PendingLinks(Mutex<Vec<String>>);

impl PendingLinks {
    /// Links waiting from the start.
    pub(crate) fn new(links: Vec<String>) -> PendingLinks {
        PendingLinks(Mutex::new(links))
    }

    /// Every waiting link, oldest first; each is handed out once.
    pub(crate) fn take(&self) -> Vec<String> {
        match self.0.lock() {
            Ok(mut links) => std::mem::take(&mut *links),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        }
    }

    /// Keeps `link` for the window.
    pub(crate) fn push(&self, link: String) {
        match self.0.lock() {
            Ok(mut links) => links.push(link),
            Err(poisoned) => poisoned.into_inner().push(link),
        }
    }
}

/// The `tallymesh:` links among the program's arguments (without the
/// program name).
pub(crate) fn links_in_args(args: impl IntoIterator<Item = OsString>) -> Vec<String> {
    args.into_iter()
        .filter_map(|arg| arg.into_string().ok())
        .filter_map(|arg| check_link(&arg).ok().map(str::to_owned))
        .collect()
}

/// Passes `links` to the node already running in `data_dir`, if there is
/// one. Returns whether it did; `false` means this process should open the
/// window itself.
pub(crate) async fn pass_to_running(data_dir: &Path, links: &[String]) -> bool {
    if links.is_empty() {
        return false;
    }
    let Ok(mut client) = ControlClient::connect(data_dir).await else {
        return false;
    };
    for link in links {
        if let Err(error) = client.open_link(link).await {
            tracing::warn!("the running node refused a link: {error}");
        }
    }
    tracing::info!(links = links.len(), "passed links to the running node");
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tallymesh_links_are_taken_from_the_arguments() {
        let args = [
            "--data-dir",
            "/tmp/x",
            "tallymesh:card?v=1&d=abc",
            "https://example.org",
        ]
        .map(OsString::from);
        assert_eq!(links_in_args(args), ["tallymesh:card?v=1&d=abc"]);
    }

    #[test]
    fn pending_links_are_handed_out_once_in_order() {
        let pending = PendingLinks::new(vec!["tallymesh:a".into()]);
        pending.push("tallymesh:b".into());
        assert_eq!(pending.take(), ["tallymesh:a", "tallymesh:b"]);
        assert!(pending.take().is_empty());
    }

    #[tokio::test]
    async fn with_no_node_running_links_stay_with_this_process() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!pass_to_running(dir.path(), &["tallymesh:a".into()]).await);
    }
}
