//! The spec's own example: a student plans an Erasmus. The node `plan_erasmus` (and the intent
//! `erasmus`) read `destination`, `total_months` and `total_expenses` from the context and
//! answer with a plan, or ask for whatever is missing.

use moveo_dialog::extract::Context;
use moveo_dialog::reply::Text;
use moveo_dialog::{Reply, ReplyError, Router};
use serde::Deserialize;
use serde_json::Value;

/// The context this webhook reads. Values are taken loosely (a number may come as text), and
/// a value that is missing or does not fit is asked for again rather than failing the call.
#[derive(Debug, Default, Deserialize)]
pub struct Trip {
    #[serde(default)]
    destination: Option<Value>,
    #[serde(default)]
    total_months: Option<Value>,
    #[serde(default)]
    total_expenses: Option<Value>,
}

fn text(value: Option<&Value>) -> Option<&str> {
    let Value::String(text) = value? else { return None };
    let text = text.trim();
    (!text.is_empty()).then_some(text)
}

fn number(value: Option<&Value>) -> Option<f64> {
    let number = match value? {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }?;
    (number.is_finite() && number > 0.0).then_some(number)
}

/// `plan_erasmus` / `erasmus`: the plan, or a question for the first missing value.
///
/// # Errors
///
/// Never in practice: every reply it builds keeps Moveo's limits.
pub async fn plan_erasmus(Context(trip): Context<Trip>) -> Result<Reply, ReplyError> {
    let Some(destination) = text(trip.destination.as_ref()) else {
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
    let Some(months) = number(trip.total_months.as_ref()) else {
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
    let Some(expenses) = number(trip.total_expenses.as_ref()) else {
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
