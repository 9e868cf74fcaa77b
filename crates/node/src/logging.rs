//! Logging for the desktop app and the headless node: human-readable lines
//! on stderr, and the same lines in daily-rotated files in the data
//! directory's `logs/` folder (the last seven days are kept).
//!
//! Never log secrets or message text: spans carry ids, not contents.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::MakeWriterExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Log files kept before the oldest is deleted.
const KEPT_LOG_FILES: usize = 7;

/// The filter used when `RUST_LOG` is not set.
const DEFAULT_FILTER: &str = "info,sqlx=warn,libp2p=warn";

/// Keeps the file writer flushing; drop it last, when the program ends.
#[derive(Debug)]
#[must_use = "logs to the file stop when the guard is dropped"]
pub struct LogGuard {
    _file: Option<WorkerGuard>,
}

/// Sends logs to stderr and, if `data_dir` is given and its `logs/` folder
/// can be created, to rotating files there. `RUST_LOG` overrides the
/// default level. Calling it twice in one process keeps the first setup.
pub fn init(data_dir: Option<&Path>) -> LogGuard {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr.with_max_level(tracing::Level::TRACE))
        .with_target(false);

    let (file_layer, guard, problem) = match data_dir.map(file_appender) {
        Some(Ok(appender)) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(false);
            (Some(layer), Some(guard), None)
        }
        Some(Err(problem)) => (None, None, Some(problem)),
        None => (None, None, None),
    };
    let installed = tracing_subscriber::registry()
        .with(filter())
        .with(stderr)
        .with(file_layer)
        .try_init()
        .is_ok();
    if let (true, Some(problem)) = (installed, problem) {
        tracing::warn!("logging to stderr only: {problem}");
    }
    LogGuard { _file: guard }
}

fn file_appender(data_dir: &Path) -> Result<tracing_appender::rolling::RollingFileAppender, String> {
    // The data directory is private to the user; create it so before the
    // log folder inside it, not with create_dir_all's default permissions.
    crate::data_dir::create_private_dir(data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    let dir = crate::data_dir::log_dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Builder::new()
        .rotation(Rotation::DAILY)
        .filename_prefix("tallymesh")
        .filename_suffix("log")
        .max_log_files(KEPT_LOG_FILES)
        .build(&dir)
        .map_err(|e| format!("cannot open a log file in {}: {e}", dir.display()))
}
