//! Adding a contact with the camera, on a real node, with the webcam
//! replaced by pictures of real cards: tilted, noisy, among frames that
//! show no code; refused codes reported once; no camera said plainly.

use std::sync::{Arc, Mutex};

use tallymesh_node::contacts::{CardScan, ScanFailure, ScanUpdate};
use tallymesh_offline::camera::{CameraError, Frame, FrameSource, InjectedSource};
use tallymesh_scenarios::{TestNode, node_of};

#[path = "../../../crates/offline/tests/support/mod.rs"]
mod scene;

use scene::{Noise, Scene};

/// The signed bytes of `node`'s card: what its QR code holds.
async fn card_bytes(node: &TestNode) -> Vec<u8> {
    node.node.contacts().my_card(None).await.unwrap().bytes().to_vec()
}

/// Frames of `payload` as a webcam would show it: 4 px modules, tilted
/// 15°, with sensor noise fresh in every frame. An empty payload gives
/// the room without a code.
fn frames_of(payload: &[u8], count: u64, first_seed: u64) -> Vec<Frame> {
    (0..count)
        .map(|i| {
            let scene = Scene {
                payload: payload.to_vec(),
                module_px: 4.0,
                rotation_deg: 15.0,
                noise: Noise::Gaussian(10.0),
                noise_seed: first_seed + i,
                ..Scene::card()
            };
            let timestamp = std::time::Duration::from_millis((first_seed + i) * 33);
            Frame::luma(scene.render(), timestamp)
        })
        .collect()
}

/// Runs a scan over `frames` on `node` and returns every update it sent.
async fn scan_frames(node: &TestNode, frames: Vec<Frame>) -> Vec<ScanUpdate> {
    let source = InjectedSource::from_frames(frames);
    let (scan, updates) = start_scan(node, move || {
        Ok((Box::new(source) as Box<dyn FrameSource>, "test scenes".into()))
    });
    scan.finished().await;
    take(&updates)
}

type Updates = Arc<Mutex<Vec<ScanUpdate>>>;

fn start_scan<O>(node: &TestNode, open: O) -> (CardScan, Updates)
where
    O: FnOnce() -> Result<(Box<dyn FrameSource>, String), CameraError> + Send + 'static,
{
    let updates: Updates = Arc::default();
    let sink = updates.clone();
    let scan = node
        .node
        .contacts()
        .scan_card_from(open, move |update| sink.lock().unwrap().push(update));
    (scan, updates)
}

fn take(updates: &Updates) -> Vec<ScanUpdate> {
    std::mem::take(&mut *updates.lock().unwrap())
}

