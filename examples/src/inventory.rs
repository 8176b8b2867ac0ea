//! Inventory look-ups on an embedded SQLite database (created and seeded on first start):
//! `check_stock`, `list_products` (a carousel) and `reserve_item` (decrements stock in a
//! transaction, refuses when stock is short). Safe under concurrent calls: one connection
//! behind a mutex, each reservation an `IMMEDIATE` transaction. Idempotent per Moveo call: the
//! session id and `X-Moveo-Request-Id` are recorded in the reservation's transaction, so a
//! retried call gets the same answer and reserves once. WAL mode and a 5 s busy timeout, so
//! several processes can serve one database file.

use std::path::Path;
use std::sync::{Arc, Mutex};

use moveo_dialog::extract::{MoveoHeaders, State, Valid};
use moveo_dialog::reply::{Button, Card, CardMedia, Carousel, Text};
use moveo_dialog::{Reply, Router, node};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Deserialize;
use validator::Validate;

use crate::BoxError;

/// The seed catalogue: id, name, price in cents, stock.
const SEED: [(&str, &str, i64, i64); 7] = [
    ("apples", "Apples (1 kg)", 320, 10),
    ("pears", "Pears (1 kg)", 380, 25),
    ("oranges", "Oranges (1 kg)", 290, 40),
    ("bananas", "Bananas (1 kg)", 250, 0),
    ("cherries", "Cherries (500 g)", 690, 12),
    ("grapes", "Grapes (1 kg)", 450, 8),
    ("kiwis", "Kiwis (6 pieces)", 310, 30),
];

/// A product row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// The product's id, as the entity `product` or the context key `product` names it.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Its price in cents.
    pub price_cents: i64,
    /// Units in stock.
    pub stock: i64,
}

/// What a reservation found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// Reserved; the stock left.
    Reserved {
        /// The reservation's id.
        id: i64,
        /// Units left after it.
        stock_left: i64,
    },
    /// Not enough stock.
    Short {
        /// Units in stock.
        stock: i64,
    },
    /// No such product.
    Unknown,
}

fn product_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Product> {
    Ok(Product { id: row.get(0)?, name: row.get(1)?, price_cents: row.get(2)?, stock: row.get(3)? })
}

/// The inventory database.
pub struct Inventory {
    connection: Mutex<Connection>,
}

