#[nodelink::events]
enum ToServer<T> {
    Send(T),
}

fn main() {}
