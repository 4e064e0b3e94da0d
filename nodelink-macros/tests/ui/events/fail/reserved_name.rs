#[nodelink::events]
enum ToClient {
    Connect,
    Chat { msg: String },
}

fn main() {}
