//! Finding a QR code in a stream of camera frames.
//!
//! A [`QrScanner`] reads frames from a [`FrameSource`] until one of them
//! holds a QR code whose payload it accepts, the caller cancels, or a frame
//! or time limit runs out. It shows every frame it reads to a callback first,
//! which is where a caller takes its live preview (see [`crate::preview`]).
//!
//! ```
//! use std::time::Duration;
//! use image::{GrayImage, Luma};
//! use tallymesh_offline::camera::{Frame, InjectedSource};
//! use tallymesh_offline::qr;
//! use tallymesh_offline::scan::{QrScanner, ScanCancel};
//!
//! // Two empty frames, then one showing the code off-centre.
//! let code = qr::render_luma(b"tallymesh:card?v=1&d=AAAA", 3).unwrap();
//! let mut scene = GrayImage::from_pixel(640, 480, Luma([200]));
//! image::imageops::overlay(&mut scene, &code, 300, 150);
//! let blank = GrayImage::from_pixel(640, 480, Luma([200]));
//! let frames = [blank.clone(), blank, scene]
//!     .into_iter()
//!     .enumerate()
//!     .map(|(i, image)| Frame::luma(image, Duration::from_millis(33 * i as u64)));
//! let mut source = InjectedSource::from_frames(frames.collect::<Vec<_>>());
//!
//! let mut shown = 0;
//! let found = QrScanner::new()
//!     .scan(&mut source, &ScanCancel::new(), |_frame| shown += 1)
//!     .unwrap();
//! assert_eq!(found.payload, b"tallymesh:card?v=1&d=AAAA");
//! assert_eq!((found.frame_number, shown), (3, 3));
//! ```
//!
//! # Reading hard frames
//!
//! Every frame is first read as it is. Only when that finds nothing does the
//! scanner try prepared copies of the frame — each one rescues a kind of
//! picture the plain reading misses (see [`DecodePass`] and
//! `docs/benchmarks.md`). On a stream it tries one such copy per frame, in
//! turn, so an empty frame costs about two readings; a single picture (an
//! opened image file) gets all of them at once through
//! [`QrScanner::decode`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use image::GrayImage;
use image::imageops::FilterType;
use thiserror::Error;

use crate::camera::{CameraError, Frame, FrameSource};

/// How a payload was read from its frame.
///
/// The decoder locates a code on whole pixels. At two to four pixels per
/// module, tilted, that is too coarse: whether it succeeds depends on how
/// the module edges happen to fall on the pixel grid. Enlarging the frame
/// by different factors lets the edges fall differently, so the enlarging
/// passes come in several sizes; a camera's fresh noise in every frame does
/// the rest. Each pass is kept because it reads pictures the others miss;
/// `docs/benchmarks.md` ("QR scanning") has the survey that decided them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecodePass {
    /// The frame as it came.
    Plain,
    /// Smoothed with a 3×3 box filter, then enlarged 2× (bilinear): small
    /// modules under sensor noise. The pass that rescues the most frames.
    SmoothedDoubled,
    /// Halved in size by averaging 2×2 blocks: strong noise over large
    /// modules, and the cheapest pass.
    Halved,
    /// Enlarged 1.5× (bilinear): small sharp modules.
    EnlargedHalf,
    /// A 3×3 median filter: speckle ("salt and pepper") noise.
    Despeckled,
    /// Enlarged 1.75× (bicubic): small modules at other edge phases.
    EnlargedThreeQuarters,
    /// Enlarged 2× (bilinear).
    Doubled,
}

impl DecodePass {
    /// The passes tried after [`DecodePass::Plain`] finds nothing, in order.
    pub const RECOVERY: [DecodePass; 6] = [
        DecodePass::SmoothedDoubled,
        DecodePass::Halved,
        DecodePass::EnlargedHalf,
        DecodePass::Despeckled,
        DecodePass::EnlargedThreeQuarters,
        DecodePass::Doubled,
    ];
}

/// A payload found in a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The bytes the QR code holds.
    pub payload: Vec<u8>,
    /// Which frame held it, counting from 1.
    pub frame_number: u64,
    /// That frame's timestamp.
    pub timestamp: Duration,
    /// How it was read.
    pub pass: DecodePass,
}

