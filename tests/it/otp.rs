//! The OTP example as a deployable service (issue 16): each attack a reviewer would try has a
//! test here. Time is tokio's paused clock for the memory store; the Redis store and the two
//! replicas run against a real `redis-server`.

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use moveo_dialog::Router;
use moveo_dialog::testing::{DialogCall, TestClient};
use moveo_dialog_examples::otp::{self, HttpSender, Limits, MemoryStore, Otp, RedisStore};
use serde_json::{Value, json};

use crate::support::{Outbox, TOKEN};

const PHONE: &str = "+306912345678";

fn client(service: Otp) -> TestClient<Router> {
    TestClient::new(otp::router(TOKEN, service)).verify_token(TOKEN)
}

async fn ask(client: &TestClient<Router>, session: &str, node: &str, context: Value) -> Value {
    let Value::Object(context) = context else { panic!("a context is an object") };
    let reply = client.send(DialogCall::node(node).session(session).with_context(context)).await;
    assert_eq!(reply.status(), StatusCode::OK, "{reply:?}");
    reply.json().cloned().unwrap_or_default()
}

async fn send_code(client: &TestClient<Router>, session: &str, phone: &str) -> Value {
    ask(client, session, "send_otp", json!({"phone": phone})).await
}

async fn verify(client: &TestClient<Router>, session: &str, phone: &str, code: &str) -> Value {
    ask(client, session, "verify_otp", json!({"phone": phone, "otp_code": code})).await
}

fn text(reply: &Value) -> String {
    reply["responses"][0]["texts"][0].as_str().unwrap_or_default().to_owned()
}

fn code_for(outbox: &Outbox, phone: &str) -> String {
    outbox.0.lock().unwrap().get(phone).cloned().unwrap_or_else(|| panic!("no code was sent to {phone}"))
}

fn wrong(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

#[tokio::test(start_paused = true)]
async fn otp_sends_checks_and_asks_again() {
    let outbox = Outbox::default();
    let client = client(Otp::in_memory(outbox.clone()));

    // A badly formed phone number: a 200 that asks again, with a context flag.
    let reply = send_code(&client, "s-1", "6912345678").await;
    assert!(text(&reply).contains("international format"), "{reply}");
    assert_eq!(reply["context"]["validation_error"], json!(["phone"]));
    let reply = ask(&client, "s-1", "send_otp", json!({})).await;
    assert_eq!(reply["context"]["validation_error"], json!(["phone"]));

    let reply = send_code(&client, "s-1", PHONE).await;
    assert_eq!(reply["context"]["otp_sent"], true, "{reply}");
    let code = code_for(&outbox, PHONE);
    assert!(code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()), "{code}");

    // A badly formed code, then a wrong one: asked again.
    let reply = verify(&client, "s-1", PHONE, "12ab").await;
    assert_eq!(reply["context"]["validation_error"], json!(["otp_code"]));
    let reply = verify(&client, "s-1", PHONE, wrong(&code)).await;
    assert_eq!(reply["context"]["otp_verified"], false);
    assert_eq!(reply["context"]["otp_attempts_left"], 4);

    // The right code verifies, once.
    let reply = verify(&client, "s-1", PHONE, &code).await;
    assert_eq!(reply["context"]["otp_verified"], true, "{reply}");
    let reply = verify(&client, "s-1", PHONE, &code).await;
    assert_eq!(reply["context"]["otp_verified"], false);
    assert!(text(&reply).contains("no longer valid"), "{reply}");
}

#[tokio::test(start_paused = true)]
async fn a_code_expires_after_five_minutes() {
    let outbox = Outbox::default();
    let client = client(Otp::in_memory(outbox.clone()));
    send_code(&client, "s-1", PHONE).await;
    let code = code_for(&outbox, PHONE);
    tokio::time::advance(Limits::default().code_ttl).await;
    let reply = verify(&client, "s-1", PHONE, &code).await;
    assert_eq!(reply["context"]["otp_verified"], false, "{reply}");
    assert!(text(&reply).contains("no longer valid"), "{reply}");
}

