//! The wire framing of requests and responses: one CBOR byte string per
//! message, read with its size limit checked before any payload byte.
//!
//! ```
//! use tallymesh_net::FrameError;
//!
//! // What a reader says about a request announcing 2 MiB where 64 KiB are allowed:
//! let error = FrameError::TooLarge { declared: 2 << 20, limit: 64 << 10 };
//! assert_eq!(error.to_string(), "the message declares 2097152 bytes; the limit is 65536");
//! ```
//!
//! A message on a request-response stream is exactly one CBOR data item of
//! major type 2 (byte string) with a definite length in its shortest form
//! (RFC 8949 §4.2.1), followed by the end of the stream. The payload inside
//! is the node's own (deterministic CBOR) message; this layer never looks at
//! it. The reader:
//!
//! 1. reads the 1 to 9 header bytes and refuses anything but a shortest-form
//!    definite-length byte string;
//! 2. compares the declared length with the protocol's limit and stops if it
//!    is larger, having read nothing more;
//! 3. reads the payload through a reader capped at the declared length,
//!    growing its buffer only as bytes arrive, so a peer that declares much
//!    and sends little costs little;
//! 4. checks that the stream ends right after the payload.
//!
//! A refused message is not an I/O error: the codec returns it as
//! `Err(FrameError)` inside the request or response, so the event loop
//! learns which peer sent it and can report the misbehaviour.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use libp2p::request_response::Codec;
use thiserror::Error;

/// CBOR major type 2, byte string, in the top three bits of the initial byte.
const MAJOR_BYTE_STRING: u8 = 2;
/// The payload is read in steps of at most this many bytes, so the buffer
/// grows with what actually arrives.
const READ_STEP: usize = 16 * 1024;

/// Why an incoming request or response was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    /// The header declares more bytes than the protocol allows; nothing
    /// after the header was read.
    #[error("the message declares {declared} bytes; the limit is {limit}")]
    TooLarge {
        /// The length in the header.
        declared: u64,
        /// The protocol's limit for this direction.
        limit: usize,
    },
    /// The first byte is not the start of a CBOR byte string.
    #[error("the message is not a CBOR byte string (initial byte {initial_byte:#04x})")]
    NotAByteString {
        /// The byte received.
        initial_byte: u8,
    },
    /// An indefinite-length byte string; only definite lengths are allowed.
    #[error("the message has an indefinite length")]
    IndefiniteLength,
    /// The header uses a reserved length encoding (additional information 28 to 30).
    #[error("the message header uses the reserved length encoding {additional_info}")]
    ReservedLength {
        /// The low five bits of the initial byte.
        additional_info: u8,
    },
    /// The length is not written in its shortest form.
    #[error("the message length is not in its shortest form")]
    NonMinimalLength,
    /// The stream ended inside the header.
    #[error("the stream ended inside the message header")]
    TruncatedHeader,
    /// The stream ended before the declared number of payload bytes.
    #[error("the message declares {declared} bytes but only {received} arrived")]
    Truncated {
        /// The length in the header.
        declared: u64,
        /// The bytes that arrived.
        received: u64,
    },
    /// More bytes follow the message on the stream.
    #[error("bytes follow the message")]
    TrailingBytes,
}

/// A message as the codec hands it over: the payload, or why it was refused.
pub(crate) type Frame = Result<Vec<u8>, FrameError>;

/// Reads and writes [`Frame`]s with one limit per direction; one codec per
/// protocol.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FrameCodec {
    max_request_bytes: usize,
    max_response_bytes: usize,
}

impl FrameCodec {
    pub(crate) fn new(max_request_bytes: usize, max_response_bytes: usize) -> Self {
        FrameCodec {
            max_request_bytes,
            max_response_bytes,
        }
    }
}

impl Codec for FrameCodec {
    type Protocol = StreamProtocol;
    type Request = Frame;
    type Response = Frame;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Frame>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, self.max_request_bytes).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Frame>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, self.max_response_bytes).await
    }

    async fn write_request<T>(&mut self, _: &StreamProtocol, io: &mut T, request: Frame) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, request, self.max_request_bytes).await
    }

    async fn write_response<T>(&mut self, _: &StreamProtocol, io: &mut T, response: Frame) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, response, self.max_response_bytes).await
    }
}

/// The shortest CBOR header of a byte string of `len` bytes.
pub(crate) fn header(len: u64) -> Vec<u8> {
    let major = MAJOR_BYTE_STRING << 5;
    match len {
        0..=23 => vec![major | len as u8],
        24..=0xff => vec![major | 24, len as u8],
        0x100..=0xffff => {
            let mut h = vec![major | 25];
            h.extend_from_slice(&(len as u16).to_be_bytes());
            h
        }
        0x1_0000..=0xffff_ffff => {
            let mut h = vec![major | 26];
            h.extend_from_slice(&(len as u32).to_be_bytes());
            h
        }
        _ => {
            let mut h = vec![major | 27];
            h.extend_from_slice(&len.to_be_bytes());
            h
        }
    }
}

