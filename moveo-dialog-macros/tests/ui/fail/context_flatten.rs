use moveo_dialog::DialogContext;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Address {
    city: String,
}

#[derive(Serialize, Deserialize, DialogContext)]
struct Customer {
    name: String,
    #[serde(flatten)]
    address: Address,
}

fn main() {}