/// Attack: ask for a new code after each few guesses to reset the attempt counter.
#[tokio::test(start_paused = true)]
async fn a_resend_never_resets_the_count_of_wrong_codes() {
    let outbox = Outbox::default();
    let client = client(Otp::in_memory(outbox.clone()));
    send_code(&client, "s-1", PHONE).await;
    let first = code_for(&outbox, PHONE);
    for left in [4, 3] {
        let reply = verify(&client, "s-1", PHONE, wrong(&first)).await;
        assert_eq!(reply["context"]["otp_attempts_left"], left, "{reply}");
    }
    tokio::time::advance(Duration::from_secs(30)).await;
    let reply = send_code(&client, "s-1", PHONE).await;
    assert_eq!(reply["context"]["otp_sent"], true, "{reply}");
    let second = code_for(&outbox, PHONE);
    for left in [2, 1] {
        let reply = verify(&client, "s-1", PHONE, wrong(&second)).await;
        assert_eq!(reply["context"]["otp_attempts_left"], left, "the resend kept the count: {reply}");
    }
    // The fifth wrong code locks the phone: even the right code is refused, and no new code
    // is sent, until ten minutes after the first wrong one.
    let reply = verify(&client, "s-1", PHONE, wrong(&second)).await;
    assert_eq!(reply["context"]["otp_locked"], true, "{reply}");
    assert_eq!(reply["context"]["otp_retry_after"], 600 - 30);
    let reply = verify(&client, "s-1", PHONE, &second).await;
    assert_eq!(
        (reply["context"]["otp_verified"].clone(), reply["context"]["otp_locked"].clone()),
        (json!(false), json!(true))
    );
    tokio::time::advance(Duration::from_secs(60)).await;
    let reply = send_code(&client, "s-2", PHONE).await;
    assert_eq!(
        (reply["context"]["otp_sent"].clone(), reply["context"]["otp_locked"].clone()),
        (json!(false), json!(true))
    );
    assert!(text(&reply).contains("Too many wrong codes"), "{reply}");
    assert_eq!(code_for(&outbox, PHONE), second, "no code was sent while locked");

    tokio::time::advance(Duration::from_secs(600 - 90)).await;
    let reply = send_code(&client, "s-1", PHONE).await;
    assert_eq!(reply["context"]["otp_sent"], true, "the lock ends with its window: {reply}");
    let third = code_for(&outbox, PHONE);
    assert_eq!(verify(&client, "s-1", PHONE, &third).await["context"]["otp_verified"], true);
}

/// Attack: SMS bombing, many sessions asking for codes to one victim's phone.
#[tokio::test(start_paused = true)]
async fn one_phone_gets_at_most_three_codes_in_ten_minutes_and_one_per_thirty_seconds() {
    let outbox = Outbox::default();
    let client = client(Otp::in_memory(outbox.clone()));
    assert_eq!(send_code(&client, "s-1", PHONE).await["context"]["otp_sent"], true);
    let reply = send_code(&client, "s-2", PHONE).await;
    assert_eq!(reply["context"]["otp_sent"], false, "{reply}");
    assert_eq!(reply["context"]["otp_retry_after"], 30);
    assert!(text(&reply).contains("try again in 30 seconds"), "{reply}");

    for session in ["s-2", "s-3"] {
        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(send_code(&client, session, PHONE).await["context"]["otp_sent"], true);
    }
    tokio::time::advance(Duration::from_secs(30)).await;
    let reply = send_code(&client, "s-4", PHONE).await;
    assert_eq!(reply["context"]["otp_sent"], false, "{reply}");
    assert_eq!(reply["context"]["otp_retry_after"], 600 - 90, "until the first send leaves the window");
    assert!(text(&reply).contains("try again in 9 minutes"), "{reply}");

    tokio::time::advance(Duration::from_secs(600 - 91)).await;
    assert_eq!(send_code(&client, "s-4", PHONE).await["context"]["otp_retry_after"], 1);
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(send_code(&client, "s-4", PHONE).await["context"]["otp_sent"], true);
}

