//! End-to-end tests of moveo-dialog: one integration binary (see svix's `tests/it`).
//! Fixtures copied from Moveo's documentation live in `tests/fixtures/spec`.

mod chat;
mod client;
mod events;
mod examples_apps;
mod exhaustion;
mod faults;
mod fixtures;
mod handlers;
mod hardening;
mod hostile;
mod mount;
mod never_panics;
mod otp;
mod pipeline;
mod redis;
mod reply_props;
mod schemas;
mod secrets;
mod server;
mod support;
mod test_kit;
mod tls;
mod wire;
