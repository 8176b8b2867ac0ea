use moveo_dialog::DialogContext;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, DialogContext)]
struct Writes {
    global: String,
    #[serde(rename = "channels")]
    channel_data: String,
    #[context(write_only)]
    other: String,
}

fn main() {}
