//! The spec's examples built with the library, for the tests that compare them with the
//! documented JSON and the benchmarks that time them.

use moveo_dialog::Reply;
use moveo_dialog::reply::{Button, Card, CardMedia, Carousel, Text};

/// The spec's full example reply (`tests/fixtures/spec/reply-full.json`): a text with two
/// options, a two-card carousel, a context update.
///
/// # Panics
///
/// Never: the reply keeps every limit.
pub fn full_reply() -> Reply {
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
        .expect("the spec's full reply keeps every limit")
}
