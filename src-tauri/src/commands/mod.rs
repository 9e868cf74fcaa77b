//! The commands the window may call, one module per domain. Each is a few
//! lines: call the node's API, map its errors to [`crate::ApiError`].

pub mod node;