/// Writes one frame. Refusals are never sent and payloads over `limit`
/// never leave: both are caller errors, reported as `InvalidInput`.
pub(crate) async fn write_frame<T>(io: &mut T, frame: Frame, limit: usize) -> io::Result<()>
where
    T: AsyncWrite + Unpin,
{
    let payload = frame.map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    if payload.len() > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            FrameError::TooLarge {
                declared: payload.len() as u64,
                limit,
            },
        ));
    }
    io.write_all(&header(payload.len() as u64)).await?;
    io.write_all(&payload).await?;
    io.flush().await
}

/// Reads one frame of at most `limit` payload bytes, then expects the end
/// of the stream.
///
/// Returns `Err` only for I/O failures and for a stream that ends before
/// its first byte (a peer that answers nothing); everything a peer can get
/// wrong comes back as `Ok(Err(FrameError))`.
pub(crate) async fn read_frame<T>(io: &mut T, limit: usize) -> io::Result<Frame>
where
    T: AsyncRead + Unpin,
{
    let mut initial = [0u8; 1];
    if read_full(io, &mut initial).await? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the stream ended before a message",
        ));
    }
    let declared = match read_length(io, initial[0]).await? {
        Ok(declared) => declared,
        Err(refused) => return Ok(Err(refused)),
    };
    if declared > limit as u64 {
        return Ok(Err(FrameError::TooLarge { declared, limit }));
    }
    // `declared <= limit`, a usize, so the conversion is exact.
    let declared_len = declared as usize;
    let mut payload = Vec::with_capacity(declared_len.min(READ_STEP));
    while payload.len() < declared_len {
        let step = (declared_len - payload.len()).min(READ_STEP);
        let start = payload.len();
        payload.resize(start + step, 0);
        let got = read_full(io, &mut payload[start..]).await?;
        payload.truncate(start + got);
        if got < step {
            return Ok(Err(FrameError::Truncated {
                declared,
                received: payload.len() as u64,
            }));
        }
    }
    let mut after = [0u8; 1];
    if read_full(io, &mut after).await? != 0 {
        return Ok(Err(FrameError::TrailingBytes));
    }
    Ok(Ok(payload))
}

/// Reads the length that follows `initial`, refusing anything but a
/// shortest-form definite-length byte string.
async fn read_length<T>(io: &mut T, initial: u8) -> io::Result<Result<u64, FrameError>>
where
    T: AsyncRead + Unpin,
{
    if initial >> 5 != MAJOR_BYTE_STRING {
        return Ok(Err(FrameError::NotAByteString { initial_byte: initial }));
    }
    let additional_info = initial & 0x1f;
    let (width, smallest) = match additional_info {
        0..=23 => return Ok(Ok(u64::from(additional_info))),
        24 => (1, 24),
        25 => (2, 0x100),
        26 => (4, 0x1_0000),
        27 => (8, 0x1_0000_0000),
        31 => return Ok(Err(FrameError::IndefiniteLength)),
        _ => return Ok(Err(FrameError::ReservedLength { additional_info })),
    };
    let mut bytes = [0u8; 8];
    if read_full(io, &mut bytes[8 - width..]).await? < width {
        return Ok(Err(FrameError::TruncatedHeader));
    }
    let len = u64::from_be_bytes(bytes);
    if len < smallest {
        return Ok(Err(FrameError::NonMinimalLength));
    }
    Ok(Ok(len))
}

