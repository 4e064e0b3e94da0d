// Every part is a plain value, but a `HashMap` needs `Eq + Hash` keys to be
// decoded.
use std::collections::HashMap;

#[derive(nodelink::SyncState, Clone, Default)]
struct Heights {
    by_x: HashMap<f32, u32>,
}

fn main() {}
