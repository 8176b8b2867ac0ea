use moveo_dialog::extract::InputText;
use moveo_dialog::node;

struct NotAReply;

#[node("echo")]
async fn echo(InputText(_text): InputText) -> NotAReply {
    NotAReply
}

fn main() {
    let _ = moveo_dialog::Router::new().handler(echo);
}
