//! [`Conversation`]: several calls in one session, the context carried as Moveo carries it.

use serde_json::{Map, Value};

use super::call::DialogCall;
use super::client::{TestClient, TestReply, TestService};
use super::ids::random_uuid;

/// One session's calls: each call gets the session id, the user's message counter
/// (`sys-user_message_counter`, 1, 2, 3...), the context so far with the last reply's updates
/// merged in (a key set to `null` is removed), and the dialog stack of the call before when it
/// names no node of its own.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use moveo_dialog::extract::Context;
/// use moveo_dialog::testing::{Conversation, DialogCall, TestClient};
/// use moveo_dialog::{Reply, Router};
///
/// #[derive(serde::Deserialize)]
/// struct Counter { #[serde(default)] count: u32 }
///
/// async fn count(Context(counter): Context<Counter>) -> Reply {
///     Reply::builder().context("count", counter.count + 1).build().unwrap()
/// }
/// let client = TestClient::new(Router::new().verify_token("t").node("count", count)).verify_token("t");
/// let mut conversation = Conversation::new(&client);
/// conversation.send(DialogCall::node("count")).await;
/// let reply = conversation.send(DialogCall::node("count")).await;
/// assert_eq!(reply.context()["count"], 2);
/// assert_eq!(conversation.context()["count"], 2);
/// # });
/// ```
#[derive(Debug)]
pub struct Conversation<'c, S> {
    client: &'c TestClient<S>,
    session: String,
    context: Map<String, Value>,
    nodes: Vec<String>,
    counter: u64,
}

impl<'c, S> Conversation<'c, S>
where
    S: TestService,
{
    /// A new session (a random id) on `client`.
    #[must_use]
    pub fn new(client: &'c TestClient<S>) -> Self {
        Self { client, session: random_uuid(), context: Map::new(), nodes: Vec::new(), counter: 0 }
    }

    /// The same, with this session id.
    #[must_use]
    pub fn with_session(client: &'c TestClient<S>, session: impl Into<String>) -> Self {
        Self { session: session.into(), ..Self::new(client) }
    }

    /// Sends the next call of the session; its own context keys win over the carried ones.
    ///
    /// # Panics
    ///
    /// As [`TestClient::send`].
    pub async fn send(&mut self, call: DialogCall) -> TestReply {
        self.counter += 1;
        let mut context = self.context.clone();
        context.extend(call.context_map().clone());
        let mut call = call.session(self.session.clone()).message_counter(self.counter).with_context(context.clone());
        if call.nodes().is_empty() {
            for node in &self.nodes {
                call = call.then_node(node.clone());
            }
        }
        self.nodes = call.nodes().to_vec();
        let reply = self.client.send(call).await;
        self.context = context;
        for (key, value) in reply.context() {
            if value.is_null() {
                self.context.remove(&key);
            } else {
                self.context.insert(key, value);
            }
        }
        reply
    }

    /// The context the next call will carry.
    #[must_use]
    pub fn context(&self) -> &Map<String, Value> {
        &self.context
    }

    /// The session id.
    #[must_use]
    pub fn session(&self) -> &str {
        &self.session
    }
}
