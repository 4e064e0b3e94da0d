// Every part can go on the wire, but a `HashMap` needs `Eq + Hash` keys to be
// decoded.
use std::collections::HashMap;

#[nodelink::data]
struct Heights {
    by_x: HashMap<f32, u32>,
}

fn main() {}
