//! The OTP and inventory examples: in-process through the test kit where no socket is needed,
//! over real sockets for concurrency and for several webhooks on one server.

use std::sync::Arc;

use http::StatusCode;
use moveo_dialog::testing::{DialogCall, TestClient};
use moveo_dialog::{Router, Server};
use moveo_dialog_examples::{inventory, otp};
use serde_json::{Value, json};

use crate::support::{Outbox, TOKEN, TestServer, post_signed};

fn call(node: &str, context: Value, entities: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "channel": "web", "session_id": "s-1", "context": context, "entities": entities,
        "debug": {"dialog_stack": [{"node_id": "35411a26-cff7-4fb3-a2e9-0e8e6ada048a", "name": node}]}
    }))
    .unwrap()
}

async fn ask(server: &TestServer, node: &str, context: Value) -> Value {
    let answer = post_signed(server.addr, "/webhook", &call(node, context, json!([]))).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    let reply = answer.json();
    moveo_dialog::testing::assert_valid_reply(&reply);
    reply
}

/// The same call in-process, through the test kit (its 200 replies are schema-checked).
async fn ask_in_process(client: &TestClient<Router>, node: &str, context: Value) -> Value {
    let Value::Object(context) = context else { panic!("a context is an object") };
    let reply = client.send(DialogCall::node(node).with_context(context)).await;
    assert_eq!(reply.status(), StatusCode::OK, "{reply:?}");
    reply.json().cloned().unwrap_or_default()
}

/// One `reserve_item` call for one apple, as Moveo sends it with its request id.
async fn reserve(addr: std::net::SocketAddr, request_id: &str, session: &str) -> Value {
    let body = call("reserve_item", json!({"product": "apples"}), json!([]));
    let mut request = crate::support::signed_post("/webhook", TOKEN, &body);
    request.headers_mut().insert("x-moveo-request-id", request_id.parse().unwrap());
    request.headers_mut().insert("x-moveo-session-id", session.parse().unwrap());
    let answer = crate::support::send(addr, request).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    answer.json()
}

fn reserved(replies: &[Value]) -> usize {
    replies.iter().filter(|reply| reply["context"]["reservation_failed"] == false).count()
}