/// Attack: SMS pumping, one session sending codes to many numbers.
#[tokio::test(start_paused = true)]
async fn one_session_gets_at_most_three_codes_in_ten_minutes_whatever_the_numbers() {
    let outbox = Outbox::default();
    let client = client(Otp::in_memory(outbox.clone()));
    let phones = ["+306900000001", "+306900000002", "+306900000003", "+306900000004"];
    assert_eq!(send_code(&client, "s-1", phones[0]).await["context"]["otp_sent"], true);
    assert_eq!(send_code(&client, "s-1", phones[1]).await["context"]["otp_retry_after"], 30);
    for phone in &phones[1..3] {
        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(send_code(&client, "s-1", phone).await["context"]["otp_sent"], true);
    }
    tokio::time::advance(Duration::from_secs(30)).await;
    let reply = send_code(&client, "s-1", phones[3]).await;
    assert_eq!(reply["context"]["otp_sent"], false, "{reply}");
    assert_eq!(reply["context"]["otp_retry_after"], 600 - 90);
    assert_eq!(outbox.0.lock().unwrap().len(), 3, "three numbers got a code");
}

/// Attack: verify, from one session, a code that was sent for another.
#[tokio::test(start_paused = true)]
async fn a_code_verifies_only_in_the_session_that_asked_for_it() {
    let outbox = Outbox::default();
    let client = client(Otp::in_memory(outbox.clone()));
    send_code(&client, "victim", PHONE).await;
    let code = code_for(&outbox, PHONE);
    let reply = verify(&client, "attacker", PHONE, &code).await;
    assert_eq!(reply["context"]["otp_verified"], false, "{reply}");
    assert!(text(&reply).contains("no longer valid"), "{reply}");
    let reply = verify(&client, "victim", PHONE, &code).await;
    assert_eq!(reply["context"]["otp_verified"], true, "{reply}");
}

/// Attack: a stream of new numbers, to grow the server's memory without bound.
#[tokio::test(start_paused = true)]
async fn memory_stays_bounded_under_a_stream_of_new_numbers_and_a_full_store_answers_politely() {
    let outbox = Outbox::default();
    let store = Arc::new(MemoryStore::new());
    let limits = Limits { max_pending: 50, ..Limits::default() };
    let client = client(Otp::new(Arc::clone(&store), outbox.clone(), limits));
    let (mut sent, mut full) = (0, 0);
    let mut most = 0;
    for i in 0..1_000 {
        let reply = send_code(&client, &format!("s-{i}"), &format!("+3069{i:08}")).await;
        if reply["context"]["otp_sent"] == true {
            sent += 1;
        } else {
            assert!(text(&reply).contains("cannot send codes right now"), "{reply}");
            full += 1;
        }
        most = most.max(store.entries());
        tokio::time::advance(Duration::from_secs(1)).await;
    }
    // 50 pending codes at most, each living 5 minutes: about 50 sends per 300 s get through.
    assert!((150..=250).contains(&sent), "sent {sent}, refused {full}");
    // Each admitted send is one code and two send logs (10 minutes): bounded by the cap.
    assert!(most <= 50 + 2 * 2 * 50 + 4, "the store grew to {most} entries");
    tokio::time::advance(Duration::from_secs(11 * 60)).await;
    assert_eq!(send_code(&client, "s-last", "+306999999999").await["context"]["otp_sent"], true);
    assert_eq!(store.entries(), 3, "everything expired was swept");
}

