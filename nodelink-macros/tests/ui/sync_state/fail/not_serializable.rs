#[derive(Clone, Default, PartialEq)]
struct Secret(u64);

#[derive(nodelink::SyncState, Clone, Default, PartialEq)]
struct Avatar {
    x: f32,
    secret: Secret,
}

fn main() {}
