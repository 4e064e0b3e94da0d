//! What a server decodes from a JSON (Python nodelink) client: any text must give a
//! frame or an error, never a panic, and a decoded event must encode back to JSON.
//! (Not always to the same event: `1e39` for an `f32` field decodes to infinity,
//! which JSON writes as `null`.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use nodelink::wire::{json, ClientFrame};
use nodelink_fuzz::{ToServer, MAX};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(ClientFrame::Event(event)) = json::decode_client_frame::<ToServer>(text, MAX) {
        json::encode_event(&event).expect("a decoded event encodes");
    }
});
