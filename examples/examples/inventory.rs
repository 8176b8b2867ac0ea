//! `cargo run --release --example inventory`: nodes `check_stock`, `list_products` and
//! `reserve_item` at `POST /webhook`, on an SQLite database created and seeded on first start.
//!
//! Settings: `MOVEO_VERIFY_TOKEN` (required), `LISTEN_ADDR` (default `127.0.0.1:8080`),
//! `INVENTORY_DB` (default `./inventory.db`).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    moveo_dialog_examples::run_dialog_example("inventory", |token| async move {
        let database = std::env::var("INVENTORY_DB").unwrap_or_else(|_| "./inventory.db".to_owned());
        moveo_dialog_examples::inventory::router(token, database)
    })
    .await
}
