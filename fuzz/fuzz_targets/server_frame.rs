//! What a client decodes from a server, through the generated `SyncState` delta
//! decoders: any bytes must give a frame or an error, never a panic; a decoded
//! sync frame must apply to a mirror.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nodelink::client::World;
use nodelink::wire::{decode_server_frame, ServerFrame};
use nodelink_fuzz::{Game, MAX};

fuzz_target!(|data: &[u8]| {
    if let Ok(ServerFrame::Sync(frame)) = decode_server_frame::<Game>(data, MAX) {
        let mut world = World::<Game>::default();
        let sync = world.apply(frame);
        assert!(world.len() <= sync.joined.len() + sync.changes.len());
    }
});
