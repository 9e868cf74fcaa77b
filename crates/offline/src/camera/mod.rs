//! Frames from a camera, or from anything that can stand in for one.
//!
//! A [`FrameSource`] hands out one [`Frame`] at a time: a greyscale or RGB
//! picture with its size and the time it was taken, counted from the moment
//! the source started. [`Webcam`] is the real one, over the platform's video
//! API; [`InjectedSource`] plays back frames a test (or a demo) made.
//!
//! ```
//! use std::time::Duration;
//! use tallymesh_offline::camera::{Frame, FrameSource, InjectedSource};
//! use tallymesh_offline::qr;
//!
//! let code = qr::render_luma(b"tallymesh:card", 4).unwrap();
//! let mut source = InjectedSource::from_frames([Frame::luma(code, Duration::ZERO)]);
//!
//! let frame = source.next_frame().unwrap().unwrap();
//! assert!(frame.width() > 100 && frame.width() == frame.height());
//! assert!(source.next_frame().unwrap().is_none(), "the source has ended");
//! ```
//!
//! Reading a frame blocks. A node runs a whole scan on a blocking thread
//! (`tokio::task::spawn_blocking`) and sends what it wants the window to see
//! over a channel; see [`crate::scan`].

mod convert;
mod webcam;

use std::borrow::Cow;
use std::time::Duration;

use image::{DynamicImage, GrayImage, RgbImage};
use thiserror::Error;

pub use webcam::{CameraChoice, CameraInfo, CameraSettings, CaptureFormat, Webcam, cameras};

/// Why a camera gave no frame.
///
/// The messages are written for the person in front of the window.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CameraError {
    /// The computer has no camera at all.
    #[error("No camera was found. Connect a webcam, or add the contact from a link or an image file.")]
    NoCamera,
    /// The chosen camera is not (or no longer) connected.
    #[error(
        "The camera \"{0}\" is not connected any more. Choose another camera, or add the contact from a link or an image file."
    )]
    NotConnected(String),
    /// Another program is using the camera.
    #[error("The camera is in use by another program. Close that program and try again.")]
    Busy,
    /// The operating system did not let this app use the camera.
    #[error("This app may not use the camera. Allow camera access for Tallymesh in the system settings and try again.")]
    PermissionDenied,
    /// The camera offers no picture format this app can read.
    #[error(
        "The camera offers no picture format this app can read ({0}). Add the contact from a link or an image file."
    )]
    Unsupported(String),
    /// The camera stopped delivering pictures.
    #[error("The camera stopped sending pictures for {} seconds. Check that it is connected and try again.", .0.as_secs())]
    Stalled(Duration),
    /// The camera was disconnected, or its capture stopped, during the scan.
    #[error("The camera was disconnected. Connect it again and try again.")]
    Disconnected,
    /// The platform's video system failed in some other way.
    #[error("The camera could not be used: {0}")]
    Backend(String),
}

/// The pixels of one frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameImage {
    /// 8-bit greyscale (luma).
    Luma(GrayImage),
    /// 8-bit RGB.
    Rgb(RgbImage),
}

/// One picture from a [`FrameSource`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    image: FrameImage,
    timestamp: Duration,
}

impl Frame {
    /// A greyscale frame taken `timestamp` after its source started.
    pub fn luma(image: GrayImage, timestamp: Duration) -> Self {
        Self {
            image: FrameImage::Luma(image),
            timestamp,
        }
    }

    /// A colour frame taken `timestamp` after its source started.
    pub fn rgb(image: RgbImage, timestamp: Duration) -> Self {
        Self {
            image: FrameImage::Rgb(image),
            timestamp,
        }
    }

    /// A frame from any decoded image (an opened image file, say): kept as
    /// greyscale if it has no colour, as RGB otherwise.
    pub fn from_image(image: DynamicImage, timestamp: Duration) -> Self {
        if image.color().has_color() {
            Self::rgb(image.into_rgb8(), timestamp)
        } else {
            Self::luma(image.into_luma8(), timestamp)
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        match &self.image {
            FrameImage::Luma(image) => image.width(),
            FrameImage::Rgb(image) => image.width(),
        }
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        match &self.image {
            FrameImage::Luma(image) => image.height(),
            FrameImage::Rgb(image) => image.height(),
        }
    }

    /// When the frame was taken, counted from the start of its source.
    pub fn timestamp(&self) -> Duration {
        self.timestamp
    }

    /// The pixels as the source gave them.
    pub fn image(&self) -> &FrameImage {
        &self.image
    }

    /// The frame in greyscale: borrowed when it already is, converted
    /// (Rec. 601 luma) when it is colour.
    pub fn to_luma(&self) -> Cow<'_, GrayImage> {
        match &self.image {
            FrameImage::Luma(image) => Cow::Borrowed(image),
            FrameImage::Rgb(image) => Cow::Owned(convert::rgb_to_luma(image)),
        }
    }