impl Inventory {
    /// Opens (creating and seeding on first start) the database at `path`.
    ///
    /// # Errors
    ///
    /// When SQLite cannot open or create it.
    pub fn open(path: impl AsRef<Path>) -> rusqlite::Result<Self> {
        let connection = Connection::open(path)?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        // WAL: readers do not block the writer, so several processes can serve one file.
        connection.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
        connection.execute_batch(
            "CREATE TABLE IF NOT EXISTS reservation_calls (
                 call TEXT PRIMARY KEY, outcome TEXT NOT NULL, reservation INTEGER, stock INTEGER);
             CREATE TABLE IF NOT EXISTS products (
                 id TEXT PRIMARY KEY, name TEXT NOT NULL, price_cents INTEGER NOT NULL,
                 stock INTEGER NOT NULL CHECK (stock >= 0));
             CREATE TABLE IF NOT EXISTS reservations (
                 id INTEGER PRIMARY KEY AUTOINCREMENT, product_id TEXT NOT NULL REFERENCES products(id),
                 quantity INTEGER NOT NULL, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);",
        )?;
        let count: i64 = connection.query_row("SELECT COUNT(*) FROM products", [], |row| row.get(0))?;
        if count == 0 {
            for (id, name, price, stock) in SEED {
                connection.execute(
                    "INSERT INTO products (id, name, price_cents, stock) VALUES (?1, ?2, ?3, ?4)",
                    params![id, name, price, stock],
                )?;
            }
        }
        Ok(Self { connection: Mutex::new(connection) })
    }

    fn with<T>(&self, work: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> rusqlite::Result<T> {
        let mut connection = self.connection.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        work(&mut connection)
    }

    /// One product.
    ///
    /// # Errors
    ///
    /// When SQLite fails.
    pub fn product(&self, id: &str) -> rusqlite::Result<Option<Product>> {
        self.with(|connection| {
            connection
                .query_row(
                    "SELECT id, name, price_cents, stock FROM products WHERE id = ?1",
                    [id.trim().to_lowercase()],
                    product_row,
                )
                .optional()
        })
    }

    /// Products in stock, most stocked first, at most `limit`.
    ///
    /// # Errors
    ///
    /// When SQLite fails.
    pub fn in_stock(&self, limit: usize) -> rusqlite::Result<Vec<Product>> {
        self.with(|connection| {
            let mut statement = connection.prepare(
                "SELECT id, name, price_cents, stock FROM products WHERE stock > 0 ORDER BY stock DESC, id LIMIT ?1",
            )?;
            let rows = statement.query_map([limit as i64], product_row)?;
            rows.collect()
        })
    }

    /// Reserves `quantity` units of `id` in one transaction. With a `call` key (Moveo's
    /// session id and `X-Moveo-Request-Id`), the answer is recorded in the same transaction:
    /// the same call again (Moveo retrying after a timeout) gets the same answer and reserves
    /// nothing more, on any process serving this database.
    ///
    /// # Errors
    ///
    /// When SQLite fails.
    pub fn reserve(&self, call: Option<&str>, id: &str, quantity: i64) -> rusqlite::Result<Reservation> {
        self.with(|connection| {
            let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Some(call) = call {
                let seen = transaction
                    .query_row(
                        "SELECT outcome, reservation, stock FROM reservation_calls WHERE call = ?1",
                        [call],
                        |row| {
                            Ok((row.get::<_, String>(0)?, row.get::<_, Option<i64>>(1)?, row.get::<_, Option<i64>>(2)?))
                        },
                    )
                    .optional()?;
                if let Some(seen) = seen {
                    return Ok(match seen {
                        (outcome, Some(id), Some(stock_left)) if outcome == "reserved" => {
                            Reservation::Reserved { id, stock_left }
                        }
                        (outcome, _, Some(stock)) if outcome == "short" => Reservation::Short { stock },
                        _ => Reservation::Unknown,
                    });
                }
            }
            let outcome = reserve_in(&transaction, id, quantity)?;
            if let Some(call) = call {
                let (kind, reservation, stock) = match &outcome {
                    Reservation::Reserved { id, stock_left } => ("reserved", Some(*id), Some(*stock_left)),
                    Reservation::Short { stock } => ("short", None, Some(*stock)),
                    Reservation::Unknown => ("unknown", None, None),
                };
                transaction.execute(
                    "INSERT INTO reservation_calls (call, outcome, reservation, stock) VALUES (?1, ?2, ?3, ?4)",
                    params![call, kind, reservation, stock],
                )?;
            }
            transaction.commit()?;
            Ok(outcome)
        })
    }
}

/// The reservation itself, inside the caller's transaction.
fn reserve_in(transaction: &rusqlite::Transaction<'_>, id: &str, quantity: i64) -> rusqlite::Result<Reservation> {
    let id = id.trim().to_lowercase();
    let stock: Option<i64> =
        transaction.query_row("SELECT stock FROM products WHERE id = ?1", [&id], |row| row.get(0)).optional()?;
    let Some(stock) = stock else { return Ok(Reservation::Unknown) };
    if stock < quantity {
        return Ok(Reservation::Short { stock });
    }
    transaction.execute("UPDATE products SET stock = stock - ?2 WHERE id = ?1", params![id, quantity])?;
    transaction.execute("INSERT INTO reservations (product_id, quantity) VALUES (?1, ?2)", params![id, quantity])?;
    Ok(Reservation::Reserved { id: transaction.last_insert_rowid(), stock_left: stock - quantity })
}

