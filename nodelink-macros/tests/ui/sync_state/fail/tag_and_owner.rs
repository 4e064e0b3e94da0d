use nodelink::SyncState;

#[derive(SyncState, Clone, Default)]
pub struct Soldier {
    pub x: f32,
    #[sync(owner, tag = "team")]
    pub ammo: u32,
}

fn main() {}
