use nodelink::SyncState;

#[derive(SyncState, Clone, Default)]
pub struct Soldier {
    pub x: f32,
    #[sync(tag = "red team")]
    pub ammo: u32,
}

fn main() {}
