//! The built `moveo-dialog` binary over real loopback sockets: against the example servers, a
//! scriptable webhook and a mock of Moveo's API, success and failure paths, exit codes.

// A failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use moveo_dialog::testing::Schema;
use moveo_dialog::verify::{Secret, sign};
use moveo_dialog_examples::{erasmus, events};
use moveo_dialog_tests::MockHttp;
use serde_json::{Value, json};
use support::{SECRET, TOKEN, closed_port, run, run_with, scratch, serve, spec_fixture};

const VECTOR: &str = "7b2e526f80d3ad094ee0a2ccc2501afdab7044f89839f9fcba9466d15a967774";

#[tokio::test]
async fn sign_reproduces_the_supplement_vector_from_a_file_and_from_stdin() {
    let file = spec_fixture("signature-vector-body.json");
    let signed = run(&["sign", "--secret", "123456789", file.to_str().unwrap()]).await.expect(0);
    assert_eq!(signed.stdout, format!("{VECTOR}\n"));
    assert_eq!(signed.stderr, "");

    let body = std::fs::read(&file).unwrap();
    let piped = run_with(&["sign", "--secret", "123456789", "-"], &[], &body).await.expect(0);
    assert_eq!(piped.stdout, format!("{VECTOR}\n"));
    let implicit = run_with(&["sign", "--secret", "123456789"], &[], &body).await.expect(0);
    assert_eq!(implicit.stdout, format!("{VECTOR}\n"));

    // The exact bytes: a trailing newline changes the signature.
    let mut with_newline = body.clone();
    with_newline.push(b'\n');
    let other = run_with(&["sign", "--secret", "123456789"], &[], &with_newline).await.expect(0);
    assert_ne!(other.stdout.trim(), VECTOR);

    let missing = run(&["sign", "--secret", "k", "/no/such/file.json"]).await.expect(2);
    assert!(missing.stderr.contains("cannot read /no/such/file.json"), "{missing:?}");
}

