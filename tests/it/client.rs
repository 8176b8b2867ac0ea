//! The REST client against a local mock of Moveo's API over real sockets: method, path, headers
//! and body of every call, typed errors, retry rules, `Retry-After`, and the key kept out of
//! `Debug`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use moveo_dialog::client::{
    AgentMessageIn, Client, ClientErrorKind, CreateSession, ErrorCode, SessionContext, User, UserMessage,
};
use moveo_dialog_tests::{MockHttp, Seen};
use serde_json::{Value, json};

const KEY: &str = "sk-live-very-secret-key";
const INTEGRATION: &str = "intg-001";

fn client(addr: SocketAddr) -> Client {
    Client::new(KEY, INTEGRATION).unwrap().base_url(format!("http://{addr}")).backoff(Duration::from_millis(10))
}

#[tokio::test]
async fn every_call_sends_the_documented_request() {
    let mock = MockHttp::default();
    let addr = mock.start().await;
    let base = format!("/v1/custom/{INTEGRATION}/sessions");
    let s = "660e8400-e29b-41d4-a716-446655440001";
    mock.answer(&base, 201, vec![], json!({"request_id": "r1", "session_id": s, "context": {"user": {}}}));
    mock.answer(
        &format!("{base}/{s}/files/upload-url"),
        200,
        vec![],
        json!({"request_id": "r", "upload_url": format!("http://{addr}/upload/f1"), "file_id": "f1"}),
    );
    mock.answer(
        &format!("{base}/{s}/files/download-url"),
        200,
        vec![],
        json!({"request_id": "r", "download_url": format!("http://{addr}/download/f1"), "file_id": "f1"}),
    );
    mock.answer("/download/f1", 200, vec![], json!("the file's bytes"));
    mock.answer(
        &format!("{base}/{s}/context"),
        200,
        vec![],
        json!({"request_id": "r", "context": {"account_status": "verified"}}),
    );
    let client = client(addr);

    let created = client
        .create_session(
            &CreateSession::new().external_session_id("order-12345").channel_user_id("user-67890").context(
                SessionContext::new()
                    .user(User {
                        display_name: Some("John Doe".into()),
                        language: Some("en".into()),
                        ..User::default()
                    })
                    .tags(["vip"])
                    .global("client_url", "https://example.com/support")
                    .var("order_id", "ORD-12345"),
            ),
        )
        .await
        .unwrap();
    assert_eq!(created.session_id, s);
    let updated = client.update_context(s, &SessionContext::new().var("account_status", "verified")).await.unwrap();
    assert_eq!(updated.context.unwrap()["account_status"], "verified");
    client.send_message(s, &UserMessage::text("What pricing plans do you offer?")).await.unwrap();
    client.send_agent_message(s, &AgentMessageIn::new("Hi!", "agent-123", "Sarah Johnson")).await.unwrap();
    client.mark_read(s).await.unwrap();
    client.mark_delivered(s).await.unwrap();
    client.close_conversation(s).await.unwrap();
    client.reopen_conversation(s).await.unwrap();
    client.handover(s).await.unwrap();
    let file_id =
        client.upload_file(s, "invoice.pdf", "application/pdf", Bytes::from_static(b"%PDF-1.7")).await.unwrap();
    assert_eq!(file_id, "f1");
    let downloaded = client.download_file(s, "f1").await.unwrap();
    assert_eq!(&downloaded[..], br#""the file's bytes""#);
    client.close_session(s).await.unwrap();

    let seen = mock.seen();
    let calls: Vec<(String, String)> = seen.iter().map(|r| (r.method.clone(), r.path.clone())).collect();
    let expected = [
        ("POST", base.clone()),
        ("PATCH", format!("{base}/{s}/context")),
        ("POST", format!("{base}/{s}/messages")),
        ("POST", format!("{base}/{s}/messages/agent")),
        ("POST", format!("{base}/{s}/messages/read")),
        ("POST", format!("{base}/{s}/messages/delivered")),
        ("POST", format!("{base}/{s}/conversation/close")),
        ("POST", format!("{base}/{s}/conversation/reopen")),
        ("POST", format!("{base}/{s}/handover")),
        ("POST", format!("{base}/{s}/files/upload-url")),
        ("PUT", "/upload/f1".to_owned()),
        ("POST", format!("{base}/{s}/files/download-url")),
        ("GET", "/download/f1".to_owned()),
        ("POST", format!("{base}/{s}/close")),
    ];
    let expected: Vec<(String, String)> = expected.into_iter().map(|(m, p)| (m.to_owned(), p)).collect();
    assert_eq!(calls, expected);
    for recorded in seen.iter().filter(|r| r.path.starts_with("/v1/")) {
        assert_eq!(recorded.header("authorization"), format!("apikey {KEY}"), "{}", recorded.path);
        assert_eq!(recorded.header("content-type"), "application/json", "{}", recorded.path);
    }
    assert_eq!(
        Seen::json(&seen[0]),
        json!({"external_session_id": "order-12345", "channel_user_id": "user-67890", "context": {
            "user": {"display_name": "John Doe", "language": "en"}, "tags": ["vip"],
            "global": {"client_url": "https://example.com/support"}, "order_id": "ORD-12345"}})
    );
    assert_eq!(Seen::json(&seen[1]), json!({"account_status": "verified"}));
    assert_eq!(Seen::json(&seen[2]), json!({"input": {"text": "What pricing plans do you offer?"}}));
    assert_eq!(
        Seen::json(&seen[3]),
        json!({"input": {"text": "Hi!"}, "agent": {"agent_id": "agent-123", "agent_name": "Sarah Johnson"}})
    );
    assert_eq!(Seen::json(&seen[4]), Value::Null);
    assert_eq!(Seen::json(&seen[9]), json!({"filename": "invoice.pdf", "content_type": "application/pdf"}));
    assert_eq!(&seen[10].body[..], b"%PDF-1.7");
    assert_eq!(seen[10].header("content-type"), "application/pdf");
    assert!(seen[10].header("authorization").is_empty(), "the key never goes to the storage URL");
    assert_eq!(Seen::json(&seen[11]), json!({"file_id": "f1"}));
}

#[tokio::test]
async fn errors_are_typed_and_name_the_call() {
    let mock = MockHttp::default();
    let addr = mock.start().await;
    let base = format!("/v1/custom/{INTEGRATION}/sessions");
    mock.answer(
        &format!("{base}/gone/close"),
        404,
        vec![],
        json!({"error_code": "session-not-found", "error_message": "no such session"}),
    );
    mock.answer(
        &format!("{base}/s/messages"),
        400,
        vec![],
        json!({"error_code": "invalid-payload", "error_message": "bad input"}),
    );
    mock.answer(
        &format!("{base}/s/handover"),
        409,
        vec![],
        json!({"error_code": "already-handed-over", "error_message": "x"}),
    );
    mock.answer(&base, 401, vec![], json!({"error_code": "unauthorized", "error_message": "bad key"}));
    let client = client(addr);

    let err = client.close_session("gone").await.unwrap_err();
    assert_eq!((err.call(), err.code()), ("close_session", Some(&ErrorCode::SessionNotFound)));
    assert_eq!(err.to_string(), "close_session: Moveo answered 404 session-not-found: no such session");
    let err = client.send_message("s", &UserMessage::text("hi")).await.unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::InvalidPayload));
    let err = client.handover("s").await.unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::Other("already-handed-over".into())));
    let err = client.create_session(&CreateSession::new()).await.unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::Unauthorized));

    // Refused before any request.
    let before = mock.seen().len();
    let err = client.send_message("s", &UserMessage::text("   ")).await.unwrap_err();
    assert!(matches!(err.kind(), ClientErrorKind::Invalid(_)), "{err}");
    assert_eq!(mock.seen().len(), before);

    // A server that is down.
    let down = Client::new(KEY, INTEGRATION).unwrap().base_url("http://127.0.0.1:9").max_retries(0);
    let err = down.mark_read("s").await.unwrap_err();
    assert_eq!(err.call(), "mark_read");
    assert!(matches!(err.kind(), ClientErrorKind::Transport(_)), "{err}");
    assert!(!err.to_string().contains(KEY));
}

