#![no_implicit_prelude]

#[derive(::nodelink::SyncState, ::core::clone::Clone, ::core::default::Default, ::core::cmp::PartialEq)]
pub struct Avatar {
    pub x: f32,
    pub name: ::std::string::String,
}

#[::nodelink::events]
pub enum ToServer {
    Move { x: f32, y: f32 },
    Say(::std::string::String),
    Ready,
}

fn main() {}
