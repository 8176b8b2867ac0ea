//! Several Moveo webhooks in one service: the OTP app at `/webhooks/otp` and the inventory app
//! at `/webhooks/inventory`, each checked against the verify token Moveo shows for that
//! webhook, under one tower layer stack (a request trace).

use std::path::Path;

use moveo_dialog::Router;

use crate::{inventory, otp};

/// Where each app is mounted.
pub const OTP_PATH: &str = "/webhooks/otp";
/// Where the inventory app is mounted.
pub const INVENTORY_PATH: &str = "/webhooks/inventory";

/// Both apps under their prefixes, each with its own verify token.
///
/// # Errors
///
/// The sentence to print when the inventory database cannot be opened.
pub fn router(
    otp_token: impl Into<String>,
    inventory_token: impl Into<String>,
    otp: otp::Otp,
    database: impl AsRef<Path>,
) -> Result<Router, String> {
    Ok(Router::new()
        .nest(OTP_PATH, otp::router(otp_token, otp))
        .nest(INVENTORY_PATH, inventory::router(inventory_token, database)?))
}
