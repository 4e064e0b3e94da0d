//! What a server decodes from a client: any bytes must give an event, a pong or an
//! error, never a panic; a decoded event must survive re-encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nodelink::wire::{decode_client_frame, encode_event, ClientFrame};
use nodelink_fuzz::{ToServer, MAX};

fuzz_target!(|data: &[u8]| {
    if let Ok(ClientFrame::Event(event)) = decode_client_frame::<ToServer>(data, MAX) {
        let again = encode_event(&event).expect("a decoded event re-encodes");
        assert!(
            decode_client_frame::<ToServer>(&again, usize::MAX).is_ok(),
            "re-encoded event decodes"
        );
    }
});
