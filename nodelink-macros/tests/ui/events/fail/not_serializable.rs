struct Handle(u64);

#[nodelink::events]
enum ToServer {
    Grab { handle: Handle },
}

fn main() {}
