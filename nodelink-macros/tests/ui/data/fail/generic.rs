#[nodelink::data]
struct Wrapper<T> {
    inner: T,
}

fn main() {}
