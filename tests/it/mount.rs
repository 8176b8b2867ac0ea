//! The router is a `tower::Service` over `http::Request`: it mounts in axum and under
//! tower-http layers.

use http::{HeaderValue, StatusCode};
use moveo_dialog::{Reply, Router};
use tower::ServiceExt;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::support::{TOKEN, call_body, post_signed, signed_post};

fn dialog_router() -> Router {
    Router::new().verify_token(TOKEN).fallback(|| async { Reply::text("from moveo-dialog") })
}

#[tokio::test]
async fn mounts_inside_an_axum_app_under_a_tower_http_layer() {
    let app = axum::Router::new()
        .route("/", axum::routing::get(|| async { "the rest of the app" }))
        .route_service("/moveo/webhook", dialog_router())
        .layer(SetResponseHeaderLayer::overriding(
            http::header::HeaderName::from_static("x-served-by"),
            HeaderValue::from_static("axum"),
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let answer = post_signed(addr, "/moveo/webhook", &call_body(None, &[])).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.headers["x-served-by"], "axum");
    assert_eq!(answer.json()["responses"][0]["texts"][0], "from moveo-dialog");

    let unsigned = crate::support::send(
        addr,
        http::Request::post("/moveo/webhook")
            .header("host", "x")
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(bytes::Bytes::from_static(b"{}")))
            .unwrap(),
    )
    .await;
    assert_eq!(unsigned.error(), "missing_signature");
    server.abort();
}

#[tokio::test]
async fn is_a_tower_service_without_any_server() {
    let request = signed_post("/webhook", TOKEN, &call_body(None, &[]));
    let response = dialog_router().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
