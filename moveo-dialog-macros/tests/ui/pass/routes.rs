use moveo_dialog::extract::{Context, InputText};
use moveo_dialog::{Reply, Route, RoutedHandler, Router, intent, node};
use serde::Deserialize;

#[derive(Deserialize)]
struct Otp {
    otp_code: String,
}

/// Checks the code.
#[node("check_otp")]
pub async fn check_otp(Context(otp): Context<Otp>) -> Reply {
    Reply::text(format!("checking {}", otp.otp_code))
}

#[intent("erasmus", min_confidence = 0.8)]
async fn erasmus(InputText(text): InputText) -> Reply {
    Reply::text(text)
}

#[intent("greeting")]
async fn greeting() -> Reply {
    Reply::text("hi")
}

fn main() {
    let router = Router::new().handler(check_otp).handler(erasmus).handler(greeting);
    assert_eq!(router.routes().len(), 3);
    assert_eq!(check_otp.route(), Route::Node("check_otp".into()));
    assert_eq!(erasmus.route(), Route::Intent { name: "erasmus".into(), min_confidence: 0.8 });
    assert_eq!(greeting.route(), Route::Intent { name: "greeting".into(), min_confidence: 0.7 });
    // The body stays callable.
    let _future = check_otp::handle(Context(Otp { otp_code: "123456".into() }));
}
