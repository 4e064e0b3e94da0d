#![no_implicit_prelude]

#[::nodelink::data]
#[derive(::core::clone::Clone, ::core::cmp::PartialEq, ::core::default::Default)]
pub struct Vec2 {
    pub x: f32,
    pub y: f32,
}

#[::nodelink::data]
pub enum Shape {
    Dot,
    Circle { radius: f32 },
    Line(Vec2, Vec2),
}

fn main() {}
