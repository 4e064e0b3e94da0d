// Owner fields belong to the state a player owns: a state that has them cannot
// be nested in another, where everyone who sees the parent would get them.
#[derive(nodelink::SyncState, Clone, Default, PartialEq)]
struct Purse {
    #[sync(owner)]
    gold: u32,
}

#[derive(nodelink::SyncState, Clone, Default, PartialEq)]
struct Hero {
    x: f32,
    purse: Purse,
}

fn main() {}
