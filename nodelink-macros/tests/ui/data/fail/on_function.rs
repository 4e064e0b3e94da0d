#[nodelink::data]
fn make() -> u32 {
    1
}

fn main() {}
