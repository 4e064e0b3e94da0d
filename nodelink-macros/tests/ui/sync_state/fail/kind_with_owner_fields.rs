#[derive(nodelink::SyncState, Clone, Debug, Default, PartialEq)]
pub struct Monster {
    pub hp: u16,
    #[sync(owner)]
    pub loot_table: u32,
}

#[derive(nodelink::SyncState, Clone, Debug, PartialEq)]
pub enum Thing {
    Monster(Monster),
}

fn main() {}