/// Fills `buf` unless the stream ends first; returns how many bytes arrived.
async fn read_full<T>(io: &mut T, buf: &mut [u8]) -> io::Result<usize>
where
    T: AsyncRead + Unpin,
{
    let mut filled = 0;
    while filled < buf.len() {
        match io.read(&mut buf[filled..]).await {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use futures::executor::block_on;
    use futures::io::Cursor;
    use proptest::prelude::*;

    use super::*;

    /// A reader over fixed bytes that counts what was taken from it.
    struct Counting {
        inner: Cursor<Vec<u8>>,
        taken: usize,
    }

    impl Counting {
        fn new(bytes: Vec<u8>) -> Self {
            Counting {
                inner: Cursor::new(bytes),
                taken: 0,
            }
        }
    }

    impl AsyncRead for Counting {
        fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
            let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
            if let Poll::Ready(Ok(n)) = poll {
                self.taken += n;
            }
            poll
        }
    }

    fn encode(payload: &[u8]) -> Vec<u8> {
        let mut bytes = header(payload.len() as u64);
        bytes.extend_from_slice(payload);
        bytes
    }

    fn read(bytes: Vec<u8>, limit: usize) -> (io::Result<Frame>, usize) {
        let mut reader = Counting::new(bytes);
        let frame = block_on(read_frame(&mut reader, limit));
        (frame, reader.taken)
    }

    #[test]
    fn headers_are_the_shortest_cbor_form() {
        assert_eq!(header(0), vec![0x40]);
        assert_eq!(header(23), vec![0x57]);
        assert_eq!(header(24), vec![0x58, 24]);
        assert_eq!(header(256), vec![0x59, 1, 0]);
        assert_eq!(header(65_536), vec![0x5a, 0, 1, 0, 0]);
        assert_eq!(header(1 << 32), vec![0x5b, 0, 0, 0, 1, 0, 0, 0, 0]);
    }

    #[test]
    fn a_huge_declared_length_is_refused_after_the_header() {
        let mut bytes = vec![0x5b];
        bytes.extend_from_slice(&u64::MAX.to_be_bytes());
        bytes.extend_from_slice(&[0; 100]);
        let (frame, taken) = read(bytes, 1024);
        assert_eq!(
            frame.unwrap(),
            Err(FrameError::TooLarge {
                declared: u64::MAX,
                limit: 1024
            })
        );
        assert_eq!(taken, 9);
    }

    #[test]
    fn malformed_headers_say_what_is_wrong() {
        let cases: [(&[u8], FrameError); 6] = [
            (&[0x01], FrameError::NotAByteString { initial_byte: 0x01 }),
            (&[0x61, b'a'], FrameError::NotAByteString { initial_byte: 0x61 }),
            (&[0x5f, 0x41, 0, 0xff], FrameError::IndefiniteLength),
            (&[0x5c], FrameError::ReservedLength { additional_info: 28 }),
            (&[0x58, 5, 1, 2, 3, 4, 5], FrameError::NonMinimalLength),
            (&[0x59, 1], FrameError::TruncatedHeader),
        ];
        for (bytes, expected) in cases {
            assert_eq!(read(bytes.to_vec(), 1024).0.unwrap(), Err(expected), "{bytes:?}");
        }
    }

    #[test]
    fn a_short_or_overlong_body_is_refused() {
        assert_eq!(
            read(vec![0x45, b'h', b'i'], 1024).0.unwrap(),
            Err(FrameError::Truncated {
                declared: 5,
                received: 2
            })
        );
        assert_eq!(
            read(vec![0x42, 1, 2, 3], 1024).0.unwrap(),
            Err(FrameError::TrailingBytes)
        );
    }

    #[test]
    fn an_empty_stream_is_an_io_error_not_a_refusal() {
        let error = read(Vec::new(), 1024).0.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn writing_refuses_payloads_over_the_limit() {
        let mut out = Vec::new();
        let error = block_on(write_frame(&mut out, Ok(vec![0; 11]), 10)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert!(out.is_empty());
        block_on(write_frame(&mut out, Ok(vec![7; 10]), 10)).unwrap();
        assert_eq!(out, encode(&[7; 10]));
    }

    proptest! {
        #[test]
        fn payloads_within_the_limit_round_trip(payload in proptest::collection::vec(any::<u8>(), 0..2048), slack in 0usize..64) {
            let limit = payload.len() + slack;
            let mut out = Vec::new();
            block_on(write_frame(&mut out, Ok(payload.clone()), limit)).unwrap();
            let (frame, taken) = read(out.clone(), limit);
            prop_assert_eq!(frame.unwrap(), Ok(payload));
            prop_assert_eq!(taken, out.len());
        }

        #[test]
        fn payloads_over_the_limit_are_refused_after_the_header(len in 1u64..u64::MAX, below in 1u64..4096) {
            let limit = len.saturating_sub(below) as usize;
            let head = header(len);
            let mut bytes = head.clone();
            bytes.extend_from_slice(&[0xaa; 64]);
            let (frame, taken) = read(bytes, limit);
            prop_assert_eq!(frame.unwrap(), Err(FrameError::TooLarge { declared: len, limit }));
            prop_assert_eq!(taken, head.len());
        }

        #[test]
        fn arbitrary_bytes_never_panic_nor_read_past_the_limit(bytes in proptest::collection::vec(any::<u8>(), 0..512), limit in 0usize..256) {
            let (frame, taken) = read(bytes.clone(), limit);
            // Header (at most 9 bytes), payload (at most `limit`), one byte
            // to look for the end of the stream.
            prop_assert!(taken <= 9 + limit + 1);
            if let Ok(Ok(payload)) = frame {
                prop_assert!(payload.len() <= limit);
                prop_assert_eq!(encode(&payload), bytes);
            }
        }
    }
}
