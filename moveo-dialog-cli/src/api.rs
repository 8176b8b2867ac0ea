//! `moveo-dialog api`: the custom-integration REST API, one subcommand per call.

use std::path::Path;

use bytes::Bytes;
use moveo_dialog::client::{
    AgentMessageIn, Attachment, Client, ClientError, ClientErrorKind, CreateSession, SessionContext, UserMessage,
};
use serde::Serialize;
use serde_json::json;

use crate::cli::{ApiArgs, ApiCall};
use crate::failure::Failure;
use crate::http;

pub(crate) async fn run(args: ApiArgs) -> Result<(), Failure> {
    let missing = |what: &str, var: &str| Failure::Input(format!("no {what}: pass --{what} or set {var}"));
    let api_key = args.api_key.filter(|key| !key.is_empty()).ok_or_else(|| missing("api-key", "MOVEO_API_KEY"))?;
    let integration = args
        .integration_id
        .filter(|id| !id.is_empty())
        .ok_or_else(|| missing("integration-id", "MOVEO_INTEGRATION_ID"))?;
    let client = Client::with_timeout(api_key, integration, http::timeout(args.timeout)?)
        .map_err(|err| Failure::Input(err.to_string()))?
        .base_url(args.base);
    match args.call {
        ApiCall::CreateSession { external_session_id, channel_user_id, context } => {
            let mut request = CreateSession::new();
            if let Some(id) = external_session_id {
                request = request.external_session_id(id);
            }
            if let Some(id) = channel_user_id {
                request = request.channel_user_id(id);
            }
            if let Some(context) = context {
                request = request.context(parse_json("--context", &context)?);
            }
            print(client.create_session(&request).await)
        }
        ApiCall::UpdateContext { session, context } => {
            let context: SessionContext = parse_json("--context", &context)?;
            print(client.update_context(&session.session, &context).await)
        }
        ApiCall::CloseSession(session) => print(client.close_session(&session.session).await),
        ApiCall::SendMessage { session, text, attachments } => {
            let mut message = UserMessage::default();
            message.input.text = text;
            for attachment in attachments {
                message = message.attachment(parse_json::<Attachment>("--attachment", &attachment)?);
            }
            print(client.send_message(&session.session, &message).await)
        }
        ApiCall::SendAgentMessage { session, text, agent_id, agent_name, agent_avatar } => {
            let mut message = AgentMessageIn::new(text, agent_id, agent_name);
            message.agent.agent_avatar = agent_avatar;
            print(client.send_agent_message(&session.session, &message).await)
        }
        ApiCall::MarkRead(session) => print(client.mark_read(&session.session).await),
        ApiCall::MarkDelivered(session) => print(client.mark_delivered(&session.session).await),
        ApiCall::CloseConversation(session) => print(client.close_conversation(&session.session).await),
        ApiCall::ReopenConversation(session) => print(client.reopen_conversation(&session.session).await),
        ApiCall::Handover(session) => print(client.handover(&session.session).await),
        ApiCall::UploadFile { session, file, content_type, filename } => {
            let bytes = crate::request::read_input(&file)?;
            let size = bytes.len();
            let filename = filename.unwrap_or_else(|| file_name(&file));
            let file_id = client
                .upload_file(&session.session, &filename, &content_type, Bytes::from(bytes))
                .await
                .map_err(failure)?;
            print::<_>(Ok(
                json!({ "file_id": file_id, "filename": filename, "content_type": content_type, "bytes": size }),
            ))
        }
        ApiCall::DownloadFile { session, file_id, out } => {
            let bytes = client.download_file(&session.session, &file_id).await.map_err(failure)?;
            match out {
                Some(path) => {
                    std::fs::write(&path, &bytes)
                        .map_err(|err| Failure::Input(format!("cannot write {}: {err}", path.display())))?;
                    print::<_>(Ok(json!({ "file_id": file_id, "path": path, "bytes": bytes.len() })))
                }
                None => {
                    use std::io::Write;
                    std::io::stdout()
                        .write_all(&bytes)
                        .map_err(|err| Failure::Input(format!("cannot write to stdout: {err}")))
                }
            }
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| "upload".to_owned(), |name| name.to_string_lossy().into_owned())
}

fn parse_json<T: serde::de::DeserializeOwned>(flag: &str, text: &str) -> Result<T, Failure> {
    serde_json::from_str(text).map_err(|err| Failure::Input(format!("{flag}: {err}")))
}

fn print<T: Serialize>(answer: Result<T, ClientError>) -> Result<(), Failure> {
    let answer = answer.map_err(failure)?;
    let value = serde_json::to_value(&answer).map_err(|err| Failure::Check(err.to_string()))?;
    println!("{}", crate::replay::pretty(&value).trim_end());
    Ok(())
}

/// An API error is the server's answer (exit 1); a timeout or a refused connection is not (exit 3).
fn failure(err: ClientError) -> Failure {
    match err.kind() {
        ClientErrorKind::Timeout => Failure::Unreachable(err.to_string()),
        ClientErrorKind::Transport(inner) => {
            Failure::Unreachable(format!("{}: cannot reach the API: {}", err.call(), http::root_cause(inner)))
        }
        ClientErrorKind::Invalid(_) => Failure::Input(err.to_string()),
        _ => Failure::Check(err.to_string()),
    }
}
