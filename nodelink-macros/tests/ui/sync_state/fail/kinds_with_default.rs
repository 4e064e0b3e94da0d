#[derive(nodelink::SyncState, Clone, Debug, Default, PartialEq)]
pub struct Monster {
    pub hp: u16,
}

#[derive(nodelink::SyncState, Clone, Debug, Default, PartialEq)]
pub struct Loot {
    pub gold: u32,
}

// The first kind is the default: the derive writes `Default`.
#[derive(nodelink::SyncState, Clone, Debug, Default, PartialEq)]
pub enum Thing {
    #[default]
    Monster(Monster),
    Loot(Loot),
}

fn main() {}
