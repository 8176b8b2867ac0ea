use moveo_dialog::DialogContext;
use serde::{Deserialize, Serialize};

// The reserved-key check runs on the names serde writes: after `rename_all`, and on the
// `serialize` half of a split rename.
#[derive(Serialize, Deserialize, DialogContext)]
#[serde(rename_all = "camelCase")]
struct Shadow {
    user_name: String,
    channels: String,
}

#[derive(Serialize, Deserialize, DialogContext)]
struct Renamed {
    #[serde(rename(serialize = "global", deserialize = "g"))]
    settings: String,
}

fn main() {}
