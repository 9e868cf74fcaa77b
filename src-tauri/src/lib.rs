//! The Tallymesh desktop app: a window over a running node.
//!
//! This crate is a thin shell. [`run`] chooses the data directory, starts
//! logging and the node, opens the main window and passes every node event
//! on to it. The window's commands call the node's API and map its errors
//! to an [`ApiError`]. What a node is and does lives in `tallymesh-node`.

mod bindings;
mod commands;
mod data_dir;
mod error;
mod events;
mod links;
mod node;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tallymesh_node::{DataDir, logging};
use tauri::{App, Manager, RunEvent, WebviewUrl, WebviewWindowBuilder};

pub use error::{ApiError, ApiErrorCode};

use crate::commands::contacts::ScanState;
use crate::links::PendingLinks;
use crate::node::NodeState;

/// The label of the one window; the capabilities name it.
const MAIN_WINDOW: &str = "main";

/// Runs the app until its window closes. Each instance uses one data
/// directory (see `--data-dir`); if its node cannot start, the window still
/// opens and shows why.
pub fn run() -> ExitCode {
    let data_dir = data_dir::choose(
        std::env::args_os().skip(1),
        std::env::var_os(data_dir::DATA_DIR_ENV),
        DataDir::default_path,
    );
    let _log = logging::init(data_dir.as_deref().ok());
    match &data_dir {
        Ok(dir) => tracing::info!(
            version = tallymesh_node::VERSION,
            data_dir = %dir.display(),
            log_dir = %data_dir::log_dir(dir).display(),
            "Tallymesh starting"
        ),
        Err(error) => tracing::error!(
            version = tallymesh_node::VERSION,
            "Tallymesh starting without a node: {error}"
        ),
    }

    let links = links::links_in_args(std::env::args_os().skip(1));
    if let Ok(dir) = &data_dir
        && tauri::async_runtime::block_on(links::pass_to_running(dir, &links))
    {
        // The app already runs for this data directory and has the links.
        return ExitCode::SUCCESS;
    }

    let bindings = bindings::builder();
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_deep_link::init())
        .invoke_handler(bindings.invoke_handler())
        .setup(move |app| {
            bindings.mount_events(app);
            setup(app, data_dir, links)?;
            Ok(())
        })
        .build(tauri::generate_context!("tauri.conf.json"));
    let app = match app {
        Ok(app) => app,
        Err(error) => {
            tracing::error!("the window could not open: {error}");
            return ExitCode::FAILURE;
        }
    };

    app.run(|app, event| {
        if let RunEvent::Exit = event
            && let Some(node) = app.try_state::<NodeState>()
        {
            // The window is gone; stop the network and close the database
            // before the process ends.
            tauri::async_runtime::block_on(node.shutdown());
        }
    });
    ExitCode::SUCCESS
}

/// Starts the node (or records why it could not start), opens the window
/// and connects the two.
fn setup(app: &mut App, data_dir: Result<PathBuf, data_dir::DataDirError>, links: Vec<String>) -> tauri::Result<()> {
    let node = match &data_dir {
        Ok(dir) => tauri::async_runtime::block_on(NodeState::start(
            dir,
            data_dir::lan_discovery(std::env::args_os().skip(1)),
        )),
        Err(error) => NodeState::Unavailable(error.to_string()),
    };
    let events = match &node {
        NodeState::Running(running) => Some(running.events()),
        NodeState::Unavailable(_) => None,
    };
    app.manage(node);
    app.manage(PendingLinks::new(links));
    app.manage(ScanState::default());
    receive_links(app);

    open_main_window(app, data_dir.as_deref().ok())?;
    if let Some(events) = events {
        node::forward_events(app.handle().clone(), MAIN_WINDOW, events);
    }
    stop_on_signals(app);
    Ok(())
}

/// Links the system hands to the running app (macOS) go to the node, which
/// announces them to the window; without a node they wait for the window.
fn receive_links(app: &App) {
    use tauri_plugin_deep_link::DeepLinkExt as _;
    let handle = app.handle().clone();
    app.deep_link().on_open_url(move |event| {
        for url in event.urls() {
            let link = url.to_string();
            match handle.state::<NodeState>().running() {
                Ok(node) => {
                    if let Err(error) = node.open_link(&link) {
                        tracing::warn!("an opened link was refused: {error}");
                    }
                }
                Err(_) => handle.state::<PendingLinks>().push(link),
            }
        }
    });
}

/// The main window. Its webview keeps its storage (the theme, the sidebar)
/// in the data directory, so two instances never share it.
fn open_main_window(app: &App, data_dir: Option<&Path>) -> tauri::Result<()> {
    let mut window = WebviewWindowBuilder::new(app, MAIN_WINDOW, WebviewUrl::default())
        .title("Tallymesh")
        .inner_size(1200.0, 780.0)
        .min_inner_size(900.0, 600.0)
        .center();
    if let Some(dir) = data_dir.and_then(data_dir::webview_dir) {
        window = window.data_directory(dir);
    }
    window.build()?;
    Ok(())
}

/// Ctrl-C and SIGTERM end the app as closing its window does, so the node
/// shuts down cleanly.
fn stop_on_signals(app: &App) {
    let app = app.handle().clone();
    tauri::async_runtime::spawn(async move {
        wait_for_stop_signal().await;
        tracing::info!("stop signal received");
        app.exit(0);
    });
}

#[cfg(unix)]
async fn wait_for_stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let terminate = async {
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(error) => {
                tracing::warn!("cannot watch for SIGTERM: {error}");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt() => {}
        () = terminate => {}
    }
}

#[cfg(not(unix))]
async fn wait_for_stop_signal() {
    interrupt().await;
}

/// Returns on Ctrl-C; never, if Ctrl-C cannot be watched.
async fn interrupt() {
    if let Err(error) = tokio::signal::ctrl_c().await {
        tracing::warn!("cannot watch for Ctrl-C: {error}");
        std::future::pending::<()>().await;
    }
}
