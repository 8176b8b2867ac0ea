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
    customer_keys();
}

#[derive(Serialize, Deserialize, DialogContext)]
#[serde(rename_all = "camelCase")]
struct Customer {
    first_name: String,
    #[serde(rename = "ZIP")]
    zip_code: String,
    #[serde(rename(serialize = "vipLevel", deserialize = "vip"))]
    vip_level: u8,
    #[serde(skip)]
    cache: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "plain")]
    note: Option<String>,
}

mod plain {
    pub(super) fn serialize<S: serde::Serializer>(value: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(value, serializer)
    }
    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
        serde::Deserialize::deserialize(deserializer)
    }
}

fn customer_keys() {
    assert_eq!(Customer::WRITABLE_KEYS, ["firstName", "ZIP", "vipLevel", "note"]);
    let customer = Customer {
        first_name: "Ada".into(),
        zip_code: "10115".into(),
        vip_level: 2,
        cache: None,
        note: Some("n".into()),
    };
    let reply = Reply::builder().context_update(&customer).build().unwrap();
    assert_eq!(
        serde_json::to_value(reply.context()).unwrap(),
        serde_json::json!({"firstName": "Ada", "ZIP": "10115", "vipLevel": 2, "note": "n"})
    );
}