/// The gateway sender: the key in the header, the code in the body; a non-2xx is a clear reply
/// and an error in the log.
#[tokio::test]
async fn the_http_sender_posts_to_the_gateway_and_a_failed_send_is_a_clear_reply() {
    let gateway = moveo_dialog_tests::MockHttp::default();
    let addr = gateway.start().await;
    let sender = HttpSender::new(&format!("http://{addr}/sms"), "gateway-key").unwrap();
    let client = client(Otp::in_memory(sender));

    let reply = send_code(&client, "s-1", PHONE).await;
    assert_eq!(reply["context"]["otp_sent"], true, "{reply}");
    let seen = gateway.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].method.as_str(), seen[0].path.as_str()), ("POST", "/sms"));
    assert_eq!(seen[0].header("authorization"), "Bearer gateway-key");
    let body = seen[0].json();
    assert_eq!(body["to"], PHONE);
    let message = body["text"].as_str().unwrap();
    let code: String = message.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 6, "{message}");
    assert_eq!(verify(&client, "s-1", PHONE, &code).await["context"]["otp_verified"], true);

    gateway.answer("/sms", 503, vec![], json!({"error": "gateway overloaded"}));
    let (logs, _guard) = crate::support::capture_logs();
    let reply = send_code(&client, "s-2", "+306900000009").await;
    assert_eq!(reply["context"]["otp_sent"], false, "{reply}");
    assert_eq!(reply["context"]["otp_delivery_failed"], true);
    assert!(text(&reply).contains("could not send a code"), "{reply}");
    let logs = logs.text();
    assert!(logs.contains("ERROR") && logs.contains("503") && logs.contains("gateway overloaded"), "{logs}");
    assert!(!logs.contains("gateway-key"), "the key is never logged: {logs}");
}

#[test]
fn the_gateway_settings_are_checked() {
    assert!(HttpSender::new("not a url", "k").unwrap_err().contains("OTP_SMS_URL"));
    assert!(HttpSender::new("ftp://gateway/", "k").unwrap_err().contains("http://"));
    assert!(HttpSender::new("https://gateway/", " ").unwrap_err().contains("OTP_SMS_API_KEY"));
    assert!(!format!("{:?}", HttpSender::new("https://gateway/", "secret-key").unwrap()).contains("secret-key"));
}

/// The same limits, with the state in Redis: binding, spacing, the lock across re-sends, and a
/// TTL on every key it writes.
#[tokio::test]
#[cfg_attr(not(has_redis), ignore = "redis-server is not installed: apt-get install redis-server")]
async fn the_redis_store_enforces_the_limits_and_every_key_expires() {
    let redis = crate::redis::redis_server().await;
    let outbox = Outbox::default();
    let store = RedisStore::connect(&redis.url).await.unwrap();
    let client = client(Otp::new(store, outbox.clone(), Limits::default()));

    send_code(&client, "s-1", PHONE).await;
    let first = code_for(&outbox, PHONE);
    let reply = send_code(&client, "s-2", PHONE).await;
    assert_eq!(reply["context"]["otp_sent"], false, "{reply}");
    assert!((29..=30).contains(&reply["context"]["otp_retry_after"].as_u64().unwrap()), "{reply}");
    assert_eq!(verify(&client, "s-2", PHONE, &first).await["context"]["otp_verified"], false, "another session");
    for left in [4, 3, 2, 1] {
        assert_eq!(verify(&client, "s-1", PHONE, wrong(&first)).await["context"]["otp_attempts_left"], left);
    }
    let reply = verify(&client, "s-1", PHONE, wrong(&first)).await;
    assert_eq!(reply["context"]["otp_locked"], true, "{reply}");
    assert_eq!(verify(&client, "s-1", PHONE, &first).await["context"]["otp_locked"], true);

    let phone = "+306900000042";
    send_code(&client, "s-3", phone).await;
    let code = code_for(&outbox, phone);
    assert_eq!(verify(&client, "s-3", phone, wrong(&code)).await["context"]["otp_attempts_left"], 4);
    assert_eq!(verify(&client, "s-3", phone, &code).await["context"]["otp_verified"], true);
    assert_eq!(verify(&client, "s-3", phone, &code).await["context"]["otp_verified"], false, "used up");

    let keys = redis_cli(&redis.url, &["KEYS", "otp:*"]);
    assert!(keys.lines().count() >= 5, "{keys}");
    for key in keys.lines() {
        let ttl: i64 = redis_cli(&redis.url, &["PTTL", key]).trim().parse().unwrap();
        assert!(ttl > 0, "{key} has no TTL ({ttl})");
    }
}

