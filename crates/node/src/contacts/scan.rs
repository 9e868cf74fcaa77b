//! Adding a contact by showing their card's QR code to the camera.
//!
//! [`Contacts::scan_card`] opens the first webcam on a blocking thread and
//! reads frames until one shows a card this node would add. While it runs
//! it reports [`ScanUpdate`]s to a callback: small preview pictures to aim
//! with (about five a second), cards it had to refuse, and finally the card
//! found or why it stopped. [`CardScan::stop`] ends it early; dropping the
//! scan ends it too, which releases the camera.
//!
//! ```no_run
//! # async fn example(node: tallymesh_node::Node) {
//! use tallymesh_node::contacts::ScanUpdate;
//!
//! let scan = node.contacts().scan_card(|update| match update {
//!     ScanUpdate::Preview { image, .. } => { /* show `image` (a data: URL) */ }
//!     ScanUpdate::Found { card } => println!("found {}", card.display_name),
//!     ScanUpdate::Failed { message, .. } => println!("{message}"),
//!     _ => {}
//! });
//! scan.finished().await;
//! # }
//! ```

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tallymesh_core::PartyId;
use tallymesh_offline::camera::{CameraChoice, CameraError, CameraSettings, FrameSource, Webcam};
use tallymesh_offline::preview::{PreviewPacer, PreviewSettings, preview};
use tallymesh_offline::scan::{QrScanner, ScanCancel, ScanError};
use tokio::task::JoinHandle;

use super::{CardPreview, ContactError, Contacts, card_from_payload, check_addable, now};

/// How often a preview picture goes to the window.
const PREVIEW_EVERY: Duration = Duration::from_millis(200);

/// How long a scan looks for a card before it gives up.
const SCAN_TIME_LIMIT: Duration = Duration::from_secs(120);

/// What a camera scan reports while it runs. The last update of every scan
/// is `Found`, `Failed` or `Stopped`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum ScanUpdate {
    /// The camera is open; pictures follow.
    Started {
        /// The camera's name.
        camera: String,
    },
    /// What the camera sees, small, to aim the code at it.
    Preview {
        /// A JPEG picture as a `data:` URL.
        image: String,
        /// Its width in pixels.
        width: u32,
        /// Its height in pixels.
        height: u32,
    },
    /// A QR code was read that is a Tallymesh card this node will not add
    /// (altered, the party's own, an expired invite). Scanning goes on.
    Refused {
        /// Why, for the person holding the card.
        message: String,
    },
    /// A card was read and verified; it has not been added yet.
    Found {
        /// What the card says.
        card: CardPreview,
    },
    /// The scan ended without a card.
    Failed {
        /// What kind of failure, so the window can offer the other ways.
        reason: ScanFailure,
        /// What happened and what to do, for people.
        message: String,
    },
    /// The scan was stopped before it found a card.
    Stopped,
}

/// Why a scan failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum ScanFailure {
    /// This computer has no camera.
    NoCamera,
    /// The camera could not be used, or stopped working.
    Camera,
    /// No card was seen in the time a scan lasts.
    TimedOut,
    /// The node could not check the card (it is stopping, or has no
    /// identity).
    Node,
}

/// A running camera scan. Dropping it stops the scan.
#[derive(Debug)]
pub struct CardScan {
    cancel: ScanCancel,
    task: Option<JoinHandle<()>>,
}

impl CardScan {
    /// Stops the scan before its next frame; it reports `Stopped`.
    pub fn stop(&self) {
        self.cancel.cancel();
    }

    /// Whether the scan has ended (found, failed or stopped).
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Waits until the scan has ended and sent its last update.
    pub async fn finished(mut self) {
        if let Some(task) = self.task.take()
            && let Err(error) = task.await
        {
            tracing::warn!("the camera scan ended abnormally: {error}");
        }
    }
}

impl Drop for CardScan {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

type Sink = Arc<dyn Fn(ScanUpdate) + Send + Sync>;

impl Contacts {
    /// Scans for a contact card with the first webcam; see the module docs.
    pub fn scan_card(&self, on_update: impl Fn(ScanUpdate) + Send + Sync + 'static) -> CardScan {
        self.scan_card_from(
            || {
                let webcam = Webcam::open(CameraChoice::First, CameraSettings::default())?;
                let name = webcam.info().name.clone();
                Ok((Box::new(webcam) as Box<dyn FrameSource>, name))
            },
            on_update,
        )
    }