#[tokio::test]
async fn a_retried_reservation_gets_the_same_answer_and_reserves_once() {
    let db = temp_db("retried");
    let server = TestServer::start(Server::new(inventory::router(TOKEN, &db).unwrap())).await;
    let first = reserve(server.addr, "req-retried", "s-1").await;
    let again = reserve(server.addr, "req-retried", "s-1").await;
    assert_eq!(first, again, "the same answer");
    assert_eq!(first["context"]["stock"], 9);
    // The same request id in another session is another call.
    let other = reserve(server.addr, "req-retried", "s-2").await;
    assert_eq!(other["context"]["stock"], 8);
    assert_eq!(inventory::Inventory::open(&db).unwrap().product("apples").unwrap().unwrap().stock, 8);
    let _ = std::fs::remove_file(&db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_database_reserve_exactly_the_stock_and_a_call_once() {
    let db = temp_db("two-processes");
    // Create and seed the file once, then serve it from two processes.
    drop(inventory::Inventory::open(&db).unwrap());
    let path = db.to_str().unwrap();
    let (mut one, first) = crate::hostile::spawn_server(&["inventory", path]).await;
    let (mut two, second) = crate::hostile::spawn_server(&["inventory", path]).await;
    let calls: Vec<_> = (0..50)
        .map(|i| {
            let addr = if i % 2 == 0 { first } else { second };
            tokio::spawn(async move { reserve_as(addr, &format!("req-{i}"), "s-1").await })
        })
        .collect();
    let mut replies = Vec::new();
    for call in calls {
        replies.push(call.await.unwrap());
    }
    assert_eq!(reserved(&replies), 10, "a stock of 10 reserved exactly 10 times across both processes");

    // The same call sent to both processes reserves once.
    let reopened = inventory::Inventory::open(&db).unwrap();
    let pears = reopened.product("pears").unwrap().unwrap().stock;
    let a = reserve_product_as(first, "req-both", "s-9", "pears").await;
    let b = reserve_product_as(second, "req-both", "s-9", "pears").await;
    assert_eq!(a, b, "the same answer from both processes");
    assert_eq!(reopened.product("pears").unwrap().unwrap().stock, pears - 1, "reserved once");
    one.kill().await.unwrap();
    two.kill().await.unwrap();
    let _ = std::fs::remove_file(&db);
}

/// `reserve`, signed with the hostile server's secret.
async fn reserve_as(addr: std::net::SocketAddr, request_id: &str, session: &str) -> Value {
    reserve_product_as(addr, request_id, session, "apples").await
}

async fn reserve_product_as(addr: std::net::SocketAddr, request_id: &str, session: &str, product: &str) -> Value {
    let body = call("reserve_item", json!({"product": product}), json!([]));
    let mut request = crate::support::signed_post("/webhook", "hostile-secret", &body);
    request.headers_mut().insert("x-moveo-request-id", request_id.parse().unwrap());
    request.headers_mut().insert("x-moveo-session-id", session.parse().unwrap());
    let answer = crate::support::send(addr, request).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    answer.json()
}

fn temp_db(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("moveo-dialog-{name}-{}.db", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    path
}

#[tokio::test]
async fn inventory_checks_lists_and_reserves() {
    let db = temp_db("inventory");
    let server = TestClient::new(inventory::router(TOKEN, &db).unwrap()).verify_token(TOKEN);

    // The entity wins over the context key.
    let call = DialogCall::node("check_stock").context("product", json!("pears")).entity("product", "Apples");
    let reply = server.send(call).await.json().cloned().unwrap_or_default();
    assert_eq!(reply["context"]["product"], "apples");
    assert_eq!(reply["context"]["stock"], 10);

    let reply = ask_in_process(&server, "check_stock", json!({"product": "durian"})).await;
    assert_eq!(reply["context"]["validation_error"], json!(["product"]));
    assert!(reply["responses"][0]["options"].as_array().unwrap().len() <= 10);

    let reply = ask_in_process(&server, "list_products", json!({})).await;
    let cards = reply["responses"][0]["cards"].as_array().unwrap();
    assert_eq!(cards.len(), 6);
    assert!(cards.iter().all(|card| card["buttons"].as_array().unwrap().len() == 2));

    let reply = ask_in_process(&server, "reserve_item", json!({"product": "grapes", "quantity": 3})).await;
    assert_eq!(reply["context"]["reserved_quantity"], 3);
    assert_eq!(reply["context"]["stock"], 5);
    let reply = ask_in_process(&server, "reserve_item", json!({"product": "grapes", "quantity": 6})).await;
    assert_eq!(reply["context"]["reservation_failed"], true);
    assert_eq!(reply["context"]["stock"], 5);
    let _ = std::fs::remove_file(&db);
}

#[tokio::test]
async fn fifty_concurrent_reservations_on_a_stock_of_ten_reserve_exactly_ten() {
    let db = temp_db("concurrent");
    let server = Arc::new(TestServer::start(Server::new(inventory::router(TOKEN, &db).unwrap())).await);
    let calls: Vec<_> = (0..50)
        .map(|i| {
            let addr = server.addr;
            tokio::spawn(async move { reserve(addr, &format!("req-{i}"), "s-1").await })
        })
        .collect();
    let mut replies = Vec::new();
    for call in calls {
        replies.push(call.await.unwrap());
    }
    assert_eq!(reserved(&replies), 10);
    let reply = ask(&server, "check_stock", json!({"product": "apples"})).await;
    assert_eq!(reply["context"]["stock"], 0);
    // The database survives a restart with the stock it had.
    drop(server);
    let reopened = inventory::Inventory::open(&db).unwrap();
    assert_eq!(reopened.product("apples").unwrap().unwrap().stock, 0);
    let _ = std::fs::remove_file(&db);
}

#[tokio::test]
async fn one_server_hosts_the_otp_and_inventory_webhooks_each_with_its_own_token() {
    use moveo_dialog_examples::webhooks;
    let db = temp_db("webhooks");
    let outbox = Outbox::default();
    let router = webhooks::router("otp-token", "inventory-token", otp::Otp::in_memory(outbox.clone()), &db).unwrap();
    let server = TestServer::start(Server::new(router)).await;
    let send = |path: &'static str, token: &'static str, body: Vec<u8>| {
        let addr = server.addr;
        async move { crate::support::send(addr, crate::support::signed_post(path, token, &body)).await }
    };

    let otp_call = call("send_otp", json!({"phone": "+306912345678"}), json!([]));
    let answer = send(webhooks::OTP_PATH, "otp-token", otp_call.clone()).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.json()["context"]["otp_sent"], true);
    assert_eq!(outbox.0.lock().unwrap().len(), 1);

    let stock_call = call("check_stock", json!({"product": "apples"}), json!([]));
    let answer = send(webhooks::INVENTORY_PATH, "inventory-token", stock_call.clone()).await;
    assert_eq!(answer.json()["context"]["stock"], 10, "{answer:?}");

    // Each webhook refuses a call signed with the other's token.
    let crossed = send(webhooks::OTP_PATH, "inventory-token", otp_call).await;
    assert_eq!((crossed.status, crossed.error().as_str()), (StatusCode::UNAUTHORIZED, "bad_signature"));
    let crossed = send(webhooks::INVENTORY_PATH, "otp-token", stock_call.clone()).await;
    assert_eq!((crossed.status, crossed.error().as_str()), (StatusCode::UNAUTHORIZED, "bad_signature"));
    assert_eq!(outbox.0.lock().unwrap().len(), 1, "the crossed call sent no code");

    let nowhere = send("/webhook", "inventory-token", stock_call).await;
    assert_eq!((nowhere.status, nowhere.error().as_str()), (StatusCode::NOT_FOUND, "no_route"));
    let _ = std::fs::remove_file(&db);
}