#[tokio::test]
async fn retries_follow_the_rules() {
    let mock = MockHttp::default();
    let addr = mock.start().await;
    let base = format!("/v1/custom/{INTEGRATION}/sessions");
    let client = client(addr);

    // 503 then 201 on create session: exactly one session.
    mock.answer(&base, 503, vec![], json!({"error_code": "internal-server-error", "error_message": "busy"}));
    mock.answer(&base, 201, vec![], json!({"request_id": "r", "session_id": "s-1"}));
    assert_eq!(client.create_session(&CreateSession::new()).await.unwrap().session_id, "s-1");
    assert_eq!(mock.seen().iter().filter(|r| r.path == base).count(), 2);

    // A 500 is not retried for a call that is not safe to repeat...
    mock.answer(
        &format!("{base}/s/messages"),
        500,
        vec![],
        json!({"error_code": "internal-server-error", "error_message": "x"}),
    );
    assert!(client.send_message("s", &UserMessage::text("hi")).await.is_err());
    assert_eq!(mock.seen().iter().filter(|r| r.path.ends_with("/s/messages")).count(), 1);
    // ...and is for one that is.
    mock.answer(&format!("{base}/s/messages/read"), 500, vec![], json!({}));
    client.mark_read("s").await.unwrap();
    assert_eq!(mock.seen().iter().filter(|r| r.path.ends_with("/messages/read")).count(), 2);

    // 429 with Retry-After: waited for, then retried.
    mock.answer(&format!("{base}/s/handover"), 429, vec![("retry-after", "1".to_owned())], json!({}));
    let started = Instant::now();
    client.handover("s").await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(950), "{:?}", started.elapsed());

    // A 4xx is never retried; retries stop at max_retries.
    mock.answer(
        &format!("{base}/s/close"),
        400,
        vec![],
        json!({"error_code": "invalid-payload", "error_message": "x"}),
    );
    assert!(client.close_session("s").await.is_err());
    assert_eq!(mock.seen().iter().filter(|r| r.path.ends_with("/s/close")).count(), 1);
    for _ in 0..10 {
        mock.answer(&format!("{base}/s/conversation/close"), 503, vec![], json!({}));
    }
    assert!(client.close_conversation("s").await.is_err());
    assert_eq!(mock.seen().iter().filter(|r| r.path.ends_with("/conversation/close")).count(), 4);
}

