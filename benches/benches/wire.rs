//! Decoding the spec's example request (typed, beside an untyped `serde_json::Value` parse of
//! the same bytes) and building plus serialising the spec's full example reply.
//!
//! Run: `cargo bench -p moveo-dialog-benches --bench wire`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use moveo_dialog::reply::{Button, Card, CardMedia, Carousel, Text};
use moveo_dialog::{DialogRequest, Reply};

const REQUEST: &[u8] = include_bytes!("../../tests/fixtures/spec/dialog-request.json");

fn full_reply() -> Reply {
    Reply::builder()
        .context("user", serde_json::json!({"language": "en"}))
        .context("total_expenses", 100)
        .text(
            Text::new("Welcome back! What would you like to do today?")
                .option("Products", "View Products")
                .option("Support", "Contact Support"),
        )
        .carousel(
            Carousel::new()
                .card(
                    Card::new("Product 1", CardMedia::image("https://example.com/product1.jpg"))
                        .button(Button::postback("Buy Now", "buy_product_1")),
                )
                .card(
                    Card::new("Product 2", CardMedia::image("https://example.com/product2.jpg"))
                        .button(Button::postback("Buy Now", "buy_product_2")),
                )
                .action_id("123e4567-e89b-12d3-a456-426614174000"),
        )
        .build()
        .expect("the spec's full reply is valid")
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode_spec_request");
    group.bench_function("typed DialogRequest", |b| {
        b.iter(|| serde_json::from_slice::<DialogRequest>(black_box(REQUEST)).expect("valid"))
    });
    group.bench_function("untyped serde_json::Value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(REQUEST)).expect("valid"))
    });
    group.finish();
}

fn reply(c: &mut Criterion) {
    c.bench_function("build_and_serialise_spec_full_reply", |b| b.iter(|| black_box(full_reply()).to_json_bytes()));
}

criterion_group!(benches, decode, reply);
criterion_main!(benches);