fn refusals(updates: &[ScanUpdate]) -> Vec<&str> {
    updates
        .iter()
        .filter_map(|u| match u {
            ScanUpdate::Refused { message } => Some(message.as_str()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_tilted_noisy_card_in_front_of_the_camera_is_found_verified_and_not_yet_added() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let alice_party = alice
        .node
        .identity()
        .state()
        .await
        .unwrap()
        .party_id()
        .unwrap()
        .to_string();

    // The room first, then Alice holds up her card.
    let mut frames = frames_of(&[], 3, 1);
    frames.extend(frames_of(&card_bytes(&alice).await, 20, 100));
    let updates = scan_frames(&bob, frames).await;

    assert_eq!(
        updates.first(),
        Some(&ScanUpdate::Started {
            camera: "test scenes".into()
        })
    );
    assert!(
        updates
            .iter()
            .any(|u| matches!(u, ScanUpdate::Preview { image, width: 320, .. }
            if image.starts_with("data:image/jpeg;base64,"))),
        "the window gets pictures to aim with"
    );
    let Some(ScanUpdate::Found { card }) = updates.last() else {
        panic!("the scan ended without the card: {:?}", updates.last());
    };
    assert_eq!(card.party_id, alice_party);
    assert_eq!(card.display_name, "Alice");
    assert!(!card.known);
    assert!(
        bob.node.contacts().list().await.unwrap().is_empty(),
        "a scan only reads; adding waits for the person to confirm"
    );

    let added = bob.node.contacts().add_from_link(&card.link).await.unwrap();
    assert_eq!(added.party_id, alice_party);
}

#[tokio::test]
async fn a_tampered_card_and_ones_own_are_each_reported_once_and_scanning_goes_on() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let mut tampered = card_bytes(&alice).await;
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;

    let mut frames = frames_of(&tampered, 6, 1);
    frames.extend(frames_of(&card_bytes(&bob).await, 6, 50));
    frames.extend(frames_of(&card_bytes(&alice).await, 20, 100));
    let updates = scan_frames(&bob, frames).await;

    assert_eq!(
        refusals(&updates),
        [
            "This link was changed after it was made, so it can't be trusted.",
            "This is your own card."
        ]
    );
    assert!(matches!(updates.last(), Some(ScanUpdate::Found { card }) if card.display_name == "Alice"));
}

#[tokio::test]
async fn with_no_camera_the_scan_says_so_and_a_camera_pulled_out_says_that() {
    let bob = node_of("Bob").await;

    let (scan, updates) = start_scan(&bob, || Err(CameraError::NoCamera));
    scan.finished().await;
    let updates = take(&updates);
    assert_eq!(updates.len(), 1, "{updates:?}");
    let ScanUpdate::Failed { reason, message } = &updates[0] else {
        panic!("{updates:?}");
    };
    assert_eq!(*reason, ScanFailure::NoCamera);
    assert!(message.starts_with("No camera was found."), "{message}");

    let mut shown = frames_of(&[], 2, 1).into_iter();
    let source = InjectedSource::from_fn(move || match shown.next() {
        Some(frame) => Ok(Some(frame)),
        None => Err(CameraError::Disconnected),
    });
    let updates = scan_frames_from(&bob, source).await;
    assert!(matches!(
        updates.last(),
        Some(ScanUpdate::Failed { reason: ScanFailure::Camera, message })
            if message == "The camera was disconnected. Connect it again and try again."
    ));
}

async fn scan_frames_from(node: &TestNode, source: InjectedSource) -> Vec<ScanUpdate> {
    let (scan, updates) = start_scan(node, move || {
        Ok((Box::new(source) as Box<dyn FrameSource>, "test".into()))
    });
    scan.finished().await;
    take(&updates)
}

#[tokio::test]
async fn stopping_a_scan_ends_it_with_stopped_and_releases_the_source() {
    let bob = node_of("Bob").await;
    let room = frames_of(&[], 1, 1).remove(0);
    let released = Arc::new(Mutex::new(false));

    /// A camera that shows the room forever and notes when it is dropped.
    struct Camera {
        room: Frame,
        released: Arc<Mutex<bool>>,
    }
    impl FrameSource for Camera {
        fn next_frame(&mut self) -> Result<Option<Frame>, CameraError> {
            std::thread::sleep(std::time::Duration::from_millis(5));
            Ok(Some(self.room.clone()))
        }
    }
    impl Drop for Camera {
        fn drop(&mut self) {
            *self.released.lock().unwrap() = true;
        }
    }

    let camera = Camera {
        room,
        released: released.clone(),
    };
    let (scan, updates) = start_scan(&bob, move || {
        Ok((Box::new(camera) as Box<dyn FrameSource>, "room".into()))
    });
    // Wait until frames flow, then stop.
    while !take_peek(&updates)
        .iter()
        .any(|u| matches!(u, ScanUpdate::Preview { .. }))
    {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    scan.stop();
    scan.finished().await;

    assert_eq!(take(&updates).last(), Some(&ScanUpdate::Stopped));
    assert!(*released.lock().unwrap(), "the camera is released when the scan ends");
}

fn take_peek(updates: &Updates) -> Vec<ScanUpdate> {
    updates.lock().unwrap().clone()
}
