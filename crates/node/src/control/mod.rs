//! The local control endpoint: how the `tallymesh` command drives a node
//! that is already running, headless or inside the desktop app.
//!
//! The endpoint lives in the data directory: a Unix socket `control.sock`
//! (mode 0600, in a directory only the user can enter) or, on Windows, a
//! named pipe derived from the directory's path. Requests and responses
//! are single lines of JSON; `docs/protocol/control.md` describes them.
//!
//! ```no_run
//! # async fn example() -> Result<(), tallymesh_node::control::ControlError> {
//! use tallymesh_node::control::ControlClient;
//!
//! let mut client = ControlClient::connect("/tmp/alice".as_ref()).await?;
//! let status = client.status().await?;
//! println!("node {} up for {} s", status.peer_id, status.uptime_secs);
//! # Ok(()) }
//! ```

mod client;
mod server;
mod wire;

pub use client::{ControlClient, ControlError};
pub(crate) use server::ControlServer;
pub use wire::{
    CONTROL_VERSION, Call, Failure, FailureCode, InviteRequest, MAX_LINE_BYTES, Outcome, Request, Response,
};

use std::path::{Path, PathBuf};

/// Where the control endpoint of the node using `data_dir` listens.
#[cfg(unix)]
pub fn endpoint_path(data_dir: &Path) -> PathBuf {
    data_dir.join("control.sock")
}

/// Where the control endpoint of the node using `data_dir` listens: a named
/// pipe whose name is derived from the directory's path.
#[cfg(windows)]
pub fn endpoint_path(data_dir: &Path) -> PathBuf {
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in data_dir.to_string_lossy().to_lowercase().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    PathBuf::from(format!(r"\\.\pipe\tallymesh-{hash:016x}"))
}