/// Why a scan ended without a payload.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScanError {
    /// The camera failed; the message says what the user can do.
    #[error(transparent)]
    Camera(#[from] CameraError),
    /// [`ScanCancel::cancel`] was called.
    #[error("the scan was cancelled")]
    Cancelled,
    /// The frame limit was reached without finding a code.
    #[error("no QR code was found in {0} frames")]
    FrameLimit(u64),
    /// The time limit was reached without finding a code.
    #[error("no QR code was found in {} seconds. Hold the code steady, closer to the camera, in good light.", .0.as_secs())]
    TimeLimit(Duration),
    /// The source ran out of frames without showing a code.
    #[error("the pictures ended without showing a QR code")]
    SourceEnded,
}

/// Cancels a running scan from another thread or task. Clones share one
/// switch.
#[derive(Debug, Clone, Default)]
pub struct ScanCancel(Arc<AtomicBool>);

impl ScanCancel {
    /// A switch that is not yet set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the scan to stop. It stops before reading its next frame.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`ScanCancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

type Accept = dyn Fn(&[u8]) -> bool + Send + Sync;

/// Reads frames until one shows a QR code. See the [module docs](self).
pub struct QrScanner {
    frame_limit: Option<u64>,
    time_limit: Option<Duration>,
    accept: Option<Box<Accept>>,
}

impl Default for QrScanner {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for QrScanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QrScanner")
            .field("frame_limit", &self.frame_limit)
            .field("time_limit", &self.time_limit)
            .field("filtered", &self.accept.is_some())
            .finish()
    }
}

impl QrScanner {
    /// A scanner with no limits that accepts any payload.
    pub fn new() -> Self {
        Self {
            frame_limit: None,
            time_limit: None,
            accept: None,
        }
    }

    /// Gives up after `frames` frames.
    pub fn frame_limit(mut self, frames: u64) -> Self {
        self.frame_limit = Some(frames);
        self
    }

    /// Gives up once a frame's timestamp is `limit` past the first frame's.
    /// Frame timestamps, not the wall clock, keep this exact in tests.
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = Some(limit);
        self
    }

    /// Only payloads `accept` returns true for end the scan; others (a shop's
    /// web address in the same picture, say) are passed over.
    pub fn accept(mut self, accept: impl Fn(&[u8]) -> bool + Send + Sync + 'static) -> Self {
        self.accept = Some(Box::new(accept));
        self
    }

    /// Reads frames from `source` until one shows an accepted payload.
    ///
    /// `on_frame` sees every frame before it is searched: the caller's place
    /// to send a preview now and then. `cancel` is checked before each frame.
    /// Blocks for as long as the scan runs.
    pub fn scan<S, F>(&self, source: &mut S, cancel: &ScanCancel, mut on_frame: F) -> Result<Found, ScanError>
    where
        S: FrameSource + ?Sized,
        F: FnMut(&Frame),
    {
        let mut frame_number = 0u64;
        let mut first_timestamp = None;
        loop {
            if cancel.is_cancelled() {
                return Err(ScanError::Cancelled);
            }
            if let Some(limit) = self.frame_limit
                && frame_number >= limit
            {
                return Err(ScanError::FrameLimit(limit));
            }
            let Some(frame) = source.next_frame()? else {
                return Err(ScanError::SourceEnded);
            };
            frame_number += 1;
            let first = *first_timestamp.get_or_insert(frame.timestamp());
            on_frame(&frame);
            // Plain every frame, and one recovery pass in turn.
            let recovery = DecodePass::RECOVERY[((frame_number - 1) % DecodePass::RECOVERY.len() as u64) as usize];
            let luma = frame.to_luma();
            for pass in [DecodePass::Plain, recovery] {
                if let Some(payload) = self.first_accepted(decode_pass(&luma, pass)) {
                    return Ok(Found {
                        payload,
                        frame_number,
                        timestamp: frame.timestamp(),
                        pass,
                    });
                }
            }
            if let Some(limit) = self.time_limit
                && frame.timestamp().saturating_sub(first) >= limit
            {
                return Err(ScanError::TimeLimit(limit));
            }
        }
    }

    /// Searches one frame with every pass, stopping at the first that finds
    /// an accepted payload. For a single picture such as an opened image
    /// file.
    pub fn decode(&self, frame: &Frame) -> Option<Found> {
        let luma = frame.to_luma();
        std::iter::once(DecodePass::Plain)
            .chain(DecodePass::RECOVERY)
            .find_map(|pass| {
                self.first_accepted(decode_pass(&luma, pass)).map(|payload| Found {
                    payload,
                    frame_number: 1,
                    timestamp: frame.timestamp(),
                    pass,
                })
            })
    }

    fn first_accepted(&self, payloads: Vec<Vec<u8>>) -> Option<Vec<u8>> {
        payloads
            .into_iter()
            .find(|p| self.accept.as_ref().is_none_or(|accept| accept(p)))
    }
}

