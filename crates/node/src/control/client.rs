//! Talking to a running node's control endpoint.

use std::path::{Path, PathBuf};

use thiserror::Error;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

use super::wire::{CONTROL_VERSION, Call, FailureCode, MAX_LINE_BYTES, Outcome, Request, Response};
use crate::NodeStatus;

/// Why a control call failed.
#[derive(Debug, Error)]
pub enum ControlError {
    /// Nothing answers at the data directory's endpoint.
    #[error(
        "no Tallymesh node is running with the data directory {} — start one with `tallymesh node run --data-dir {}`",
        data_dir.display(),
        data_dir.display()
    )]
    NotRunning {
        /// The data directory asked about.
        data_dir: PathBuf,
    },
    /// The connection broke.
    #[error("lost the connection to the node: {0}")]
    Io(String),
    /// The node answered something this client cannot read.
    #[error("the node's answer could not be read: {0}")]
    Protocol(String),
    /// The node refused or failed the call.
    #[error("{message}")]
    Refused {
        /// What kind of failure.
        code: FailureCode,
        /// The node's explanation.
        message: String,
    },
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A connection to a running node's control endpoint.
pub struct ControlClient {
    stream: BufReader<Box<dyn Stream>>,
    next_id: u64,
}

impl std::fmt::Debug for ControlClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlClient").field("next_id", &self.next_id).finish()
    }
}

impl ControlClient {
    /// Connects to the node using `data_dir`.
    pub async fn connect(data_dir: &Path) -> Result<ControlClient, ControlError> {
        let path = super::endpoint_path(data_dir);
        let not_running = || ControlError::NotRunning {
            data_dir: data_dir.to_owned(),
        };
        #[cfg(unix)]
        let stream: Box<dyn Stream> = Box::new(
            tokio::net::UnixStream::connect(&path)
                .await
                .map_err(|_| not_running())?,
        );
        #[cfg(windows)]
        let stream: Box<dyn Stream> = Box::new(
            tokio::net::windows::named_pipe::ClientOptions::new()
                .open(&path)
                .map_err(|_| not_running())?,
        );
        Ok(ControlClient {
            stream: BufReader::new(stream),
            next_id: 1,
        })
    }

    /// The node's status.
    pub async fn status(&mut self) -> Result<NodeStatus, ControlError> {
        let value = self.call(Call::Status).await?;
        serde_json::from_value(value).map_err(|e| ControlError::Protocol(e.to_string()))
    }

    /// Sends one call and waits for its answer.
    pub async fn call(&mut self, call: Call) -> Result<serde_json::Value, ControlError> {
        let id = self.next_id;
        self.next_id += 1;
        let request = Request {
            v: CONTROL_VERSION,
            id,
            call,
        };
        let mut line = serde_json::to_vec(&request).map_err(|e| ControlError::Protocol(e.to_string()))?;
        line.push(b'\n');
        let io = |e: std::io::Error| ControlError::Io(e.to_string());
        self.stream.get_mut().write_all(&line).await.map_err(io)?;

        let mut answer = Vec::new();
        (&mut self.stream)
            .take(MAX_LINE_BYTES as u64 * 16)
            .read_until(b'\n', &mut answer)
            .await
            .map_err(io)?;
        if answer.is_empty() {
            return Err(ControlError::Io("the node closed the connection".to_owned()));
        }
        let response: Response = serde_json::from_slice(&answer).map_err(|e| ControlError::Protocol(e.to_string()))?;
        if response.id != id && response.id != 0 {
            return Err(ControlError::Protocol(format!(
                "answer to request {} arrived for request {id}",
                response.id
            )));
        }
        match response.outcome {
            Outcome::Ok(value) => Ok(value),
            Outcome::Err(failure) => Err(ControlError::Refused {
                code: failure.code,
                message: failure.message,
            }),
        }
    }
}
