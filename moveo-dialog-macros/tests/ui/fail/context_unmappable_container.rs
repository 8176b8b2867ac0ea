use moveo_dialog::DialogContext;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, DialogContext)]
#[serde(tag = "kind")]
struct Tagged {
    name: String,
}

#[derive(Serialize, Deserialize, DialogContext)]
#[serde(transparent)]
struct Wrapped {
    name: String,
}

fn main() {}
