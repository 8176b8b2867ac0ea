use moveo_dialog::{Reply, intent, node};

#[node(check_otp)]
async fn unquoted() -> Reply {
    Reply::text("x")
}

#[node]
async fn nothing() -> Reply {
    Reply::text("x")
}

#[intent("erasmus", min = 0.5)]
async fn unknown_key() -> Reply {
    Reply::text("x")
}

#[intent("erasmus", min_confidence = "high")]
async fn not_a_number() -> Reply {
    Reply::text("x")
}

#[node("a", min_confidence = 0.5)]
async fn node_with_confidence() -> Reply {
    Reply::text("x")
}

fn main() {}