    /// Scans for a contact card in the frames of the source `open` returns
    /// (with a name for it), called on the scan's blocking thread. This is
    /// how tests and demos show the scanner pictures without a webcam.
    pub fn scan_card_from<O>(&self, open: O, on_update: impl Fn(ScanUpdate) + Send + Sync + 'static) -> CardScan
    where
        O: FnOnce() -> Result<(Box<dyn FrameSource>, String), CameraError> + Send + 'static,
    {
        let cancel = ScanCancel::new();
        let sink: Sink = Arc::new(on_update);
        let contacts = self.clone();
        let task = tokio::spawn(run(contacts, open, cancel.clone(), sink));
        CardScan {
            cancel,
            task: Some(task),
        }
    }
}

async fn run<O>(contacts: Contacts, open: O, cancel: ScanCancel, sink: Sink)
where
    O: FnOnce() -> Result<(Box<dyn FrameSource>, String), CameraError> + Send + 'static,
{
    let own = match contacts.node.identity().state().await {
        Ok(state) => state.party_id(),
        Err(error) => {
            sink(failed(ScanFailure::Node, error.to_string()));
            return;
        }
    };
    let reader = {
        let (cancel, sink) = (cancel.clone(), sink.clone());
        tokio::task::spawn_blocking(move || read_card(open, own, &cancel, &sink))
    };
    let last = match reader.await {
        Ok(Ok(payload)) => match card_from_payload(&payload) {
            Ok(card) => match contacts.preview(&card).await {
                Ok(card) => ScanUpdate::Found { card },
                Err(error) => failed(ScanFailure::Node, error.to_string()),
            },
            // The scanner accepted only payloads that read as cards.
            Err(error) => failed(ScanFailure::Node, error.to_string()),
        },
        Ok(Err(ScanError::Cancelled)) => ScanUpdate::Stopped,
        Ok(Err(ScanError::Camera(CameraError::NoCamera))) => {
            failed(ScanFailure::NoCamera, CameraError::NoCamera.to_string())
        }
        Ok(Err(ScanError::Camera(error))) => failed(ScanFailure::Camera, error.to_string()),
        Ok(Err(error @ ScanError::TimeLimit(_))) => failed(ScanFailure::TimedOut, capitalised(&error.to_string())),
        Ok(Err(error @ (ScanError::FrameLimit(_) | ScanError::SourceEnded))) => {
            failed(ScanFailure::Camera, capitalised(&error.to_string()))
        }
        Err(error) => failed(ScanFailure::Camera, format!("The camera scan failed: {error}")),
    };
    tracing::info!(outcome = ?outcome_name(&last), "camera scan ended");
    sink(last);
}

/// Opens the source and reads frames until one shows a card that passes
/// [`check_addable`]. Runs on a blocking thread; the source is dropped
/// (the camera released) before it returns.
fn read_card<O>(open: O, own: Option<PartyId>, cancel: &ScanCancel, sink: &Sink) -> Result<Vec<u8>, ScanError>
where
    O: FnOnce() -> Result<(Box<dyn FrameSource>, String), CameraError>,
{
    if cancel.is_cancelled() {
        return Err(ScanError::Cancelled);
    }
    let (mut source, camera) = open()?;
    sink(ScanUpdate::Started { camera });
    // Each refused code is reported once, not on every frame that shows it.
    let refused: Mutex<HashSet<Vec<u8>>> = Mutex::new(HashSet::new());
    let accept_sink = sink.clone();
    let scanner = QrScanner::new().time_limit(SCAN_TIME_LIMIT).accept(move |payload| {
        let verdict = card_from_payload(payload).and_then(|card| check_addable(&card, own.as_ref(), now()));
        match verdict {
            Ok(()) => true,
            // Some other QR code: pass over it quietly.
            Err(ContactError::NotALink | ContactError::Damaged) => false,
            Err(error) => {
                let first_time = refused
                    .lock()
                    .map(|mut seen| seen.insert(payload.to_vec()))
                    .unwrap_or(false);
                if first_time {
                    accept_sink(ScanUpdate::Refused {
                        message: error.to_string(),
                    });
                }
                false
            }
        }
    });
    let mut pacer = PreviewPacer::new(PREVIEW_EVERY);
    scanner
        .scan(&mut source, cancel, |frame| {
            if pacer.due(frame)
                && let Ok(picture) = preview(frame, PreviewSettings::default())
            {
                sink(ScanUpdate::Preview {
                    image: picture.data_url(),
                    width: picture.width,
                    height: picture.height,
                });
            }
        })
        .map(|found| found.payload)
}

fn failed(reason: ScanFailure, message: String) -> ScanUpdate {
    ScanUpdate::Failed { reason, message }
}

/// The scanner's messages start in lower case, to fit inside others.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn outcome_name(update: &ScanUpdate) -> &'static str {
    match update {
        ScanUpdate::Found { .. } => "found",
        ScanUpdate::Failed { .. } => "failed",
        ScanUpdate::Stopped => "stopped",
        ScanUpdate::Started { .. } | ScanUpdate::Preview { .. } | ScanUpdate::Refused { .. } => "running",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanner_messages_become_sentences() {
        assert_eq!(capitalised("the pictures ended"), "The pictures ended");
        assert_eq!(capitalised(""), "");
    }

    #[test]
    fn updates_serialise_with_a_kind_tag() {
        let json = serde_json::to_value(ScanUpdate::Failed {
            reason: ScanFailure::NoCamera,
            message: "No camera was found.".into(),
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "failed", "reason": "noCamera", "message": "No camera was found."})
        );
        assert_eq!(
            serde_json::to_value(ScanUpdate::Stopped).unwrap(),
            serde_json::json!({"kind": "stopped"})
        );
    }
}