/// Frames larger than this many pixels are not enlarged: their modules are
/// large enough already, and the decoder's time grows with the area.
const ENLARGE_MAX_PIXELS: u64 = 640 * 512;

/// Every payload `pass` reads in `luma`. Empty when it finds none, or when
/// the pass does not apply to a frame of this size.
pub fn decode_pass(luma: &GrayImage, pass: DecodePass) -> Vec<Vec<u8>> {
    let (w, h) = luma.dimensions();
    if w == 0 || h == 0 {
        return Vec::new();
    }
    let enlargeable = u64::from(w) * u64::from(h) <= ENLARGE_MAX_PIXELS;
    match pass {
        DecodePass::Plain => read(luma.clone()),
        DecodePass::Halved => halved(luma).map(read).unwrap_or_default(),
        DecodePass::Despeckled => read(median3(luma)),
        DecodePass::SmoothedDoubled if enlargeable => read(enlarged(&box3(luma), 8, FilterType::Triangle)),
        DecodePass::EnlargedHalf if enlargeable => read(enlarged(luma, 6, FilterType::Triangle)),
        DecodePass::EnlargedThreeQuarters if enlargeable => read(enlarged(luma, 7, FilterType::CatmullRom)),
        DecodePass::Doubled if enlargeable => read(enlarged(luma, 8, FilterType::Triangle)),
        DecodePass::SmoothedDoubled
        | DecodePass::EnlargedHalf
        | DecodePass::EnlargedThreeQuarters
        | DecodePass::Doubled => Vec::new(),
    }
}

fn read(luma: GrayImage) -> Vec<Vec<u8>> {
    // Camera pictures are arbitrary input to the decoder's geometry code; if
    // some picture ever trips an assertion in it, that frame reads as empty
    // instead of ending the scan.
    std::panic::catch_unwind(move || {
        let mut prepared = rqrr::PreparedImage::prepare(luma);
        prepared
            .detect_grids()
            .into_iter()
            .filter_map(|grid| {
                let mut bytes = Vec::new();
                grid.decode_to(&mut bytes).ok().map(|_| bytes)
            })
            .collect()
    })
    .unwrap_or_default()
}

/// Enlarged by `quarters`/4.
fn enlarged(luma: &GrayImage, quarters: u32, filter: FilterType) -> GrayImage {
    image::imageops::resize(luma, luma.width() * quarters / 4, luma.height() * quarters / 4, filter)
}

/// 3×3 box filter; the border row and column keep their values.
fn box3(luma: &GrayImage) -> GrayImage {
    let (w, h) = (luma.width() as usize, luma.height() as usize);
    let mut out = luma.clone();
    if w < 3 || h < 3 {
        return out;
    }
    let src = luma.as_raw();
    // Sums of three across, then of three of those down.
    let across: Vec<u16> = (0..w * h)
        .map(|i| {
            let x = i % w;
            if x == 0 || x == w - 1 {
                0
            } else {
                u16::from(src[i - 1]) + u16::from(src[i]) + u16::from(src[i + 1])
            }
        })
        .collect();
    let dst: &mut [u8] = &mut out;
    for y in 1..h - 1 {
        let (above, here, below) = (
            &across[(y - 1) * w..y * w],
            &across[y * w..(y + 1) * w],
            &across[(y + 1) * w..],
        );
        for x in 1..w - 1 {
            let sum = u32::from(above[x]) + u32::from(here[x]) + u32::from(below[x]);
            dst[y * w + x] = ((sum + 4) / 9) as u8;
        }
    }
    out
}