#[tokio::test]
async fn sign_takes_the_secret_from_the_environment_or_a_file_not_only_the_command_line() {
    let file = spec_fixture("signature-vector-body.json");
    let file = file.to_str().unwrap();
    let from_env = run_with(&["sign", file], &[("MOVEO_VERIFY_TOKEN", "123456789")], b"").await.expect(0);
    assert_eq!(from_env.stdout, format!("{VECTOR}\n"));

    let dir = scratch("sign-secret-file");
    let secret_file = dir.join("token.txt");
    std::fs::write(&secret_file, "123456789\n").unwrap();
    let from_file = run(&["sign", "--secret-file", secret_file.to_str().unwrap(), file]).await.expect(0);
    assert_eq!(from_file.stdout, format!("{VECTOR}\n"), "one trailing newline is not part of the secret");

    let none = run_with(&["sign", file], &[("MOVEO_VERIFY_TOKEN", "")], b"").await.expect(2);
    assert!(none.stderr.contains("--secret-file"), "{none:?}");
    let unreadable = run(&["sign", "--secret-file", "/no/such/token", file]).await.expect(2);
    assert!(unreadable.stderr.contains("/no/such/token"), "{unreadable:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_talks_to_the_main_example_and_shows_the_reply_readably() {
    let addr = serve(erasmus::router(TOKEN)).await;
    let url = format!("http://{addr}/webhook");
    let args = [
        "send",
        &url,
        "--node",
        "greetings",
        "--node",
        "plan_erasmus",
        "--context",
        "total_months=3",
        "--context",
        "destination=\"England\"",
        "--context",
        "total_expenses=500",
    ];
    let shown = run_with(&args, &[("MOVEO_VERIFY_TOKEN", TOKEN)], b"").await.expect(0);
    let out = &shown.stdout;
    assert!(out.contains("text      Your Erasmus in England: 3 months with €500"), "{out}");
    assert!(out.contains("[Looks good] [Change destination]"), "{out}");
    assert!(out.contains("context   erasmus_plan_ready = true"), "{out}");
    assert!(out.contains("monthly_budget = 166.67"), "{out}");
    assert!(out.lines().last().unwrap().starts_with("200 OK in "), "{out}");

    // --json: the raw reply only, on stdout; it is the reply the transcript showed.
    let mut json_args = args.to_vec();
    json_args.extend(["--json", "--token", TOKEN]);
    let raw = run(&json_args).await.expect(0);
    let reply: Value = serde_json::from_str(&raw.stdout).unwrap();
    assert_eq!(reply["context"]["monthly_budget"], 166.67);
    assert!(raw.stderr.starts_with("200 OK in "), "{raw:?}");

    // The intent route of the same app.
    let by_intent =
        run(&["send", &url, "--intent", "erasmus:0.89", "--intent", "other:0.2", "--token", TOKEN]).await.expect(0);
    assert!(by_intent.stdout.contains("Erasmus"), "{by_intent:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_failures_say_why_and_exit_non_zero() {
    let addr = serve(erasmus::router(TOKEN)).await;
    let url = format!("http://{addr}/webhook");

    let bad_token = run(&["send", &url, "--node", "plan_erasmus", "--token", "wrong"]).await.expect(1);
    assert!(bad_token.stderr.contains("HTTP 401 Unauthorized"), "{bad_token:?}");
    assert!(bad_token.stderr.contains("bad_signature"), "{bad_token:?}");

    let no_token = run(&["send", &url]).await.expect(2);
    assert!(no_token.stderr.contains("--token"), "{no_token:?}");

    let down = format!("http://{}/webhook", closed_port().await);
    let refused = run(&["send", &down, "--token", TOKEN]).await.expect(3);
    assert!(refused.stderr.contains(&format!("cannot connect to {down}")), "{refused:?}");
    assert!(refused.stderr.to_lowercase().contains("connection refused"), "{refused:?}");

    let bad_intent = run(&["send", &url, "--token", TOKEN, "--intent", "x:2"]).await.expect(2);
    assert!(bad_intent.stderr.contains("within 0..=1"), "{bad_intent:?}");
    let not_url = run(&["send", "localhost:8080", "--token", TOKEN]).await.expect(2);
    assert!(not_url.stderr.contains("is not a URL"), "{not_url:?}");

    // A reply that breaks the schema: every violation with its pointer.
    let mock = MockHttp::default();
    mock.answer("/webhook", 200, vec![], r#"{"responses":[{"type":"text"},{"type":"image","url":"not a url"}]}"#);
    mock.answer("/webhook", 200, vec![], "<html>oops</html>");
    mock.answer("/webhook", 500, vec![], r#"{"error":"boom"}"#);
    let url = format!("http://{}/webhook", mock.start().await);
    let invalid = run(&["send", &url, "--token", TOKEN]).await.expect(1);
    assert!(invalid.stderr.contains("breaks the reply schema"), "{invalid:?}");
    assert!(invalid.stderr.contains("/responses/0: \"texts\" is a required property"), "{invalid:?}");
    assert!(invalid.stderr.contains("/responses/1/url:"), "{invalid:?}");
    let not_json = run(&["send", &url, "--token", TOKEN]).await.expect(1);
    assert!(not_json.stderr.contains("not JSON"), "{not_json:?}");
    let server_error = run(&["send", &url, "--token", TOKEN]).await.expect(1);
    assert!(server_error.stderr.contains("HTTP 500 Internal Server Error: {\"error\":\"boom\"}"), "{server_error:?}");

    let slow = MockHttp::default();
    slow.stall(Duration::from_secs(5));
    let url = format!("http://{}/webhook", slow.start().await);
    let timed_out = run(&["send", &url, "--token", TOKEN, "--timeout", "0.3"]).await.expect(3);
    assert!(timed_out.stderr.contains("no answer from"), "{timed_out:?}");
}

#[tokio::test]
async fn send_builds_a_realistic_request_and_signs_its_exact_bytes() {
    let mock = MockHttp::default();
    for _ in 0..3 {
        mock.answer("/hook", 200, vec![], r#"{"responses":[{"type":"text","texts":["ok"]}]}"#);
    }
    let url = format!("http://{}/hook", mock.start().await);
    run(&[
        "send",
        &url,
        "--token",
        TOKEN,
        "--node",
        "greetings",
        "--node",
        "plan_erasmus",
        "--intent",
        "erasmus:0.89",
        "--intent",
        "travel",
        "--entity",
        "firstname=George",
        "--text",
        "Hello, my name is George",
        "--context",
        "total_months=3",
        "--context",
        "destination=England",
        "--channel",
        "whatsapp",
        "--lang",
        "el",
        "--session",
        "sess-42",
        "--header",
        "X-Tenant: acme",
    ])
    .await
    .expect(0);
    let seen = mock.seen();
    assert_eq!(seen.len(), 1);
    let call = &seen[0];
    assert_eq!(call.method, "POST");
    assert_eq!(call.header("content-type"), "application/json");
    assert_eq!(call.header("x-moveo-signature"), sign(&Secret::new(TOKEN), &call.body));
    assert_eq!(call.header("x-moveo-session-id"), "sess-42");
    assert_eq!(call.header("x-moveo-request-id").len(), 36);
    assert_eq!(call.header("x-moveo-account-slug"), "local");
    assert_eq!(call.header("x-tenant"), "acme");
    let request = call.json();
    Schema::Request.validate(&request).unwrap();
    assert_eq!(request["verify_token"], TOKEN);
    assert_eq!(request["channel"], "whatsapp");
    assert_eq!(request["lang"], "el");
    assert_eq!(request["session_id"], "sess-42");
    assert_eq!(request["input"]["text"], "Hello, my name is George");
    assert_eq!(request["context"]["total_months"], 3);
    assert_eq!(request["context"]["destination"], "England", "a value that is not JSON is a string");
    assert_eq!(request["context"]["sys-channel"], "whatsapp");
    assert_eq!(
        request["intents"],
        json!([{"intent": "erasmus", "confidence": 0.89}, {"intent": "travel", "confidence": 1.0}])
    );
    assert_eq!(request["entities"][0]["entity"], "firstname");
    assert_eq!(request["entities"][0]["start"], 18);
    assert_eq!(request["entities"][0]["end"], 24);
    let stack = request["debug"]["dialog_stack"].as_array().unwrap();
    let names: Vec<&str> = stack.iter().map(|node| node["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["greetings", "plan_erasmus"]);

    // --from: the file's request, with the token put in.
    let from = run(&["send", &url, "--token", TOKEN, "--from", spec_fixture("dialog-request.json").to_str().unwrap()])
        .await
        .expect(0);
    assert!(from.stdout.contains("text      ok"), "{from:?}");
    let call = &mock.seen()[1];
    let request = call.json();
    assert_eq!(request["verify_token"], TOKEN);
    assert_eq!(request["brain_id"], "d3d08940-f0ef-42e0-993c-1bea065dcqwe");
    assert_eq!(call.header("x-moveo-signature"), sign(&Secret::new(TOKEN), &call.body));
    // A request file that carries its own token is signed with it when no --token is given.
    let dir = scratch("send-from");
    let own_token = dir.join("own-token.json");
    std::fs::write(&own_token, r#"{"session_id": "s-7", "verify_token": "file-token"}"#).unwrap();
    run(&["send", &url, "--from", own_token.to_str().unwrap()]).await.expect(0);
    let call = &mock.seen()[2];
    assert_eq!(call.header("x-moveo-signature"), sign(&Secret::new("file-token"), &call.body));
    let conflict = run(&["send", &url, "--token", TOKEN, "--from", "x.json", "--node", "n"]).await.expect(2);
    assert!(conflict.stderr.contains("cannot be used with"), "{conflict:?}");
}

/// Stops a recording proxy the way a terminal or a supervisor does.
async fn terminate(child: &mut tokio::process::Child) -> i32 {
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait()).await.expect("stops on SIGTERM").unwrap();
    status.code().unwrap_or(-1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_then_replay_against_snapshots() {
    use tokio::io::AsyncBufReadExt;

    let app = serve(erasmus::router(TOKEN)).await;
    let webhook = format!("http://{app}/webhook");
    let dir = scratch("record-replay");
    let out = dir.join("fixtures");

    let mut proxy = support::command(&[
        "record",
        "--listen",
        "127.0.0.1:0",
        "--forward",
        &webhook,
        "--out",
        out.to_str().unwrap(),
        "--token",
        TOKEN,
    ])
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = tokio::io::BufReader::new(proxy.stdout.take().unwrap()).lines();
    let banner = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await.unwrap().unwrap().unwrap();
    let listening = banner.split_whitespace().nth(2).unwrap().trim_end_matches(',').to_owned();
    assert!(listening.starts_with("http://127.0.0.1:"), "{banner}");
    let via_proxy = format!("{listening}/webhook");

    // The proxy has a webhook server's timeouts: a connection that sends 23 bytes of the HTTP/2
    // preface and stops is closed (the default idle timeout is 10 s).
    let proxy_addr = listening.trim_start_matches("http://").to_owned();
    let stalled = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(proxy_addr).await.unwrap();
        stream.write_all(&b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"[..23]).await.unwrap();
        let mut buffer = [0u8; 64];
        while matches!(stream.read(&mut buffer).await, Ok(read) if read > 0) {}
    });

    // Two calls through the proxy, answered by the app unchanged; one with a bad signature.
    let plan = run(&[
        "send",
        &via_proxy,
        "--token",
        TOKEN,
        "--node",
        "plan_erasmus",
        "--context",
        "total_months=2",
        "--context",
        "destination=\"Spain\"",
        "--context",
        "total_expenses=300",
    ])
    .await
    .expect(0);
    assert!(plan.stdout.contains("Your Erasmus in Spain"), "{plan:?}");
    run(&["send", &via_proxy, "--token", TOKEN, "--intent", "unknown"]).await.expect(0);
    let forged = run(&["send", &via_proxy, "--token", "forged", "--node", "plan_erasmus"]).await.expect(1);
    assert!(forged.stderr.contains("401"), "the app's own answer comes back: {forged:?}");
    for _ in 0..3 {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await.unwrap().unwrap().unwrap();
        assert!(line.contains("saved") || line.contains("not saved: signature"), "{line}");
    }
    tokio::time::timeout(Duration::from_secs(15), stalled)
        .await
        .expect("the proxy closes a stalled connection")
        .unwrap();
    assert_eq!(terminate(&mut proxy).await, 0, "SIGTERM stops the proxy cleanly");

    let mut saved: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
    saved.sort();
    assert_eq!(
        saved,
        [
            "0001-plan_erasmus.reply.json",
            "0001-plan_erasmus.request.json",
            "0002-call.reply.json",
            "0002-call.request.json"
        ]
    );
    #[cfg(unix)]
    for name in &saved {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(out.join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name} is readable by its owner only");
    }
    let request_text = std::fs::read_to_string(out.join("0001-plan_erasmus.request.json")).unwrap();
    assert!(!request_text.contains(TOKEN), "the verify token is redacted: {request_text}");
    let request: Value = serde_json::from_str(&request_text).unwrap();
    assert_eq!(request["verify_token"], "<redacted>");
    assert_eq!(request["context"]["destination"], "Spain");
    let reply: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("0001-plan_erasmus.reply.json")).unwrap()).unwrap();
    assert_eq!(reply["context"]["monthly_budget"], 150.0);

    // Replay against the snapshots the proxy saved.
    let requests = [out.join("0001-plan_erasmus.request.json"), out.join("0002-call.request.json")];
    let files: Vec<&str> = requests.iter().map(|path| path.to_str().unwrap()).collect();
    let mut args = vec!["replay", &webhook];
    args.extend(&files);
    args.extend(["--expect", out.to_str().unwrap(), "--token", TOKEN]);
    let passed = run(&args).await.expect(0);
    assert!(passed.stdout.lines().last().unwrap() == "2 passed, 0 failed", "{passed:?}");
    assert!(passed.stdout.contains("PASS"), "{passed:?}");

    // A snapshot that no longer matches: the pointer and both values.
    let mut changed = reply.clone();
    changed["context"]["monthly_budget"] = json!(999);
    std::fs::write(out.join("0001-plan_erasmus.reply.json"), changed.to_string()).unwrap();
    let failed = run(&args).await.expect(1);
    assert!(failed.stdout.contains("/context/monthly_budget: expected 999, got 150.0"), "{failed:?}");
    assert_eq!(failed.stdout.lines().last().unwrap(), "1 passed, 1 failed");

    // --update writes them back; then they pass again.
    let mut update = args.clone();
    update.push("--update");
    run(&update).await.expect(0);
    run(&args).await.expect(0);

    // A recorded request has its token redacted: replaying it needs --token.
    let tokenless = run(&["replay", &webhook, files[0]]).await.expect(1);
    assert!(tokenless.stdout.contains("no verify token: pass --token"), "{tokenless:?}");

    // A missing snapshot, and a server that is down.
    std::fs::remove_file(out.join("0002-call.reply.json")).unwrap();
    let missing = run(&args).await.expect(1);
    assert!(missing.stdout.contains("no snapshot at") && missing.stdout.contains("--update"), "{missing:?}");
    let down = format!("http://{}/webhook", closed_port().await);
    let unreachable = run(&["replay", &down, files[0], "--token", TOKEN]).await.expect(3);
    assert_eq!(unreachable.stdout.lines().last().unwrap(), "0 passed, 1 failed");
}

#[tokio::test]
async fn validate_reports_every_violation_with_file_and_pointer() {
    let valid = [spec_fixture("reply-full.json"), spec_fixture("reply-carousel.json")];
    let valid: Vec<&str> = valid.iter().map(|path| path.to_str().unwrap()).collect();
    let ok = run(&["validate", "reply", valid[0], valid[1]]).await.expect(0);
    assert_eq!(ok.stdout.matches(": valid").count(), 2, "{ok:?}");

    let request = spec_fixture("dialog-request.json");
    run(&["validate", "request", request.to_str().unwrap()]).await.expect(0);
    let event = spec_fixture("event-message-brain_send.json");
    run(&["validate", "event", event.to_str().unwrap()]).await.expect(0);

    let dir = scratch("validate");
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"{"responses":[{"type":"text","texts":["a"],"options":[{"label":""}]}],"context":{"global":1}}"#,
    )
    .unwrap();
    let bad = bad.to_str().unwrap();
    let failed = run(&["validate", "reply", valid[0], bad]).await.expect(1);
    assert!(failed.stdout.contains(&format!("{bad}: /responses/0/options/0:")), "{failed:?}");
    assert!(failed.stdout.contains(&format!("{bad}: /context:")), "{failed:?}");
    assert!(failed.stderr.contains("1 of 2 files are invalid"), "{failed:?}");

    let stdin = run_with(&["validate", "reply", "-"], &[], b"{\"responses\": 3}").await.expect(1);
    assert!(stdin.stdout.starts_with("<stdin>: /responses:"), "{stdin:?}");
    let not_json = run_with(&["validate", "event", "-"], &[], b"{oops").await.expect(1);
    assert!(not_json.stdout.contains("not JSON"), "{not_json:?}");
    let unreadable = run(&["validate", "reply", "/no/such.json"]).await.expect(2);
    assert!(unreadable.stderr.contains("cannot read /no/such.json"), "{unreadable:?}");
    run(&["validate", "nonsense", valid[0]]).await.expect(2);

    // Moveo's legacy top-level `output` key: valid by the schema, flagged; an error with --strict.
    let legacy = br#"{"output": {"live_instructor": true}, "responses": [{"type": "text", "texts": ["hi"]}]}"#;
    let warned = run_with(&["validate", "reply", "-"], &[], legacy).await.expect(0);
    assert!(warned.stdout.contains("<stdin>: warning: /output: legacy key: Moveo documents `context`"), "{warned:?}");
    let strict = run_with(&["validate", "--strict", "reply", "-"], &[], legacy).await.expect(1);
    assert!(strict.stdout.contains("error: /output: legacy key"), "{strict:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_sends_signed_events_the_receiver_accepts() {
    let addr = serve(events::receiver(SECRET)).await;
    let url = format!("http://{addr}/events");
    for kind in ["message:brain_send", "session:closed", "conversation:member_join"] {
        let sent = run(&["event", &url, "--type", kind, "--secret", SECRET, "--session", "sess-9", "--text", "Hi"])
            .await
            .expect(0);
        assert!(sent.stderr.contains(kind) && sent.stderr.contains("200 OK"), "{sent:?}");
    }
    let wrong = run(&["event", &url, "--type", "session:closed", "--secret", "nope"]).await.expect(1);
    assert!(wrong.stderr.contains("HTTP 401"), "{wrong:?}");
    let unknown = run(&["event", &url, "--type", "message:shout", "--secret", SECRET]).await.expect(2);
    assert!(unknown.stderr.contains("one of: message:brain_send"), "{unknown:?}");

    // What goes on the wire: the event, valid against the schema, and its signature.
    let mock = MockHttp::default();
    let url = format!("http://{}/events", mock.start().await);
    let printed = run_with(
        &["event", &url, "--type", "message:brain_send", "--session", "s-1", "--text", "Hello there", "--print"],
        &[("MOVEO_WEBHOOK_SECRET", SECRET)],
        b"",
    )
    .await
    .expect(0);
    let call = &mock.seen()[0];
    assert_eq!(call.header("x-moveo-signature"), sign(&Secret::new(SECRET), &call.body));
    let event = call.json();
    Schema::Event.validate(&event).unwrap();
    assert_eq!(event["session_id"], "s-1");
    assert_eq!(event["output"]["responses"][0]["text"], "Hello there");
    assert_eq!(serde_json::from_str::<Value>(&printed.stdout).unwrap(), event);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_drives_every_call_of_the_rest_client() {
    let mock = MockHttp::default();
    mock.answer("/v1/custom/intg-1/sessions", 201, vec![], r#"{"request_id":"r-0","session_id":"sess-new"}"#);
    mock.answer(
        "/v1/custom/intg-1/sessions/s-1/files/upload-url",
        200,
        vec![],
        r#"{"request_id":"r-u","upload_url":"{BASE}/bucket/f-1","file_id":"f-1"}"#,
    );
    mock.answer(
        "/v1/custom/intg-1/sessions/s-1/files/download-url",
        200,
        vec![],
        r#"{"request_id":"r-d","download_url":"{BASE}/bucket/f-1","file_id":"f-1"}"#,
    );
    mock.answer("/bucket/f-1", 200, vec![], "");
    mock.answer("/bucket/f-1", 200, vec![], "file bytes");
    let base = format!("http://{}", mock.start().await);
    let env = [("MOVEO_API_KEY", "sk-cli"), ("MOVEO_INTEGRATION_ID", "intg-1"), ("MOVEO_API_BASE", base.as_str())];
    let api = |args: Vec<&str>| {
        let mut full = vec!["api"];
        full.extend(args);
        let full: Vec<String> = full.into_iter().map(str::to_owned).collect();
        async move {
            let args: Vec<&str> = full.iter().map(String::as_str).collect();
            run_with(&args, &env, b"").await
        }
    };

    let created =
        api(vec!["create-session", "--external-session-id", "chat-1", "--context", r#"{"user":{"language":"en"}}"#])
            .await
            .expect(0);
    assert_eq!(serde_json::from_str::<Value>(&created.stdout).unwrap()["session_id"], "sess-new");
    let s = ["--session", "s-1"];
    api([&["update-context"][..], &s, &["--context", r#"{"tags":["vip"]}"#]].concat()).await.expect(0);
    api([&["close-session"][..], &s].concat()).await.expect(0);
    let sent = api([&["send-message"][..], &s, &["--text", "hi"]].concat()).await.expect(0);
    assert_eq!(serde_json::from_str::<Value>(&sent.stdout).unwrap(), json!({"request_id": "r-1"}));
    api([&["send-agent-message"][..], &s, &["--text", "hello", "--agent-id", "a-1", "--agent-name", "Sarah"]].concat())
        .await
        .expect(0);
    for call in ["mark-read", "mark-delivered", "close-conversation", "reopen-conversation", "handover"] {
        api([&[call][..], &s].concat()).await.expect(0);
    }
    let dir = scratch("api-files");
    let upload = dir.join("invoice.pdf");
    std::fs::write(&upload, b"%PDF-1.7").unwrap();
    let uploaded =
        api([&["upload-file"][..], &s, &[upload.to_str().unwrap(), "--content-type", "application/pdf"]].concat())
            .await
            .expect(0);
    assert_eq!(serde_json::from_str::<Value>(&uploaded.stdout).unwrap()["file_id"], "f-1");
    let target = dir.join("downloaded");
    api([&["download-file"][..], &s, &["--file-id", "f-1", "--out", target.to_str().unwrap()]].concat())
        .await
        .expect(0);
    assert_eq!(std::fs::read(&target).unwrap(), b"file bytes");

    let seen = mock.seen();
    let calls: Vec<(String, String)> = seen.iter().map(|call| (call.method.clone(), call.path.clone())).collect();
    let prefix = "/v1/custom/intg-1/sessions";
    let expected: Vec<(String, String)> = [
        ("POST", prefix.to_owned()),
        ("PATCH", format!("{prefix}/s-1/context")),
        ("POST", format!("{prefix}/s-1/close")),
        ("POST", format!("{prefix}/s-1/messages")),
        ("POST", format!("{prefix}/s-1/messages/agent")),
        ("POST", format!("{prefix}/s-1/messages/read")),
        ("POST", format!("{prefix}/s-1/messages/delivered")),
        ("POST", format!("{prefix}/s-1/conversation/close")),
        ("POST", format!("{prefix}/s-1/conversation/reopen")),
        ("POST", format!("{prefix}/s-1/handover")),
        ("POST", format!("{prefix}/s-1/files/upload-url")),
        ("PUT", "/bucket/f-1".to_owned()),
        ("POST", format!("{prefix}/s-1/files/download-url")),
        ("GET", "/bucket/f-1".to_owned()),
    ]
    .into_iter()
    .map(|(method, path)| (method.to_owned(), path))
    .collect();
    assert_eq!(calls, expected);
    assert!(
        seen.iter()
            .filter(|call| call.path.starts_with("/v1"))
            .all(|call| call.header("authorization") == "apikey sk-cli")
    );
    assert_eq!(seen[0].json(), json!({"external_session_id": "chat-1", "context": {"user": {"language": "en"}}}));
    assert_eq!(seen[1].json(), json!({"tags": ["vip"]}));
    assert_eq!(seen[3].json(), json!({"input": {"text": "hi"}}));
    assert_eq!(seen[4].json()["agent"], json!({"agent_id": "a-1", "agent_name": "Sarah"}));
    assert_eq!(seen[10].json(), json!({"filename": "invoice.pdf", "content_type": "application/pdf"}));
    assert_eq!(&seen[11].body[..], b"%PDF-1.7");
    assert_eq!(seen[11].header("content-type"), "application/pdf");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_failures_name_the_call_and_the_reason() {
    let mock = MockHttp::default();
    let not_found = r#"{"error_code":"session-not-found","error_message":"no session s-9"}"#;
    mock.answer("/v1/custom/intg-1/sessions/s-9/close", 404, vec![], not_found);
    let base = format!("http://{}", mock.start().await);
    let flags = ["--api-key", "k", "--integration-id", "intg-1", "--api-base", &base];
    let gone = run(&[&["api", "close-session", "--session", "s-9"][..], &flags].concat()).await.expect(1);
    assert!(gone.stderr.contains("close_session: Moveo answered 404 session-not-found: no session s-9"), "{gone:?}");

    let empty = run(&[&["api", "send-message", "--session", "s-1"][..], &flags].concat()).await.expect(2);
    assert!(empty.stderr.contains("needs text or attachments"), "{empty:?}");
    let no_key = run(&["api", "handover", "--session", "s-1", "--integration-id", "i"]).await.expect(2);
    assert!(no_key.stderr.contains("MOVEO_API_KEY"), "{no_key:?}");
    let bad_json =
        run(&[&["api", "update-context", "--session", "s-1", "--context", "{"][..], &flags].concat()).await.expect(2);
    assert!(bad_json.stderr.contains("--context"), "{bad_json:?}");

    let down = format!("http://{}", closed_port().await);
    let unreachable =
        run(&["api", "mark-read", "--session", "s-1", "--api-key", "k", "--integration-id", "i", "--api-base", &down])
            .await
            .expect(3);
    assert!(unreachable.stderr.contains("mark_read: cannot reach the API"), "{unreachable:?}");
}

#[tokio::test]
async fn every_subcommand_has_help_with_an_example() {
    for command in ["send", "replay", "record", "validate", "sign", "event", "api"] {
        let help = run(&[command, "--help"]).await.expect(0);
        assert!(help.stdout.contains("Example"), "{command} --help: {}", help.stdout);
    }
    for call in [
        "create-session",
        "update-context",
        "close-session",
        "send-message",
        "send-agent-message",
        "mark-read",
        "mark-delivered",
        "close-conversation",
        "reopen-conversation",
        "handover",
        "upload-file",
        "download-file",
    ] {
        let help = run(&["api", call, "--help"]).await.expect(0);
        assert!(
            help.stdout.contains(&format!("Example:\n  moveo-dialog api {call} ")),
            "api {call} --help: {}",
            help.stdout
        );
    }
    let top = run(&["--help"]).await.expect(0);
    assert!(top.stdout.contains("Exit codes:"), "{}", top.stdout);
    let usage = run(&["send"]).await.expect(2);
    assert!(usage.stderr.contains("Usage:"), "{usage:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_talks_https_with_a_private_certificate_or_insecure() {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap().self_signed(&key).unwrap();
    let dir = scratch("https");
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let tls = moveo_dialog::serve::Tls::from_pem_files(&cert_path, &key_path).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(moveo_dialog::Server::new(erasmus::router(TOKEN)).tls(tls).serve(listener));
    let url = format!("https://localhost:{port}/webhook");
    let args = |extra: &[&'static str]| {
        let mut args = vec![
            "send",
            url.as_str(),
            "--token",
            TOKEN,
            "--node",
            "plan_erasmus",
            "--context",
            "destination=\"Spain\"",
        ];
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_owned).collect::<Vec<String>>()
    };
    let cacert = cert_path.to_str().unwrap().to_owned();
    let trusted = args(&[]).into_iter().chain(["--cacert".to_owned(), cacert]).collect::<Vec<_>>();
    let trusted: Vec<&str> = trusted.iter().map(String::as_str).collect();
    let answer = run(&trusted).await.expect(0);
    assert!(answer.stdout.contains("200 OK"), "{answer:?}");

    let untrusted = args(&[]);
    let untrusted: Vec<&str> = untrusted.iter().map(String::as_str).collect();
    let refused = run(&untrusted).await.expect(3);
    assert!(
        refused.stderr.to_lowercase().contains("cannot connect") || refused.stderr.contains("certificate"),
        "{refused:?}"
    );

    let insecure = args(&["--insecure"]);
    let insecure: Vec<&str> = insecure.iter().map(String::as_str).collect();
    let accepted = run(&insecure).await.expect(0);
    assert!(accepted.stderr.contains("--insecure"), "it says so on stderr: {accepted:?}");
}
