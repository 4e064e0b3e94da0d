//! Prints the example protocol's schema as JSON: events, states, field types and
//! mask indexes, for clients in other languages and the TypeScript generator.
//!
//! `cargo run --example schema > clients/typescript/examples/game/schema.json`

use nodelink::Protocol;
use nodelink_examples::Game;

fn main() {
    println!("{}", Game::schema().to_json_pretty());
}