/// 3×3 median; the border row and column keep their values.
///
/// Each column of three is sorted once; the median of the nine is then the
/// median of (largest low, middle middle, smallest high) of three columns.
fn median3(luma: &GrayImage) -> GrayImage {
    let (w, h) = (luma.width() as usize, luma.height() as usize);
    let mut out = luma.clone();
    if w < 3 || h < 3 {
        return out;
    }
    let src = luma.as_raw();
    let dst: &mut [u8] = &mut out;
    let mut columns = vec![[0u8; 3]; w];
    for y in 1..h - 1 {
        for (x, column) in columns.iter_mut().enumerate() {
            *column = sort3(src[(y - 1) * w + x], src[y * w + x], src[(y + 1) * w + x]);
        }
        for x in 1..w - 1 {
            let (a, b, c) = (columns[x - 1], columns[x], columns[x + 1]);
            let low = a[0].max(b[0]).max(c[0]);
            let mid = sort3(a[1], b[1], c[1])[1];
            let high = a[2].min(b[2]).min(c[2]);
            dst[y * w + x] = sort3(low, mid, high)[1];
        }
    }
    out
}

fn sort3(a: u8, b: u8, c: u8) -> [u8; 3] {
    let (a, b) = (a.min(b), a.max(b));
    let (b, c) = (b.min(c), b.max(c));
    let (a, b) = (a.min(b), a.max(b));
    [a, b, c]
}