    /// The frame as an `image` crate picture, for resizing or encoding.
    pub fn to_dynamic(&self) -> DynamicImage {
        match &self.image {
            FrameImage::Luma(image) => DynamicImage::ImageLuma8(image.clone()),
            FrameImage::Rgb(image) => DynamicImage::ImageRgb8(image.clone()),
        }
    }
}

/// Anything that hands out frames one after another: a webcam, a recording,
/// a test's generated pictures.
///
/// `next_frame` blocks until the next frame is there. `Ok(None)` means the
/// source has ended and will give no more; a camera never ends by itself, it
/// fails with a [`CameraError`] instead. Sources are `Send` so a scan can run
/// on a blocking thread of the caller's choosing.
pub trait FrameSource: Send {
    /// The next frame, waiting for it if need be.
    fn next_frame(&mut self) -> Result<Option<Frame>, CameraError>;
}

impl<S: FrameSource + ?Sized> FrameSource for Box<S> {
    fn next_frame(&mut self) -> Result<Option<Frame>, CameraError> {
        (**self).next_frame()
    }
}

impl<S: FrameSource + ?Sized> FrameSource for &mut S {
    fn next_frame(&mut self) -> Result<Option<Frame>, CameraError> {
        (**self).next_frame()
    }
}

type NextFrame = dyn FnMut() -> Result<Option<Frame>, CameraError> + Send;

/// A [`FrameSource`] that plays back frames made in the program: for tests,
/// for demos, and for the "camera" of an automated end-to-end run.
pub struct InjectedSource {
    next: Box<NextFrame>,
}

impl InjectedSource {
    /// Plays `frames` in order, then ends.
    pub fn from_frames<I>(frames: I) -> Self
    where
        I: IntoIterator<Item = Frame>,
        I::IntoIter: Send + 'static,
    {
        let mut frames = frames.into_iter();
        Self::from_fn(move || Ok(frames.next()))
    }

    /// Asks `next` for each frame. It may end the source (`Ok(None)`) or
    /// fail as a camera would (`Err`), which is how tests play a camera that
    /// is unplugged during a scan.
    pub fn from_fn<F>(next: F) -> Self
    where
        F: FnMut() -> Result<Option<Frame>, CameraError> + Send + 'static,
    {
        Self { next: Box::new(next) }
    }
}

impl FrameSource for InjectedSource {
    fn next_frame(&mut self) -> Result<Option<Frame>, CameraError> {
        (self.next)()
    }
}

impl std::fmt::Debug for InjectedSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InjectedSource").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Luma, Rgb};

    #[test]
    fn an_injected_source_plays_its_frames_then_ends() {
        let frames: Vec<Frame> = (0..3u8)
            .map(|i| {
                Frame::luma(
                    GrayImage::from_pixel(4, 3, Luma([i])),
                    Duration::from_millis(u64::from(i) * 33),
                )
            })
            .collect();
        let mut source = InjectedSource::from_frames(frames.clone());
        for expected in frames {
            assert_eq!(source.next_frame().unwrap(), Some(expected));
        }
        assert_eq!(source.next_frame().unwrap(), None);
        assert_eq!(source.next_frame().unwrap(), None);
    }

    #[test]
    fn an_injected_source_can_fail_like_an_unplugged_camera() {
        let mut left = 1;
        let mut source = InjectedSource::from_fn(move || {
            if left == 0 {
                return Err(CameraError::Disconnected);
            }
            left -= 1;
            Ok(Some(Frame::luma(GrayImage::new(2, 2), Duration::ZERO)))
        });
        assert!(source.next_frame().unwrap().is_some());
        assert_eq!(source.next_frame(), Err(CameraError::Disconnected));
    }

    #[test]
    fn a_colour_frame_reads_as_luma() {
        let frame = Frame::rgb(RgbImage::from_pixel(2, 2, Rgb([255, 255, 255])), Duration::ZERO);
        assert_eq!(frame.to_luma().get_pixel(1, 1), &Luma([255]));
        assert_eq!((frame.width(), frame.height()), (2, 2));
    }

    #[test]
    fn an_image_file_without_colour_stays_greyscale() {
        let grey = DynamicImage::ImageLuma8(GrayImage::new(3, 1));
        assert!(matches!(
            Frame::from_image(grey, Duration::ZERO).image(),
            FrameImage::Luma(_)
        ));
        let colour = DynamicImage::ImageRgb8(RgbImage::new(3, 1));
        assert!(matches!(
            Frame::from_image(colour, Duration::ZERO).image(),
            FrameImage::Rgb(_)
        ));
    }

    #[test]
    fn the_no_camera_message_tells_what_to_do_instead() {
        assert_eq!(
            CameraError::NoCamera.to_string(),
            "No camera was found. Connect a webcam, or add the contact from a link or an image file."
        );
    }
}