fn redis_cli(url: &str, args: &[&str]) -> String {
    let output = std::process::Command::new("redis-cli").arg("-u").arg(url).args(args).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// Two processes of the OTP example, as `OTP_REDIS_URL` and `OTP_SMS_URL` configure them, behind
/// one imagined load balancer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(has_redis), ignore = "redis-server is not installed: apt-get install redis-server")]
async fn two_otp_processes_sharing_redis_verify_each_others_codes_and_share_the_limits() {
    let redis = crate::redis::redis_server().await;
    let gateway = moveo_dialog_tests::MockHttp::default();
    let gateway_addr = gateway.start().await;
    let spawn = || {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_hostile-server"));
        command
            .arg("otp")
            .env("OTP_REDIS_URL", &redis.url)
            .env("OTP_SMS_URL", format!("http://{gateway_addr}/sms"))
            .env("OTP_SMS_API_KEY", "gateway-key");
        crate::hostile::spawn(command)
    };
    let ((mut one, a), (mut two, b)) = (spawn().await, spawn().await);
    let ask = |addr: std::net::SocketAddr, session: &'static str, node: &'static str, context: Value| async move {
        let body = serde_json::to_vec(&json!({
            "channel": "web", "session_id": session, "context": context,
            "debug": {"dialog_stack": [{"node_id": "35411a26-cff7-4fb3-a2e9-0e8e6ada048a", "name": node}]}
        }))
        .unwrap();
        let answer = crate::support::send(addr, crate::support::signed_post("/webhook", "hostile-secret", &body)).await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        answer.json()
    };
    let last_code = || {
        let seen = gateway.seen();
        let text = seen.last().unwrap().json()["text"].as_str().unwrap().to_owned();
        text.chars().filter(char::is_ascii_digit).collect::<String>()
    };

    // Sent through one, verified through the other.
    let reply = ask(a, "s-1", "send_otp", json!({"phone": PHONE})).await;
    assert_eq!(reply["context"]["otp_sent"], true, "{reply}");
    let code = last_code();
    let reply = ask(b, "s-1", "verify_otp", json!({"phone": PHONE, "otp_code": code})).await;
    assert_eq!(reply["context"]["otp_verified"], true, "{reply}");

    // The 30 s spacing holds across both.
    let reply = ask(b, "s-2", "send_otp", json!({"phone": PHONE})).await;
    assert_eq!(reply["context"]["otp_sent"], false, "{reply}");
    assert_eq!(gateway.seen().len(), 1);

    // Forty concurrent guesses split across both: five are counted, the rest find it locked.
    let phone = "+306900000077";
    ask(a, "s-3", "send_otp", json!({"phone": phone})).await;
    let code = last_code();
    let guesses: Vec<_> = (0..40)
        .map(|i| {
            let addr = if i % 2 == 0 { a } else { b };
            let context = json!({"phone": phone, "otp_code": wrong(&code)});
            tokio::spawn(ask(addr, "s-3", "verify_otp", context))
        })
        .collect();
    let (mut counted, mut locked) = (Vec::new(), 0);
    for guess in guesses {
        let reply = guess.await.unwrap();
        if reply["context"]["otp_locked"] == true {
            locked += 1;
        } else {
            counted.push(reply["context"]["otp_attempts_left"].as_u64().unwrap());
        }
    }
    counted.sort_unstable();
    assert_eq!((counted, locked), (vec![1, 2, 3, 4], 36), "the fifth wrong code locks");
    for addr in [a, b] {
        let reply = ask(addr, "s-3", "verify_otp", json!({"phone": phone, "otp_code": code})).await;
        assert_eq!(reply["context"]["otp_locked"], true, "locked on both: {reply}");
    }
    one.kill().await.unwrap();
    two.kill().await.unwrap();
}
