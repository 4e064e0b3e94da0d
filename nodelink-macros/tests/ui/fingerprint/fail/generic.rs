#[derive(nodelink::Fingerprint)]
struct Wrapper<T> {
    inner: T,
}

fn main() {}