#[test]
fn debug_never_shows_the_key() {
    let client = Client::new(KEY, INTEGRATION).unwrap();
    let shown = format!("{client:?}");
    assert!(!shown.contains(KEY), "{shown}");
    assert!(shown.contains("redacted"));
}

#[tokio::test]
async fn ids_are_one_path_segment_redirects_are_not_followed_and_answers_are_capped() {
    let mock = MockHttp::default();
    let addr = mock.start().await;
    let base = format!("/v1/custom/{INTEGRATION}/sessions");
    let client = client(addr).max_retries(0);

    // A session id cannot reach another path, or another integration with the same key.
    client.send_message("x/close#", &UserMessage::text("hi")).await.unwrap();
    client.mark_read("../../OTHER/sessions/Y").await.unwrap();
    let paths: Vec<String> = mock.seen().iter().map(|seen| seen.path.clone()).collect();
    assert_eq!(
        paths,
        [format!("{base}/x%2Fclose%23/messages"), format!("{base}/..%2F..%2FOTHER%2Fsessions%2FY/messages/read")]
    );
    for id in ["", ".", ".."] {
        let err = client.close_session(id).await.unwrap_err();
        assert!(matches!(err.kind(), ClientErrorKind::Invalid(_)), "{id:?}: {err}");
    }
    assert_eq!(mock.seen().len(), 2, "a refused id sends nothing");

    // A redirect is an answer, never followed (the API key would go with it).
    mock.answer(&format!("{base}/s/handover"), 302, vec![("location", format!("http://{addr}/elsewhere"))], "");
    let err = client.handover("s").await.unwrap_err();
    assert!(matches!(err.kind(), ClientErrorKind::Api { status: 302, .. }), "{err}");
    assert!(mock.seen().iter().all(|seen| seen.path != "/elsewhere"));

    // An answer over the cap is refused; a larger cap reads it.
    let big = json!({"request_id": "r", "padding": "x".repeat(2 * 1024 * 1024)});
    mock.answer(&format!("{base}/s/close"), 200, vec![], big.clone());
    let err = client.close_session("s").await.unwrap_err();
    assert!(matches!(err.kind(), ClientErrorKind::TooLarge { limit: 1_048_576 }), "{err}");
    mock.answer(&format!("{base}/s/close"), 200, vec![], big);
    client.clone().max_response_bytes(4 * 1024 * 1024).close_session("s").await.unwrap();
}

#[test]
fn presigned_urls_stay_out_of_debug() {
    let upload: moveo_dialog::client::UploadUrl = serde_json::from_value(json!({
        "request_id": "r", "upload_url": "https://bucket.s3.amazonaws.com/f?X-Amz-Signature=abc123", "file_id": "f1"
    }))
    .unwrap();
    let download: moveo_dialog::client::DownloadUrl = serde_json::from_value(json!({
        "request_id": "r", "download_url": "https://bucket.s3.amazonaws.com/f?X-Amz-Signature=abc123", "file_id": "f1"
    }))
    .unwrap();
    for shown in [format!("{upload:?}"), format!("{download:?}")] {
        assert!(!shown.contains("abc123") && !shown.contains("amazonaws"), "{shown}");
        assert!(shown.contains("f1") && shown.contains("redacted"), "{shown}");
    }
}
