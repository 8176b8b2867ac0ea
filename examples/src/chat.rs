//! A terminal chat with a Moveo agent over the custom integration: receives the agent's
//! replies at `POST /events`, creates a session, sends each input line as a user message and
//! prints each bot text as `bot: TEXT` (options as `  [LABEL]`). At the end of the input it
//! waits until one `message:brain_send` has arrived per line sent (or 10 s), closes the session
//! and returns.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use moveo_dialog::Server;
use moveo_dialog::client::{Client, CreateSession, UserMessage};
use moveo_dialog::events::{Event, EventKind, EventType, EventsReceiver, OutputResponse};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::required_env;

/// How long the chat waits for the last replies at the end of the input.
pub const DRAIN_WAIT: Duration = Duration::from_secs(10);

/// The chat's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `MOVEO_API_KEY`.
    pub api_key: String,
    /// `MOVEO_INTEGRATION_ID`.
    pub integration_id: String,
    /// `MOVEO_WEBHOOK_SECRET`.
    pub webhook_secret: String,
    /// `MOVEO_API_BASE` (default Moveo's API).
    pub api_base: String,
}

impl Settings {
    /// From the environment.
    ///
    /// # Errors
    ///
    /// The sentence to print when a required variable is missing.
    pub fn from_env() -> Result<Self, String> {
        Ok(Self {
            api_key: required_env("MOVEO_API_KEY", "set it to your custom integration's API key")?,
            integration_id: required_env("MOVEO_INTEGRATION_ID", "set it to your custom integration's id")?,
            webhook_secret: required_env(
                "MOVEO_WEBHOOK_SECRET",
                "set it to your custom integration's webhook secret; the replies are checked against it",
            )?,
            api_base: std::env::var("MOVEO_API_BASE")
                .unwrap_or_else(|_| moveo_dialog::client::DEFAULT_BASE_URL.to_owned()),
        })
    }
}

/// The lines printed for one `message:brain_send` event.
#[must_use]
pub fn render(event: &Event) -> Vec<String> {
    let EventKind::MessageBrainSend(send) = &event.kind else { return Vec::new() };
    let mut lines = Vec::new();
    for response in &send.output.responses {
        if let OutputResponse::Text(text) = response {
            lines.push(format!("bot: {}", text.text));
            lines.extend(text.options.iter().map(|option| format!("  [{}]", option.label)));
        }
    }
    lines
}

/// Runs the chat: the webhook on `listener`, the input from `input`, the transcript to `output`.
///
/// # Errors
///
/// The sentence to print when the session cannot be created or a message cannot be sent.
pub async fn run<R, W>(settings: Settings, listener: TcpListener, input: R, output: Arc<Mutex<W>>) -> Result<(), String>
where
    R: AsyncBufRead + Unpin,
    W: Write + Send + 'static,
{
    let session: Arc<OnceLock<String>> = Arc::default();
    let received = Arc::new(AtomicUsize::new(0));
    let receiver =
        EventsReceiver::new().webhook_secret(settings.webhook_secret.clone()).on(EventType::MessageBrainSend, {
            let (session, received, output) = (Arc::clone(&session), Arc::clone(&received), Arc::clone(&output));
            move |event: Event| {
                if session.get().is_some_and(|id| *id == event.session_id) {
                    let mut out = output.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    for line in render(&event) {
                        let _ = writeln!(out, "{line}");
                    }
                    let _ = out.flush();
                    received.fetch_add(1, Ordering::SeqCst);
                }
                async {}
            }
        });
    let address: SocketAddr = listener.local_addr().map_err(|err| err.to_string())?;
    tracing::info!("chat: receiving events at POST http://{address}/events");
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(Server::new(receiver).serve_with_shutdown(listener, async {
        let _ = stopped.await;
    }));

    let client = Client::new(&settings.api_key, &settings.integration_id)
        .map_err(|err| err.to_string())?
        .base_url(&settings.api_base);
    let created = client
        .create_session(&CreateSession::new().external_session_id(format!("moveo-dialog-chat-{}", std::process::id())))
        .await
        .map_err(|err| err.to_string())?;
    let _ = session.set(created.session_id.clone());

    let mut sent = 0;
    let mut lines = input.lines();
    while let Some(line) = lines.next_line().await.map_err(|err| format!("cannot read the input: {err}"))? {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        client.send_message(&created.session_id, &UserMessage::text(line)).await.map_err(|err| err.to_string())?;
        sent += 1;
    }

    let deadline = tokio::time::Instant::now() + DRAIN_WAIT;
    while received.load(Ordering::SeqCst) < sent && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if received.load(Ordering::SeqCst) < sent {
        tracing::warn!(sent, received = received.load(Ordering::SeqCst), "not every message got its reply in time");
    }
    client.close_session(&created.session_id).await.map_err(|err| err.to_string())?;
    let _ = stop.send(());
    let _ = server.await;
    Ok(())
}
