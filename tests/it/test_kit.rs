//! The test kit (issue 19): `TestClient`, `DialogCall`, `Conversation`, `EventCall` and
//! transcripts, used as a user's tests would use them, on the examples' main flows. No socket.

use std::sync::{Arc, Mutex};

use http::StatusCode;
use moveo_dialog::events::{Event, EventType, EventsReceiver};
use moveo_dialog::testing::{Conversation, DialogCall, EventCall, Signing, TestClient};
use moveo_dialog::{Reply, Router};
use moveo_dialog_examples::{erasmus, inventory, otp};
use serde_json::json;

use crate::support::Outbox;

#[tokio::test]
async fn a_node_handler_test_is_a_few_lines() {
    let client = TestClient::new(erasmus::router("t")).verify_token("t");
    let reply = client
        .send(
            DialogCall::node("plan_erasmus").context("destination", json!("England")).context("total_months", json!(3)),
        )
        .await;
    insta::assert_snapshot!(reply.transcript(), @r#"
        text      What is your total budget, in euros, for 3 months in England?
        context   erasmus_missing = "total_expenses"
    "#);
}

#[tokio::test]
async fn the_otp_flow_send_a_wrong_code_then_the_right_one() {
    let outbox = Outbox::default();
    let client = TestClient::new(otp::router("t", otp::Otp::in_memory(outbox.clone()))).verify_token("t");
    let mut conversation = Conversation::new(&client);
    let phone = "+306912345678";

    let sent = conversation.send(DialogCall::node("send_otp").context("phone", json!(phone))).await;
    insta::assert_snapshot!(sent.transcript(), @r#"
        text      We sent a 6-digit code to +306912345678. Please type it here.
        context   otp_sent = true
                  validation_error = null
    "#);
    let code = outbox.0.lock().unwrap()[phone].clone();
    let wrong = if code == "000000" { "111111" } else { "000000" };

    // The phone is carried in the session's context: the next calls do not repeat it.
    let refused = conversation.send(DialogCall::node("verify_otp").context("otp_code", json!(wrong))).await;
    insta::assert_snapshot!(refused.transcript(), @r#"
        text      That code is not right. Please try again (4 attempts left).
        context   otp_attempts_left = 4
                  otp_verified = false
    "#);
    let verified = conversation.send(DialogCall::node("verify_otp").context("otp_code", json!(code))).await;
    insta::assert_snapshot!(verified.transcript(), @r#"
        text      Thank you, your phone number is verified.
        context   otp_verified = true
    "#);
    assert_eq!(conversation.context()["otp_verified"], true);
}

#[tokio::test]
async fn the_inventory_flow_check_list_reserve() {
    let db = std::env::temp_dir().join(format!("moveo-dialog-test-kit-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let client = TestClient::new(inventory::router("t", &db).unwrap()).verify_token("t");
    let mut conversation = Conversation::new(&client);

    let stock =
        conversation.send(DialogCall::node("check_stock").text("apples please").entity("product", "apples")).await;
    insta::assert_snapshot!(stock.transcript(), @r#"
        text      We have 10 × Apples (1 kg) in stock, at €3.20 each.
        context   product = "apples"
                  stock = 10
    "#);
    let listed = conversation.send(DialogCall::node("list_products")).await;
    assert_eq!(listed.cards().len(), 6);
    assert_eq!(listed.buttons().len(), 12);
    let reserved = conversation.send(DialogCall::node("reserve_item").context("quantity", json!(3))).await;
    insta::assert_snapshot!(reserved.transcript(), @r#"
        text      Reserved 3 × apples. Your reservation number is 1.
        context   reservation_failed = false
                  reservation_id = 1
                  reserved_product = "apples"
                  reserved_quantity = 3
                  stock = 7
    "#);
    assert_eq!(conversation.context()["stock"], 7, "the product chosen first is carried to the reservation");
    let _ = std::fs::remove_file(&db);
}

#[tokio::test]
async fn unsigned_and_wrongly_signed_calls_are_refused() {
    let router = Router::new().verify_token("t").fallback(|| async { Reply::text("ok") });
    let client = TestClient::new(router).verify_token("t");
    assert_eq!(client.send(DialogCall::new()).await.texts(), ["ok"]);
    let unsigned = client.clone().signing(Signing::Unsigned).send(DialogCall::new()).await;
    assert_eq!((unsigned.status(), unsigned.error()), (StatusCode::UNAUTHORIZED, Some("missing_signature")));
    let forged = client.clone().signing(Signing::WrongKey("guess".into())).send(DialogCall::new()).await;
    assert_eq!(forged.error(), Some("bad_signature"));
    let routed = client.path("/nowhere?x=1").send(DialogCall::node("unknown")).await;
    assert_eq!(routed.status(), StatusCode::OK, "node and fallback routes answer on any path");
}

#[tokio::test]
async fn events_are_delivered_and_a_redelivery_is_a_duplicate() {
    let handled = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&handled);
    let receiver = EventsReceiver::new().webhook_secret("s").on(EventType::MessageBrainSend, move |event: Event| {
        let log = Arc::clone(&log);
        async move { log.lock().unwrap().push(event.request_id) }
    });
    let client = TestClient::new(receiver).verify_token("s");
    let event = EventCall::new(EventType::MessageBrainSend).request_id("evt-1").text("Hello!");
    let first = client.deliver(&event).await;
    assert!(first.handled(), "{first:?}");
    let again = client.deliver(&event).await;
    assert_eq!(again.event_status(), Some("duplicate"));
    let ignored = client.deliver(&EventCall::new(EventType::SessionExpired)).await;
    assert_eq!(ignored.event_status(), Some("ignored"));
    let forged = client.clone().signing(Signing::WrongKey("guess".into())).deliver(&event).await;
    assert_eq!(forged.error(), Some("bad_signature"));
    assert_eq!(*handled.lock().unwrap(), ["evt-1"]);
}
