//! The command line: every subcommand, its flags, and its help with an example.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  reached, but wrong: a non-2xx status, a reply that breaks the schema, a snapshot mismatch,
     an invalid document, an API error
  2  bad usage or input: unknown flag, unreadable file, malformed value
  3  could not reach the server: connection refused, DNS failure, timeout

Colour and progress only when the output is a terminal (NO_COLOR=1 turns colour off).";

/// Play Moveo against a local webhook server, validate, sign, call the API.
#[derive(Debug, Parser)]
#[command(name = "moveo-dialog", version, about, after_help = EXIT_CODES, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// Trust this PEM certificate (a private CA, or the server's self-signed certificate) for
    /// https:// URLs, besides the usual roots.
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) cacert: Option<PathBuf>,
    /// Accept any certificate for https:// URLs. For local development only: anyone on the
    /// path can then read and change the calls.
    #[arg(long, global = true)]
    pub(crate) insecure: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Send a dialog webhook call, signed as Moveo signs it, and show the reply.
    #[command(after_help = SEND_HELP)]
    Send(SendArgs),
    /// Send recorded request files and compare the replies with snapshots.
    #[command(after_help = REPLAY_HELP)]
    Replay(ReplayArgs),
    /// A recording proxy between Moveo and a local server: saves each call as a fixture.
    #[command(after_help = RECORD_HELP)]
    Record(RecordArgs),
    /// Check documents against the bundled JSON Schemas.
    #[command(after_help = VALIDATE_HELP)]
    Validate(ValidateArgs),
    /// Print the hex HMAC-SHA256 signature of the exact bytes of a file (or stdin).
    #[command(after_help = SIGN_HELP)]
    Sign(SignArgs),
    /// Send a signed custom-integration event, as Moveo delivers them.
    #[command(after_help = EVENT_HELP)]
    Event(EventArgs),
    /// Call the custom-integration REST API, one subcommand per call; prints the JSON answers.
    #[command(after_help = API_HELP)]
    Api(ApiArgs),
}

const SEND_HELP: &str = "\
Examples:
  moveo-dialog send http://127.0.0.1:8080/webhook --node plan_erasmus \\
      --context total_months=3 --context destination='\"England\"' --context total_expenses=500
  moveo-dialog send http://127.0.0.1:8080/webhook --intent erasmus:0.89 --text 'I want to go abroad'
  moveo-dialog send http://127.0.0.1:8080/webhook --from request.json --json | jq .

The token (--token or MOVEO_VERIFY_TOKEN) goes into the body's verify_token, and the final bytes
are signed with it in X-Moveo-Signature. Exit 0 only for a 200 whose reply matches the schema.";

const REPLAY_HELP: &str = "\
Examples:
  moveo-dialog replay http://127.0.0.1:8080/webhook fixtures/*.request.json
  moveo-dialog replay http://127.0.0.1:8080/webhook fixtures/*.request.json --expect fixtures --update
  moveo-dialog replay http://127.0.0.1:8080/webhook fixtures/*.request.json --expect fixtures

The snapshot of NAME.request.json (or NAME.json) is DIR/NAME.reply.json. Prints one line a file
and then `N passed, M failed`; exit 0 only when none failed.";

const RECORD_HELP: &str = "\
Example:
  moveo-dialog record --listen 127.0.0.1:9000 --forward http://127.0.0.1:8080/webhook --out fixtures
  # point Moveo's webhook (through a tunnel) at port 9000, talk to the agent, then:
  moveo-dialog replay http://127.0.0.1:8080/webhook fixtures/*.request.json --expect fixtures

Every call is forwarded unchanged and its answer returned unchanged. A call whose signature
verifies with the token is saved as NNNN-NODE.request.json (verify_token redacted, no
signature) and, for a 200, NNNN-NODE.reply.json. Stops on Ctrl-C or SIGTERM.";