/// Half size by 2×2 averaging; `None` for a picture too small to hold a
/// code once halved.
fn halved(luma: &GrayImage) -> Option<GrayImage> {
    let (w, h) = (luma.width() / 2, luma.height() / 2);
    if w < 21 || h < 21 {
        return None;
    }
    let src = luma.as_raw();
    let stride = luma.width() as usize;
    Some(GrayImage::from_fn(w, h, |x, y| {
        let (x, y) = (2 * x as usize, 2 * y as usize);
        let sum = u32::from(src[y * stride + x])
            + u32::from(src[y * stride + x + 1])
            + u32::from(src[(y + 1) * stride + x])
            + u32::from(src[(y + 1) * stride + x + 1]);
        image::Luma([((sum + 2) / 4) as u8])
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::InjectedSource;
    use crate::qr;
    use image::Luma;
    use proptest::prelude::*;

    fn blank(timestamp_ms: u64) -> Frame {
        Frame::luma(
            GrayImage::from_pixel(64, 48, Luma([200])),
            Duration::from_millis(timestamp_ms),
        )
    }

    fn endless_blank() -> InjectedSource {
        let mut t = 0;
        InjectedSource::from_fn(move || {
            t += 100;
            Ok(Some(blank(t)))
        })
    }

    #[test]
    fn a_scan_stops_at_its_frame_limit() {
        let result = QrScanner::new()
            .frame_limit(5)
            .scan(&mut endless_blank(), &ScanCancel::new(), |_| {});
        assert_eq!(result, Err(ScanError::FrameLimit(5)));
    }

    #[test]
    fn a_scan_stops_at_its_time_limit_by_frame_time() {
        let mut seen = 0;
        let result =
            QrScanner::new()
                .time_limit(Duration::from_secs(1))
                .scan(&mut endless_blank(), &ScanCancel::new(), |_| seen += 1);
        assert_eq!(result, Err(ScanError::TimeLimit(Duration::from_secs(1))));
        // Frames 100 ms apart: the eleventh is a second after the first.
        assert_eq!(seen, 11);
    }

    #[test]
    fn a_cancelled_scan_stops_before_the_next_frame() {
        let cancel = ScanCancel::new();
        let canceller = cancel.clone();
        let mut seen = 0;
        let result = QrScanner::new().scan(&mut endless_blank(), &cancel, |_| {
            seen += 1;
            if seen == 3 {
                canceller.cancel();
            }
        });
        assert_eq!((result, seen), (Err(ScanError::Cancelled), 3));
    }

    #[test]
    fn a_source_that_ends_ends_the_scan() {
        let mut source = InjectedSource::from_frames(vec![blank(0), blank(33)]);
        assert_eq!(
            QrScanner::new().scan(&mut source, &ScanCancel::new(), |_| {}),
            Err(ScanError::SourceEnded)
        );
    }

    #[test]
    fn a_camera_failure_ends_the_scan_with_its_message() {
        let mut source = InjectedSource::from_fn(|| Err(CameraError::NoCamera));
        let error = QrScanner::new()
            .scan(&mut source, &ScanCancel::new(), |_| {})
            .unwrap_err();
        assert_eq!(error, ScanError::Camera(CameraError::NoCamera));
        assert_eq!(error.to_string(), CameraError::NoCamera.to_string());
    }

    #[test]
    fn payloads_the_filter_refuses_are_passed_over() {
        let other = qr::render_luma(b"https://shop.example", 4).unwrap();
        let ours = qr::render_luma(b"tallymesh:card?v=1", 4).unwrap();
        let mut source = InjectedSource::from_frames(vec![
            Frame::luma(other, Duration::ZERO),
            Frame::luma(ours, Duration::from_millis(33)),
        ]);
        let found = QrScanner::new()
            .accept(|p| p.starts_with(b"tallymesh:"))
            .scan(&mut source, &ScanCancel::new(), |_| {})
            .unwrap();
        assert_eq!(
            (found.payload.as_slice(), found.frame_number),
            (&b"tallymesh:card?v=1"[..], 2)
        );
    }

    #[test]
    fn a_single_picture_is_decoded_with_its_timestamp() {
        let code = qr::render_luma(b"tallymesh:x", 3).unwrap();
        let found = QrScanner::new()
            .decode(&Frame::luma(code, Duration::from_millis(7)))
            .unwrap();
        assert_eq!(
            (found.pass, found.timestamp),
            (DecodePass::Plain, Duration::from_millis(7))
        );
        assert_eq!(QrScanner::new().decode(&blank(0)), None);
    }

    #[test]
    fn filters_keep_the_border_and_flat_areas() {
        let flat = GrayImage::from_pixel(5, 4, Luma([77]));
        assert_eq!(box3(&flat), flat);
        assert_eq!(median3(&flat), flat);
        assert_eq!(halved(&flat), None);
        let mut speck = flat.clone();
        speck.put_pixel(2, 2, Luma([255]));
        assert_eq!(median3(&speck), flat);
    }

    proptest! {
        #[test]
        fn the_fast_median_is_the_median(pixels in proptest::collection::vec(any::<u8>(), 9 * 7)) {
            let image = GrayImage::from_raw(9, 7, pixels).unwrap();
            let fast = median3(&image);
            let boxed = box3(&image);
            for y in 1..6 {
                for x in 1..8 {
                    let mut window: Vec<u8> = (0..9).map(|i| image.get_pixel(x + i % 3 - 1, y + i / 3 - 1).0[0]).collect();
                    let sum: u32 = window.iter().map(|&v| u32::from(v)).sum();
                    window.sort_unstable();
                    prop_assert_eq!(fast.get_pixel(x, y).0[0], window[4]);
                    prop_assert_eq!(u32::from(boxed.get_pixel(x, y).0[0]), (sum + 4) / 9);
                }
            }
        }
    }

    #[test]
    fn large_frames_are_not_enlarged() {
        let big = GrayImage::from_pixel(1280, 720, Luma([255]));
        assert!(decode_pass(&big, DecodePass::Doubled).is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn no_frame_of_noise_makes_any_pass_panic(
            width in 0u32..120,
            height in 0u32..120,
            seed in any::<u64>(),
        ) {
            let mut state = seed | 1;
            let image = GrayImage::from_fn(width, height, |_, _| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                Luma([(state >> 56) as u8])
            });
            for pass in std::iter::once(DecodePass::Plain).chain(DecodePass::RECOVERY) {
                let _ = decode_pass(&image, pass);
            }
        }
    }
}