/// Runs blocking SQLite work off the async threads.
async fn blocking<T, F>(inventory: &Arc<Inventory>, work: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce(&Inventory) -> rusqlite::Result<T> + Send + 'static,
{
    let inventory = Arc::clone(inventory);
    tokio::task::spawn_blocking(move || work(&inventory))
        .await
        .map_err(|err| format!("the database task failed: {err}"))?
        .map_err(|err| format!("database error: {err}"))
}

/// The product the user means: the entity `product`, else the context key `product`.
#[derive(Debug, Deserialize, Validate)]
pub struct ProductInput {
    /// The product's id.
    #[validate(length(min = 1, max = 64))]
    pub product: String,
    /// How many to reserve (context key `quantity`, default 1).
    #[serde(default = "one")]
    #[validate(range(min = 1, max = 100))]
    pub quantity: i64,
}

fn one() -> i64 {
    1
}

fn euros(cents: i64) -> String {
    format!("€{}.{:02}", cents / 100, cents % 100)
}

async fn ask_for_product(inventory: &Arc<Inventory>) -> Result<Reply, BoxError> {
    let products = blocking(inventory, |inventory| inventory.in_stock(10)).await?;
    let text = products.iter().fold(Text::new("Which product do you mean?"), |text, product| {
        text.option(product.name.clone(), product.id.clone())
    });
    Ok(Reply::builder().text(text).context("validation_error", ["product"]).build()?)
}

/// How many of a product are in stock.
#[node("check_stock")]
pub async fn check_stock(
    Valid(input): Valid<ProductInput>,
    State(inventory): State<Arc<Inventory>>,
) -> Result<Reply, BoxError> {
    let Ok(input) = input else { return ask_for_product(&inventory).await };
    let id = input.product.clone();
    let Some(product) = blocking(&inventory, move |inventory| inventory.product(&id)).await? else {
        return ask_for_product(&inventory).await;
    };
    let text = if product.stock > 0 {
        format!("We have {} × {} in stock, at {} each.", product.stock, product.name, euros(product.price_cents))
    } else {
        format!("{} is out of stock right now.", product.name)
    };
    Ok(Reply::builder().text(Text::new(text)).context("product", product.id).context("stock", product.stock).build()?)
}

/// A carousel of the products in stock (at most 6 cards).
#[node("list_products")]
pub async fn list_products(State(inventory): State<Arc<Inventory>>) -> Result<Reply, BoxError> {
    let products = blocking(&inventory, |inventory| inventory.in_stock(moveo_dialog::reply::limits::MAX_CARDS)).await?;
    if products.is_empty() {
        return Ok(Reply::text("Everything is sold out, sorry."));
    }
    let carousel = products.iter().fold(Carousel::new(), |carousel, product| {
        carousel.card(
            Card::new(
                product.name.clone(),
                CardMedia::image(format!("https://example.com/products/{}.jpg", product.id)),
            )
            .subtitle(format!("{}, {} in stock", euros(product.price_cents), product.stock))
            .button(Button::postback("Reserve", format!("reserve {}", product.id)))
            .button(Button::url("Details", format!("https://example.com/products/{}", product.id))),
        )
    });
    Ok(Reply::builder().carousel(carousel).build()?)
}

/// Reserves `quantity` (default 1) of `product`, or says how many are left.
#[node("reserve_item")]
pub async fn reserve_item(
    Valid(input): Valid<ProductInput>,
    State(inventory): State<Arc<Inventory>>,
    headers: MoveoHeaders,
) -> Result<Reply, BoxError> {
    let Ok(input) = input else { return ask_for_product(&inventory).await };
    let (id, quantity) = (input.product.clone(), input.quantity);
    // One reservation per Moveo call: a retried call carries the same request id.
    let call =
        headers.request_id.map(|request| format!("{}:{request}", headers.session_id.as_deref().unwrap_or_default()));
    let reservation = blocking(&inventory, move |inventory| inventory.reserve(call.as_deref(), &id, quantity)).await?;
    let reply = match reservation {
        Reservation::Reserved { id, stock_left } => Reply::builder()
            .text(Text::new(format!("Reserved {quantity} × {}. Your reservation number is {id}.", input.product)))
            .context("reservation_id", id)
            .context("reserved_product", input.product)
            .context("reserved_quantity", quantity)
            .context("stock", stock_left)
            .context("reservation_failed", false),
        Reservation::Short { stock } => Reply::builder()
            .text(Text::new(format!("Sorry, only {stock} left of {}.", input.product)))
            .context("stock", stock)
            .context("reservation_failed", true),
        Reservation::Unknown => return ask_for_product(&inventory).await,
    };
    Ok(reply.build()?)
}

/// The inventory app on the database at `database`.
///
/// # Errors
///
/// When the database cannot be opened.
pub fn router(verify_token: impl Into<String>, database: impl AsRef<Path>) -> Result<Router, String> {
    let path = database.as_ref();
    let inventory =
        Inventory::open(path).map_err(|err| format!("cannot open the database {}: {err}", path.display()))?;
    Ok(Router::new()
        .verify_token(verify_token.into())
        .handler(check_stock)
        .handler(list_products)
        .handler(reserve_item)
        .state(Arc::new(inventory)))
}
