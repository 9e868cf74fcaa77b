//! The real camera, through `nokhwa`.
//!
//! The platform's capture object is created, used and dropped on one thread
//! of its own ("tallymesh-camera"), because some platforms' capture objects
//! must stay on the thread that made them. Frames cross to the reader over a
//! channel that holds at most one: a scan that is slower than the camera
//! sees the newest picture, not a growing backlog.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use nokhwa::utils::{ApiBackend, CameraFormat, CameraIndex, RequestedFormat, RequestedFormatType};
use nokhwa::{Camera, NokhwaError};

use super::{CameraError, Frame, FrameSource, convert};

/// A camera the platform reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraInfo {
    /// Identifies the camera to [`CameraChoice::Id`] while it stays plugged in.
    pub id: String,
    /// The name the camera gives itself, for a picker.
    pub name: String,
    /// What the platform says about it (device path, model).
    pub description: String,
}

/// Which camera [`Webcam::open`] uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CameraChoice {
    /// The first camera that opens, in the platform's order.
    #[default]
    First,
    /// The camera with this [`CameraInfo::id`].
    Id(String),
}

/// What [`Webcam::open`] asks the camera for. The camera's nearest offer
/// is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CameraSettings {
    /// Wanted width in pixels.
    pub width: u32,
    /// Wanted height in pixels.
    pub height: u32,
    /// Wanted frames per second.
    pub frame_rate: u32,
    /// How long to wait for a frame before reporting [`CameraError::Stalled`].
    pub stall_after: Duration,
}

impl Default for CameraSettings {
    /// 640×480 at 30 frames a second: enough pixels for a card held at arm's
    /// length, few enough to decode every frame or two on a slow laptop.
    fn default() -> Self {
        Self {
            width: 640,
            height: 480,
            frame_rate: 30,
            stall_after: Duration::from_secs(5),
        }
    }
}

/// The format a [`Webcam`] ended up capturing in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureFormat {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frames per second the camera promised.
    pub frame_rate: u32,
    /// The camera's pixel format (MJPEG, YUYV, ...).
    pub pixel_format: String,
}

/// Every camera the platform reports, in its order. An empty list is the
/// normal answer on a machine without one.
///
/// On macOS this first asks the user for camera access if the app does not
/// have it yet, and waits for the answer.
pub fn cameras() -> Result<Vec<CameraInfo>, CameraError> {
    ensure_permission()?;
    let found = nokhwa::query(ApiBackend::Auto).map_err(|e| classify(&e))?;
    Ok(found
        .into_iter()
        .map(|info| CameraInfo {
            id: id_of(info.index()),
            name: info.human_name(),
            description: info.description().to_owned(),
        })
        .collect())
}

fn id_of(index: &CameraIndex) -> String {
    match index {
        CameraIndex::Index(i) => i.to_string(),
        CameraIndex::String(s) => s.clone(),
    }
}

fn index_of(id: &str) -> CameraIndex {
    id.parse::<u32>()
        .map_or_else(|_| CameraIndex::String(id.to_owned()), CameraIndex::Index)
}

type Delivery = Result<Frame, CameraError>;

/// A webcam streaming frames, as a [`FrameSource`].
///
/// Dropping it stops the capture and releases the camera (waiting briefly
/// for the capture thread to let go, so the camera can be opened again at
/// once).
pub struct Webcam {
    info: CameraInfo,
    format: CaptureFormat,
    frames: Option<Receiver<Delivery>>,
    stop: Arc<AtomicBool>,
    released: Option<Receiver<()>>,
    stall_after: Duration,
    failed: bool,
}

