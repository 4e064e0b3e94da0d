#[allow(non_camel_case_types)]
#[nodelink::events]
enum ToServer {
    FooBar,
    Foo_Bar,
}

fn main() {}
