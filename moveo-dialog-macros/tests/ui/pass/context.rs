use moveo_dialog::{DialogContext, Reply};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, DialogContext)]
struct Booking {
    #[serde(rename = "selected_product")]
    product: String,
    amount: u32,
    #[context(read_only)]
    #[serde(default)]
    global: serde_json::Value,
    #[context(read_only)]
    #[serde(rename = "channels", default)]
    channel_data: serde_json::Value,
}

fn main() {
    assert_eq!(Booking::WRITABLE_KEYS, ["selected_product", "amount"]);
    assert_eq!(Booking::READ_ONLY_KEYS, ["global", "channels"]);
    let booking = Booking {
        product: "apples".into(),
        amount: 6,
        global: serde_json::json!({"x": 1}),
        channel_data: serde_json::json!({}),
    };
    let reply = Reply::builder().context_update(&booking).build().unwrap();
    assert_eq!(reply.context().len(), 2);
}