impl Webcam {
    /// Opens `choice` and starts streaming. Blocks while the camera starts
    /// (a few hundred milliseconds, or longer on macOS while the user is
    /// asked for access); call it from a blocking thread.
    pub fn open(choice: CameraChoice, settings: CameraSettings) -> Result<Self, CameraError> {
        ensure_permission()?;
        let candidates = match &choice {
            CameraChoice::First => cameras()?,
            CameraChoice::Id(id) => {
                let listed = cameras()?;
                if listed.is_empty() {
                    return Err(CameraError::NoCamera);
                }
                let chosen: Vec<CameraInfo> = listed.into_iter().filter(|c| &c.id == id).collect();
                if chosen.is_empty() {
                    return Err(CameraError::NotConnected(id.clone()));
                }
                chosen
            }
        };
        if candidates.is_empty() {
            return Err(CameraError::NoCamera);
        }
        // Linux lists metadata nodes beside the real capture node of many
        // webcams; they fail to open, so "first" means the first that opens.
        let mut first_error = None;
        for info in candidates {
            match Self::start(info, settings) {
                Ok(webcam) => return Ok(webcam),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        Err(first_error.unwrap_or(CameraError::NoCamera))
    }

    /// The camera being used.
    pub fn info(&self) -> &CameraInfo {
        &self.info
    }

    /// The format it captures in.
    pub fn format(&self) -> &CaptureFormat {
        &self.format
    }

    fn start(info: CameraInfo, settings: CameraSettings) -> Result<Self, CameraError> {
        let (opened_tx, opened_rx) = mpsc::sync_channel::<Result<CaptureFormat, CameraError>>(1);
        let (frame_tx, frame_rx) = mpsc::sync_channel::<Delivery>(1);
        let (released_tx, released_rx) = mpsc::sync_channel::<()>(1);
        let stop = Arc::new(AtomicBool::new(false));
        let index = index_of(&info.id);
        let thread_stop = Arc::clone(&stop);
        thread::Builder::new()
            .name("tallymesh-camera".into())
            .spawn(move || {
                // A panic inside the platform binding must not take the app
                // down: the reader sees the channel close and reports the
                // camera as disconnected.
                let _ = catch_unwind(AssertUnwindSafe(|| {
                    capture(index, settings, &opened_tx, &frame_tx, &thread_stop);
                }));
                let _ = released_tx.send(());
            })
            .map_err(|e| CameraError::Backend(format!("could not start the capture thread: {e}")))?;
        let format = match opened_rx.recv() {
            Ok(result) => result?,
            Err(_) => return Err(CameraError::Disconnected),
        };
        Ok(Self {
            info,
            format,
            frames: Some(frame_rx),
            stop,
            released: Some(released_rx),
            stall_after: settings.stall_after,
            failed: false,
        })
    }
}

impl FrameSource for Webcam {
    fn next_frame(&mut self) -> Result<Option<Frame>, CameraError> {
        let Some(frames) = &self.frames else {
            return Err(CameraError::Disconnected);
        };
        if self.failed {
            return Err(CameraError::Disconnected);
        }
        let delivery = match frames.recv_timeout(self.stall_after) {
            Ok(delivery) => delivery,
            Err(RecvTimeoutError::Timeout) => Err(CameraError::Stalled(self.stall_after)),
            Err(RecvTimeoutError::Disconnected) => Err(CameraError::Disconnected),
        };
        match delivery {
            Ok(frame) => Ok(Some(frame)),
            Err(error) => {
                // A stall may end; anything else ended the capture thread.
                self.failed = !matches!(error, CameraError::Stalled(_));
                Err(error)
            }
        }
    }
}

impl Drop for Webcam {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Closing the frame channel wakes a capture thread blocked on a full
        // channel; one blocked inside the driver wakes with the next frame.
        self.frames = None;
        if let Some(released) = self.released.take() {
            let _ = released.recv_timeout(Duration::from_secs(2));
        }
    }
}

impl std::fmt::Debug for Webcam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webcam")
            .field("info", &self.info)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

/// After this many unreadable frames in a row the camera is given up on.
const UNREADABLE_LIMIT: u32 = 30;
/// After this many failed reads in a row the camera is taken as gone.
const READ_FAILURE_LIMIT: u32 = 3;

/// The capture thread: open, report, stream until told to stop.
fn capture(
    index: CameraIndex,
    settings: CameraSettings,
    opened: &SyncSender<Result<CaptureFormat, CameraError>>,
    frames: &SyncSender<Delivery>,
    stop: &AtomicBool,
) {
    let mut camera = match open_camera(&index, settings) {
        Ok(camera) => camera,
        Err(error) => {
            let _ = opened.send(Err(error));
            return;
        }
    };
    let chosen = camera.camera_format();
    let format = CaptureFormat {
        width: chosen.width(),
        height: chosen.height(),
        frame_rate: chosen.frame_rate(),
        pixel_format: chosen.format().to_string(),
    };
    if opened.send(Ok(format)).is_err() {
        return;
    }
    let started = Instant::now();
    let mut unreadable = 0;
    let mut read_failures = 0;
    while !stop.load(Ordering::SeqCst) {
        let delivery = match camera.frame() {
            Ok(buffer) => {
                read_failures = 0;
                let resolution = buffer.resolution();
                match convert::decode(
                    buffer.source_frame_format(),
                    resolution.width(),
                    resolution.height(),
                    buffer.buffer(),
                ) {
                    Ok(image) => {
                        unreadable = 0;
                        Ok(Frame {
                            image,
                            timestamp: started.elapsed(),
                        })
                    }
                    Err(why) => {
                        unreadable += 1;
                        if unreadable < UNREADABLE_LIMIT {
                            continue;
                        }
                        Err(CameraError::Unsupported(why))
                    }
                }
            }
            Err(error) => {
                read_failures += 1;
                if read_failures < READ_FAILURE_LIMIT {
                    continue;
                }
                Err(match classify(&error) {
                    CameraError::Backend(_) => CameraError::Disconnected,
                    other => other,
                })
            }
        };
        let fatal = delivery.is_err();
        match frames.try_send(delivery) {
            // The reader is busy with the previous frame; this one is
            // skipped, the next will be fresher anyway.
            Ok(()) | Err(TrySendError::Full(Ok(_))) => {}
            Err(TrySendError::Full(Err(error))) => {
                let _ = frames.send(Err(error));
            }
            Err(TrySendError::Disconnected(_)) => break,
        }
        if fatal {
            break;
        }
    }
    // nokhwa's Drop unwraps the result of stopping the stream; keep a failure
    // there on this thread.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(camera)));
}

fn open_camera(index: &CameraIndex, settings: CameraSettings) -> Result<Camera, CameraError> {
    let any_readable = RequestedFormat::with_formats(RequestedFormatType::None, &convert::READABLE);
    let mut camera = Camera::new(index.clone(), any_readable).map_err(|e| classify(&e))?;
    // Pick the offered format nearest the wanted size and rate ourselves:
    // nokhwa's "closest" request fails outright when the pixel format it was
    // given is not offered.
    if let Ok(offered) = camera.compatible_camera_formats() {
        if let Some(best) = nearest_format(&offered, settings) {
            let exact = RequestedFormat::with_formats(RequestedFormatType::Exact(best), &convert::READABLE);
            // The camera keeps its first format if it refuses this one.
            let _ = camera.set_camera_requset(exact);
        } else if !offered.is_empty() {
            let names: Vec<String> = offered.iter().map(|f| f.format().to_string()).collect();
            return Err(CameraError::Unsupported(names.join(", ")));
        }
    }
    camera.open_stream().map_err(|e| classify(&e))?;
    Ok(camera)
}

/// The offered format nearest `settings`: size first, then rate, then the
/// cheapest pixel format to read.
fn nearest_format(offered: &[CameraFormat], settings: CameraSettings) -> Option<CameraFormat> {
    offered
        .iter()
        .filter(|f| convert::READABLE.contains(&f.format()))
        .min_by_key(|f| {
            let size = f.width().abs_diff(settings.width) + f.height().abs_diff(settings.height);
            let rate = f.frame_rate().abs_diff(settings.frame_rate);
            let cost = convert::READABLE
                .iter()
                .position(|r| *r == f.format())
                .unwrap_or(usize::MAX);
            (size, rate, cost)
        })
        .copied()
}

/// Sorts the platform's error (which is mostly text) into what the user can
/// act on.
fn classify(error: &NokhwaError) -> CameraError {
    let text = error.to_string();
    let lower = text.to_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    if has(&[
        "permission denied",
        "os error 13",
        "not authorized",
        "notauthorized",
        "access denied",
        "0x80070005",
    ]) {
        CameraError::PermissionDenied
    } else if has(&["busy", "os error 16", "in use", "0xc00d3704"]) {
        CameraError::Busy
    } else if has(&[
        "no such device",
        "os error 19",
        "no such file",
        "os error 2)",
        "disconnected",
    ]) {
        CameraError::Disconnected
    } else if matches!(error, NokhwaError::GetPropertyError { property, .. } if property.contains("Compatible Camera Format"))
    {
        CameraError::Unsupported(text)
    } else {
        CameraError::Backend(text)
    }
}

/// On macOS the user must grant camera access once; elsewhere this returns
/// at once.
fn ensure_permission() -> Result<(), CameraError> {
    if nokhwa::nokhwa_check() {
        return Ok(());
    }
    let (tx, rx) = mpsc::sync_channel::<bool>(1);
    let tx = Mutex::new(tx);
    nokhwa::nokhwa_initialize(move |granted| {
        if let Ok(tx) = tx.lock() {
            let _ = tx.try_send(granted);
        }
    });
    // The system dialog waits for the user; give them a minute.
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(true) => Ok(()),
        Ok(false) | Err(_) => Err(CameraError::PermissionDenied),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nokhwa::utils::{FrameFormat, Resolution};

    fn offer(width: u32, height: u32, format: FrameFormat, rate: u32) -> CameraFormat {
        CameraFormat::new(Resolution::new(width, height), format, rate)
    }

    #[test]
    fn the_nearest_size_wins_then_the_rate_then_the_cheaper_format() {
        let offered = [
            offer(1920, 1080, FrameFormat::MJPEG, 30),
            offer(640, 480, FrameFormat::MJPEG, 30),
            offer(640, 480, FrameFormat::YUYV, 30),
            offer(640, 480, FrameFormat::YUYV, 15),
            offer(320, 240, FrameFormat::YUYV, 30),
        ];
        assert_eq!(nearest_format(&offered, CameraSettings::default()), Some(offered[2]));
    }

    #[test]
    fn formats_we_cannot_read_are_never_chosen() {
        assert_eq!(nearest_format(&[], CameraSettings::default()), None);
    }

    #[test]
    fn platform_errors_become_errors_a_user_can_act_on() {
        let open = |why: &str| NokhwaError::OpenDeviceError("0".into(), why.into());
        assert_eq!(
            classify(&open("V4L2 Error: Permission denied (os error 13)")),
            CameraError::PermissionDenied
        );
        assert_eq!(
            classify(&open("V4L2 Error: Device or resource busy (os error 16)")),
            CameraError::Busy
        );
        assert_eq!(
            classify(&open("V4L2 Error: No such device (os error 19)")),
            CameraError::Disconnected
        );
        assert!(matches!(classify(&open("something else")), CameraError::Backend(_)));
    }

    #[test]
    fn ids_round_trip_to_indices() {
        assert_eq!(index_of("2"), CameraIndex::Index(2));
        assert_eq!(id_of(&index_of("2")), "2");
        assert_eq!(index_of("0x1234-cam"), CameraIndex::String("0x1234-cam".into()));
    }

    /// No camera on this machine (or a build machine) must be an answer,
    /// not a failure or a panic; with a camera the listing must work too.
    #[test]
    fn listing_cameras_never_fails_for_want_of_one() {
        match cameras() {
            Ok(list) => {
                if list.is_empty() {
                    assert_eq!(
                        Webcam::open(CameraChoice::First, CameraSettings::default()).err(),
                        Some(CameraError::NoCamera)
                    );
                    assert_eq!(
                        Webcam::open(CameraChoice::Id("7".into()), CameraSettings::default()).err(),
                        Some(CameraError::NoCamera)
                    );
                }
            }
            Err(error) => panic!("listing cameras failed: {error}"),
        }
    }
}