const VALIDATE_HELP: &str = "\
Examples:
  moveo-dialog validate reply fixtures/*.reply.json
  curl -s ... | moveo-dialog validate reply -

Prints every violation as FILE: POINTER: reason; exit 0 when every file is valid.";

const SIGN_HELP: &str = "\
Examples:
  moveo-dialog sign --secret 123456789 body.json
  printf '%s' \"$BODY\" | MOVEO_VERIFY_TOKEN=change-me moveo-dialog sign
  moveo-dialog sign --secret-file token.txt body.json

The bytes are signed as they are: a trailing newline is part of them.";

const EVENT_HELP: &str = "\
Examples:
  moveo-dialog event http://127.0.0.1:8081/events --type message:brain_send --secret s3cr3t --text Hello
  moveo-dialog event http://127.0.0.1:8081/events --type session:closed --session sess-1

Types: message:brain_send message:send message:compose message:read message:delivered
conversation:member_join conversation:member_leave conversation:closed conversation:reopened
session:closed session:expired";

const API_HELP: &str = "\
Examples:
  export MOVEO_API_KEY=... MOVEO_INTEGRATION_ID=...
  moveo-dialog api create-session --external-session-id chat-1
  moveo-dialog api send-message --session SESSION_ID --text 'What plans do you offer?'
  moveo-dialog api upload-file --session SESSION_ID ./invoice.pdf --content-type application/pdf";

/// How long to wait for an answer, and where the token comes from: shared by send and replay.
#[derive(Debug, Args)]
pub(crate) struct DialogTarget {
    /// The webhook's verify token: put in the body and used to sign it (default: the request
    /// file's own `verify_token`, unless redacted).
    #[arg(long, env = "MOVEO_VERIFY_TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// Seconds to wait for the reply.
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub(crate) timeout: f64,
    /// `X-Moveo-Account-Id`.
    #[arg(long, default_value = "00000000-0000-4000-8000-000000000001", value_name = "ID")]
    pub(crate) account_id: String,
    /// `X-Moveo-Account-Slug`.
    #[arg(long, default_value = "local", value_name = "SLUG")]
    pub(crate) account_slug: String,
    /// A custom header, as configured on the webhook in Moveo (repeatable, at most 10).
    #[arg(long = "header", value_name = "NAME:VALUE")]
    pub(crate) headers: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// The webhook's URL, such as http://127.0.0.1:8080/webhook.
    pub(crate) url: String,
    /// A node of the dialog stack, outermost first (repeatable); the last one is the node whose
    /// webhook fires.
    #[arg(long = "node", value_name = "NAME")]
    pub(crate) nodes: Vec<String>,
    /// A recognised intent, with its confidence (default 1) (repeatable).
    #[arg(long = "intent", value_name = "NAME[:CONFIDENCE]")]
    pub(crate) intents: Vec<String>,
    /// A recognised entity (repeatable).
    #[arg(long = "entity", value_name = "NAME=VALUE")]
    pub(crate) entities: Vec<String>,
    /// What the user typed.
    #[arg(long)]
    pub(crate) text: Option<String>,
    /// A context variable; VALUE is JSON (a value that is not JSON is taken as a string)
    /// (repeatable).
    #[arg(long = "context", value_name = "KEY=JSON")]
    pub(crate) context: Vec<String>,
    /// The channel.
    #[arg(long, default_value = "web")]
    pub(crate) channel: String,
    /// The language.
    #[arg(long, default_value = "en")]
    pub(crate) lang: String,
    /// The session id (default: a new random UUID).
    #[arg(long, value_name = "ID")]
    pub(crate) session: Option<String>,
    /// Send this request file (`-` for stdin) instead of building one from flags.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["nodes", "intents", "entities", "text", "context", "session", "channel", "lang"]
    )]
    pub(crate) from: Option<PathBuf>,
    /// Print the raw reply body instead of the transcript.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) target: DialogTarget,
}

#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// The webhook's URL.
    pub(crate) url: String,
    /// Request files, as `record` saves them.
    #[arg(required = true, value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
    /// Compare each reply with the snapshot DIR/NAME.reply.json.
    #[arg(long, value_name = "DIR")]
    pub(crate) expect: Option<PathBuf>,
    /// Write the snapshots instead of comparing them.
    #[arg(long, requires = "expect")]
    pub(crate) update: bool,
    #[command(flatten)]
    pub(crate) target: DialogTarget,
}

#[derive(Debug, Args)]
pub(crate) struct RecordArgs {
    /// Where to listen for Moveo's calls.
    #[arg(long, default_value = "127.0.0.1:9000", value_name = "ADDR")]
    pub(crate) listen: String,
    /// The local webhook to forward them to.
    #[arg(long, value_name = "URL")]
    pub(crate) forward: String,
    /// Where to save the fixtures (created if missing).
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
    /// The webhook's verify token, to verify each call's signature before saving it.
    #[arg(long, env = "MOVEO_VERIFY_TOKEN", hide_env_values = true)]
    pub(crate) token: String,
    /// Seconds to wait for the local server.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub(crate) timeout: f64,
}

/// The bundled schemas.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum SchemaKind {
    /// A dialog webhook reply.
    Reply,
    /// A dialog webhook request.
    Request,
    /// A custom-integration event.
    Event,
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Which schema.
    pub(crate) schema: SchemaKind,
    /// Treat warnings (such as a reply's legacy top-level `output` key) as errors.
    #[arg(long)]
    pub(crate) strict: bool,
    /// JSON files; `-` reads stdin.
    #[arg(required = true, value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// The key: a dialog webhook's verify token or a custom integration's webhook secret. Also
    /// from MOVEO_VERIFY_TOKEN, or --secret-file: a value on the command line is visible in `ps`
    /// and in shell history.
    #[arg(long, env = "MOVEO_VERIFY_TOKEN", hide_env_values = true)]
    pub(crate) secret: Option<String>,
    /// A file holding the key (one trailing newline is ignored); it wins over --secret and
    /// MOVEO_VERIFY_TOKEN.
    #[arg(long, value_name = "FILE")]
    pub(crate) secret_file: Option<PathBuf>,
    /// The body to sign; `-` or nothing reads stdin.
    #[arg(default_value = "-", value_name = "FILE")]
    pub(crate) file: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct EventArgs {
    /// The events webhook's URL, such as http://127.0.0.1:8081/events.
    pub(crate) url: String,
    /// The event type, such as message:brain_send.
    #[arg(long = "type", value_name = "EVENT_TYPE")]
    pub(crate) event_type: String,
    /// The integration's webhook secret, to sign the event.
    #[arg(long, env = "MOVEO_WEBHOOK_SECRET", hide_env_values = true)]
    pub(crate) secret: String,
    /// The session id (default: a new random UUID).
    #[arg(long, value_name = "ID")]
    pub(crate) session: Option<String>,
    /// The message text, for message events.
    #[arg(long)]
    pub(crate) text: Option<String>,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub(crate) timeout: f64,
    /// Print the event sent, as JSON, on stdout.
    #[arg(long)]
    pub(crate) print: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ApiArgs {
    /// The integration's API key.
    #[arg(long, env = "MOVEO_API_KEY", hide_env_values = true, global = true)]
    pub(crate) api_key: Option<String>,
    /// The custom integration's id.
    #[arg(long, env = "MOVEO_INTEGRATION_ID", global = true)]
    pub(crate) integration_id: Option<String>,
    /// The API's base URL.
    #[arg(
        long = "api-base",
        visible_alias = "base-url",
        env = "MOVEO_API_BASE",
        default_value = "https://channels.moveo.ai",
        global = true
    )]
    pub(crate) base: String,
    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS", global = true)]
    pub(crate) timeout: f64,
    #[command(subcommand)]
    pub(crate) call: ApiCall,
}

/// The session a call is about.
#[derive(Debug, Args)]
pub(crate) struct SessionArg {
    /// The session's id (from create-session).
    #[arg(long, value_name = "ID")]
    pub(crate) session: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ApiCall {
    /// POST /sessions: start a session.
    #[command(
        after_help = "Example:\n  moveo-dialog api create-session --external-session-id chat-1 --context '{\"user\":{\"language\":\"en\"}}'"
    )]
    CreateSession {
        /// Your system's id for the session.
        #[arg(long)]
        external_session_id: Option<String>,
        /// The user's id in your system.
        #[arg(long)]
        channel_user_id: Option<String>,
        /// The initial context, a JSON object.
        #[arg(long, value_name = "JSON")]
        context: Option<String>,
    },
    /// PATCH /sessions/:id/context: update the context fields given.
    #[command(
        after_help = "Example:\n  moveo-dialog api update-context --session SESSION_ID --context '{\"tags\":[\"vip\"]}'"
    )]
    UpdateContext {
        #[command(flatten)]
        session: SessionArg,
        /// The fields to update, a JSON object.
        #[arg(long, value_name = "JSON")]
        context: String,
    },
    /// POST /sessions/:id/close.
    #[command(after_help = "Example:\n  moveo-dialog api close-session --session SESSION_ID")]
    CloseSession(SessionArg),
    /// POST /sessions/:id/messages: a user message (the reply arrives on your webhook).
    #[command(
        after_help = "Example:\n  moveo-dialog api send-message --session SESSION_ID --text 'What plans do you offer?'"
    )]
    SendMessage {
        #[command(flatten)]
        session: SessionArg,
        /// The text.
        #[arg(long)]
        text: Option<String>,
        /// An attachment, a JSON object such as {"type":"image","mime_type":"image/png","id":"FILE_ID"}
        /// (repeatable).
        #[arg(long = "attachment", value_name = "JSON")]
        attachments: Vec<String>,
    },
    /// POST /sessions/:id/messages/agent: record a message an external human agent sent.
    #[command(
        after_help = "Example:\n  moveo-dialog api send-agent-message --session SESSION_ID --text 'Hi, Sarah here' --agent-id a-1 --agent-name Sarah"
    )]
    SendAgentMessage {
        #[command(flatten)]
        session: SessionArg,
        /// The text.
        #[arg(long)]
        text: String,
        /// The agent's id.
        #[arg(long)]
        agent_id: String,
        /// The agent's name.
        #[arg(long)]
        agent_name: String,
        /// A URL to the agent's avatar.
        #[arg(long)]
        agent_avatar: Option<String>,
    },
    /// POST /sessions/:id/messages/read.
    #[command(after_help = "Example:\n  moveo-dialog api mark-read --session SESSION_ID")]
    MarkRead(SessionArg),
    /// POST /sessions/:id/messages/delivered.
    #[command(after_help = "Example:\n  moveo-dialog api mark-delivered --session SESSION_ID")]
    MarkDelivered(SessionArg),
    /// POST /sessions/:id/conversation/close.
    #[command(after_help = "Example:\n  moveo-dialog api close-conversation --session SESSION_ID")]
    CloseConversation(SessionArg),
    /// POST /sessions/:id/conversation/reopen.
    #[command(after_help = "Example:\n  moveo-dialog api reopen-conversation --session SESSION_ID")]
    ReopenConversation(SessionArg),
    /// POST /sessions/:id/handover: hand over to a human agent.
    #[command(after_help = "Example:\n  moveo-dialog api handover --session SESSION_ID")]
    Handover(SessionArg),
    /// Ask for an upload URL, then PUT the file there; prints the file_id.
    #[command(
        after_help = "Example:\n  moveo-dialog api upload-file --session SESSION_ID ./invoice.pdf --content-type application/pdf"
    )]
    UploadFile {
        #[command(flatten)]
        session: SessionArg,
        /// The file to upload.
        file: PathBuf,
        /// Its MIME type.
        #[arg(long, default_value = "application/octet-stream")]
        content_type: String,
        /// The name to give it (default: the file's name).
        #[arg(long)]
        filename: Option<String>,
    },
    /// Ask for a download URL, then GET the file.
    #[command(
        after_help = "Example:\n  moveo-dialog api download-file --session SESSION_ID --file-id FILE_ID --out invoice.pdf"
    )]
    DownloadFile {
        #[command(flatten)]
        session: SessionArg,
        /// The file's id.
        #[arg(long)]
        file_id: String,
        /// Where to write the bytes (default: stdout).
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
    },
}
