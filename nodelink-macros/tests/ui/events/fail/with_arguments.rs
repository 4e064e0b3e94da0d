#[nodelink::events(to_server)]
enum ToServer {
    Ready,
}

fn main() {}
