//! The spec's own example: a student plans an Erasmus. The node `plan_erasmus` (and the intent
//! `erasmus`) read `destination`, `total_months` and `total_expenses` from the context and
//! answer with a plan, or ask for whatever is missing.

use moveo_dialog::extract::Context;
use moveo_dialog::reply::Text;
use moveo_dialog::{Reply, ReplyError, Router, loose};
use serde::Deserialize;

/// The context this webhook reads. Values are taken loosely (a number may come as text), and
/// a value that is missing or does not fit is `None`, asked for again rather than failing the
/// call.
#[derive(Debug, Default, Deserialize)]
pub struct Trip {
    #[serde(default, deserialize_with = "loose::text_or_none")]
    destination: Option<String>,
    #[serde(default, deserialize_with = "loose::number_or_none")]
    total_months: Option<f64>,
    #[serde(default, deserialize_with = "loose::number_or_none")]
    total_expenses: Option<f64>,
}

/// A count of months or euros: finite and above zero.
fn positive(number: Option<f64>) -> Option<f64> {
    number.filter(|number| number.is_finite() && *number > 0.0)
}

/// `plan_erasmus` / `erasmus`: the plan, or a question for the first missing value.
///
/// # Errors
///
/// Never in practice: every reply it builds keeps Moveo's limits.
pub async fn plan_erasmus(Context(trip): Context<Trip>) -> Result<Reply, ReplyError> {
    let Some(destination) = trip.destination.as_deref() else {
        return Reply::builder()
            .text(
                Text::new("Where would you like to go for your Erasmus?")
                    .option("England", "England")
                    .option("Spain", "Spain")
                    .option("Italy", "Italy"),
            )
            .context("erasmus_missing", "destination")
            .build();
    };
    let Some(months) = positive(trip.total_months) else {
        return Reply::builder()
            .text(
                Text::new(format!("How many months would you like to spend in {destination}?"))
                    .option("3 months", "3")
                    .option("6 months", "6")
                    .option("12 months", "12"),
            )
            .context("erasmus_missing", "total_months")
            .build();
    };
    let Some(expenses) = positive(trip.total_expenses) else {
        return Reply::builder()
            .text(Text::new(format!("What is your total budget, in euros, for {months} months in {destination}?")))
            .context("erasmus_missing", "total_expenses")
            .build();
    };
    plan(destination, months, expenses)
}

/// The plan for `months` in `destination` on a budget of `expenses` euros.
///
/// # Errors
///
/// Never in practice: the reply keeps Moveo's limits.
pub fn plan(destination: &str, months: f64, expenses: f64) -> Result<Reply, ReplyError> {
    let monthly = (expenses / months * 100.0).round() / 100.0;
    Reply::builder()
        .text(
            Text::new(format!(
                "Your Erasmus in {destination}: {months} months with €{expenses}, about €{monthly} a month."
            ))
            .option("Looks good", "Looks good")
            .option("Change destination", "I want another destination"),
        )
        .context("monthly_budget", monthly)
        .context("erasmus_plan_ready", true)
        .build()
}

/// Anything else.
pub async fn fallback() -> Reply {
    Reply::text("I can help you plan an Erasmus: tell me where you would like to go.")
}

/// The erasmus app, verified with `verify_token`.
pub fn router(verify_token: impl Into<String>) -> Router {
    Router::new()
        .verify_token(verify_token.into())
        .node("plan_erasmus", plan_erasmus)
        .intent("erasmus", plan_erasmus)
        .fallback(fallback)
}
