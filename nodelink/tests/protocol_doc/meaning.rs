//! What a frame means, read from its bytes and the protocol's schema alone, by
//! PROTOCOL.md's rules: a transcription of the document, independent of the
//! library's typed decoders. It gives the `frame` of each conformance vector.
//!
//! The meaning is JSON, as `conformance/README.md` describes: numbers as numbers,
//! a player id as its 8 hex digits, a nested state as an object of the sub-fields
//! listed, a `SyncMap` as `{"replace", "removed", "entries"}`, a `SyncVec` as
//! `{"len", "entries"}`. Only the types the vectors use are read; any other is an
//! error that says so.

use serde_json::{json, Map, Value};

/// A MessagePack value as it was written.
#[derive(Debug, Clone, PartialEq)]
enum Mp {
    Nil,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Array(Vec<Mp>),
    Map(Vec<(Mp, Mp)>),
}

/// Reads one value off the front of `input`.
fn read(input: &mut &[u8]) -> Result<Mp, String> {
    use rmp::Marker;
    let marker = rmp::decode::read_marker(input).map_err(|_| "the frame ends early".to_owned())?;
    let mut take = |n: usize| -> Result<Vec<u8>, String> {
        if input.len() < n {
            return Err("the frame ends early".to_owned());
        }
        let (head, rest) = input.split_at(n);
        *input = rest;
        Ok(head.to_vec())
    };
    let be = |bytes: Vec<u8>| bytes.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b));
    Ok(match marker {
        Marker::Null => Mp::Nil,
        Marker::True => Mp::Bool(true),
        Marker::False => Mp::Bool(false),
        Marker::FixPos(n) => Mp::Int(n.into()),
        Marker::FixNeg(n) => Mp::Int(n.into()),
        Marker::U8 => Mp::Int(be(take(1)?).into()),
        Marker::U16 => Mp::Int(be(take(2)?).into()),
        Marker::U32 => Mp::Int(be(take(4)?).into()),
        Marker::U64 => Mp::Int(be(take(8)?).into()),
        Marker::I8 => Mp::Int((be(take(1)?) as u8 as i8).into()),
        Marker::I16 => Mp::Int((be(take(2)?) as u16 as i16).into()),
        Marker::I32 => Mp::Int((be(take(4)?) as u32 as i32).into()),
        Marker::I64 => Mp::Int((be(take(8)?) as i64).into()),
        Marker::F32 => Mp::Float(f32::from_bits(be(take(4)?) as u32).into()),
        Marker::F64 => Mp::Float(f64::from_bits(be(take(8)?))),
        Marker::FixStr(n) => text(take(n.into())?)?,
        Marker::Str8 => {
            let n = be(take(1)?);
            text(take(n as usize)?)?
        }
        Marker::Str16 => {
            let n = be(take(2)?);
            text(take(n as usize)?)?
        }
        Marker::Str32 => {
            let n = be(take(4)?);
            text(take(n as usize)?)?
        }
        Marker::FixArray(n) => array(input, n.into())?,
        Marker::Array16 => {
            let n = be(take(2)?);
            array(input, n as usize)?
        }
        Marker::Array32 => {
            let n = be(take(4)?);
            array(input, n as usize)?
        }
        Marker::FixMap(n) => map(input, n.into())?,
        Marker::Map16 => {
            let n = be(take(2)?);
            map(input, n as usize)?
        }
        other => return Err(format!("the vectors use no {other:?}")),
    })
}

fn text(bytes: Vec<u8>) -> Result<Mp, String> {
    String::from_utf8(bytes)
        .map(Mp::Str)
        .map_err(|_| "a string that is not UTF-8".to_owned())
}

fn array(input: &mut &[u8], n: usize) -> Result<Mp, String> {
    (0..n)
        .map(|_| read(input))
        .collect::<Result<_, _>>()
        .map(Mp::Array)
}

fn map(input: &mut &[u8], n: usize) -> Result<Mp, String> {
    (0..n)
        .map(|_| Ok((read(input)?, read(input)?)))
        .collect::<Result<_, String>>()
        .map(Mp::Map)
}

impl Mp {
    fn items(&self, what: &str) -> Result<&[Mp], String> {
        match self {
            Self::Array(items) => Ok(items),
            other => Err(format!("{what}: expected an array, found {other:?}")),
        }
    }

    fn uint(&self, what: &str) -> Result<u64, String> {
        match self {
            Self::Int(n) => u64::try_from(*n).map_err(|_| format!("{what}: {n} is negative")),
            other => Err(format!("{what}: expected an integer, found {other:?}")),
        }
    }

    fn u32(&self, what: &str) -> Result<u32, String> {
        let n = self.uint(what)?;
        u32::try_from(n).map_err(|_| format!("{what}: {n} does not fit 32 bits"))
    }

    fn text(&self, what: &str) -> Result<&str, String> {
        match self {
            Self::Str(text) => Ok(text),
            other => Err(format!("{what}: expected a string, found {other:?}")),
        }
    }

    /// The value as JSON, read without a type (the settings' values).
    fn untyped(&self) -> Result<Value, String> {
        Ok(match self {
            Self::Nil => Value::Null,
            Self::Bool(b) => json!(b),
            Self::Int(n) => json!(u64::try_from(*n).map_err(|_| "a negative setting")?),
            Self::Float(x) => json!(x),
            Self::Str(text) => json!(text),
            other => return Err(format!("the vectors' settings hold no {other:?}")),
        })
    }
}

fn player_id(value: &Mp, what: &str) -> Result<Value, String> {
    Ok(json!(format!("{:08x}", value.u32(what)?)))
}

/// Which way a frame travels: the events enum its event frames name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    ServerToClient,
    ClientToServer,
}

impl Direction {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::ServerToClient => "server-to-client",
            Self::ClientToServer => "client-to-server",
        }
    }
}

/// What `bytes`, a frame going `direction` in the protocol of `schema`, means; an
/// error for anything PROTOCOL.md does not allow.
pub(crate) fn frame(schema: &Value, direction: Direction, bytes: &[u8]) -> Result<Value, String> {
    let mut input = bytes;
    let frame = read(&mut input)?;
    if !input.is_empty() {
        return Err(format!("{} bytes after the frame", input.len()));
    }
    let items = frame.items("frame")?;
    let (kind, rest) = items.split_first().ok_or("an empty array")?;
    match (kind.uint("kind")?, direction) {
        (0, Direction::ServerToClient) => welcome(rest),
        (1, _) => {
            let events = match direction {
                Direction::ServerToClient => &schema["to_client"],
                Direction::ClientToServer => &schema["to_server"],
            };
            event(schema, events, rest)
        }
        (2, Direction::ServerToClient) => sync(schema, rest),
        (3, Direction::ServerToClient) => {
            let [seq, rtt] = rest else {
                return Err(format!("a ping has 3 elements, found {}", items.len()));
            };
            Ok(json!({"kind": "ping", "seq": seq.u32("seq")?, "rtt_us": rtt.u32("rtt_us")?}))
        }
        (4, Direction::ClientToServer) => {
            let [seq] = rest else {
                return Err(format!("a pong has 2 elements, found {}", items.len()));
            };
            Ok(json!({"kind": "pong", "seq": seq.u32("seq")?}))
        }
        (5, Direction::ServerToClient) => listing(schema, rest),
        (kind, direction) => Err(format!("no frame of kind {kind} goes {}", direction.name())),
    }
}

/// A listing: `[5, [[code, players, max_players, locked, metadata, …later]…]]`.
fn listing(schema: &Value, rest: &[Mp]) -> Result<Value, String> {
    let [entries] = rest else {
        return Err(format!(
            "a listing has 2 elements, found {}",
            rest.len() + 1
        ));
    };
    let mut matches = Vec::new();
    for entry in entries.items("listing")? {
        let [code, players, max_players, locked, metadata, ..] = entry.items("listing entry")?
        else {
            return Err("a listing entry has at least 5 elements".into());
        };
        let Mp::Bool(locked) = locked else {
            return Err("a listing entry's `locked` is not a boolean".into());
        };
        let metadata = match &schema["metadata"] {
            Value::Null => match metadata {
                Mp::Nil => Value::Null,
                _ => return Err("metadata in a listing of a protocol without any".into()),
            },
            ty => typed(schema, ty, metadata)?,
        };
        matches.push(json!({
            "code": code.text("code")?,
            "players": players.u32("players")?,
            "max_players": max_players.u32("max_players")?,
            "locked": locked,
            "metadata": metadata,
        }));
    }
    Ok(json!({"kind": "listing", "matches": matches}))
}

/// The keys of the welcome's settings that this wire version defines (the match's
/// code and kind, which come together, at the end: not required).
const SETTINGS: [&str; 12] = [
    "ping_interval_ms",
    "idle_timeout_ms",
    "max_frame_len",
    "rate_limit_per_second",
    "rate_limit_burst",
    "rate_limit_disconnect_after",
    "max_invalid_frames",
    "slow_consumer_timeout_ms",
    "resume_grace_ms",
    "resume_buffer_len",
    "match_code",
    "match_kind",
];

fn welcome(rest: &[Mp]) -> Result<Value, String> {
    let Some((version, rest)) = rest.split_first() else {
        return Err("a welcome without a wire version".into());
    };
    let version = version.uint("wire version")?;
    if version != nodelink::wire::WIRE_VERSION {
        return Err(format!("wire version {version}"));
    }
    let (fingerprint, player, net, tick_rate, settings, token, received) = match rest {
        [f, p, n, t, s] => (f, p, n, t, s, None, None),
        [f, p, n, t, s, token] => (f, p, n, t, s, Some(token), None),
        [f, p, n, t, s, token, received] => (f, p, n, t, s, Some(token), Some(received)),
        _ => {
            return Err(format!(
                "a welcome has 7 to 9 elements, found {}",
                rest.len() + 2
            ))
        }
    };
    let Mp::Map(entries) = settings else {
        return Err("settings: not a map".into());
    };
    let mut known = Map::new();
    for (key, value) in entries {
        let key = key.text("settings key")?;
        if known.contains_key(key) {
            return Err(format!("settings: `{key}` twice"));
        }
        // Unknown keys are skipped, whatever their values.
        if SETTINGS.contains(&key) {
            known.insert(key.to_owned(), value.untyped()?);
        }
    }
    let rate = SETTINGS[3..6]
        .iter()
        .filter(|key| known.contains_key(**key))
        .count();
    let required = SETTINGS[..10]
        .iter()
        .filter(|key| !SETTINGS[3..6].contains(key));
    if let Some(missing) = required.clone().find(|key| !known.contains_key(**key)) {
        return Err(format!("settings: no `{missing}`"));
    }
    if rate != 0 && rate != 3 {
        return Err("settings: half a rate limit".into());
    }
    if known.contains_key("match_code") != known.contains_key("match_kind") {
        return Err("settings: a match's code without its kind, or the other way".into());
    }
    let token = match token {
        Some(token) => {
            let text = token.text("resume token")?;
            if text.len() != 32 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("resume token {text:?}"));
            }
            json!(text)
        }
        None => Value::Null,
    };
    Ok(json!({
        "kind": "welcome",
        "wire_version": version,
        "fingerprint": format!("{:016x}", fingerprint.uint("fingerprint")?),
        "player_id": player_id(player, "player id")?,
        "net_id": net.u32("net id")?,
        "tick_rate": tick_rate.u32("tick rate")?,
        "settings": known,
        "resume_token": token,
        "received": received.map(|n| n.uint("received")).transpose()?,
    }))
}

fn event(schema: &Value, events: &Value, rest: &[Mp]) -> Result<Value, String> {
    let (name, values) = rest.split_first().ok_or("an event without a name")?;
    let name = name.text("event name")?;
    let variant = events["events"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|event| event["name"] == name)
        .ok_or_else(|| format!("unknown event `{name}`"))?;
    let fields = variant["fields"].as_array().ok_or("the schema's fields")?;
    if fields.len() != values.len() {
        return Err(format!(
            "event `{name}`: {} fields, found {}",
            fields.len(),
            values.len()
        ));
    }
    let mut out = Map::new();
    for (field, value) in fields.iter().zip(values) {
        let field_name = field["name"].as_str().ok_or("a field's name")?;
        out.insert(field_name.to_owned(), typed(schema, &field["type"], value)?);
    }
    Ok(json!({"kind": "event", "name": name, "fields": out}))
}

fn sync(schema: &Value, rest: &[Mp]) -> Result<Value, String> {
    if rest.len() != 7 && rest.len() != 9 {
        return Err(format!(
            "a sync frame has 8 or 10 elements, found {}",
            rest.len() + 1
        ));
    }
    let flags = rest[2].uint("flags")?;
    if flags > 3 {
        return Err(format!("flags {flags}: unknown bits"));
    }
    let left: Vec<u32> = rest[3]
        .items("left")?
        .iter()
        .map(|id| id.u32("left net id"))
        .collect::<Result<_, _>>()?;
    let joined = rest[4]
        .items("joined")?
        .iter()
        .map(|pair| match pair.items("joined entry")? {
            [net, player] => Ok(
                json!({"net_id": net.u32("net id")?, "player_id": player_id(player, "player id")?}),
            ),
            other => Err(format!(
                "a joined entry has 2 elements, found {}",
                other.len()
            )),
        })
        .collect::<Result<Vec<_>, String>>()?;
    let players = rest[5]
        .items("players")?
        .iter()
        .map(|entry| {
            let items = entry.items("player entry")?;
            let (net, values) = items.split_first().ok_or("an empty player entry")?;
            let fields = state_fields(schema, &schema["state"], values)?;
            Ok(json!({"net_id": net.u32("net id")?, "fields": fields}))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let server = match &rest[6] {
        Mp::Nil => Value::Null,
        other => state_fields(schema, &schema["server_state"], other.items("server")?)?,
    };
    let mut out = json!({
        "kind": "sync",
        "tick": rest[0].uint("tick")?,
        "online": rest[1].u32("online")?,
        "flags": flags,
        "left": left,
        "joined": joined,
        "players": players,
        "server": server,
    });
    if rest.len() == 9 {
        let entity = schema
            .get("entity")
            .ok_or("entity changes in a protocol without entities")?;
        let despawned: Vec<u32> = rest[7]
            .items("despawned")?
            .iter()
            .map(|id| id.u32("entity id"))
            .collect::<Result<_, _>>()?;
        let entities = rest[8]
            .items("entities")?
            .iter()
            .map(|entry| {
                let items = entry.items("entity entry")?;
                let (id, values) = items.split_first().ok_or("an empty entity entry")?;
                let fields = state_fields(schema, entity, values)?;
                Ok(json!({"entity_id": id.u32("entity id")?, "fields": fields}))
            })
            .collect::<Result<Vec<_>, String>>()?;
        out["despawned"] = json!(despawned);
        out["entities"] = json!(entities);
    }
    Ok(out)
}

/// `mask, value…` of a state (`null`: the state `()`, which has no fields) as an
/// object of the fields listed.
fn state_fields(schema: &Value, state: &Value, items: &[Mp]) -> Result<Value, String> {
    let (mask, values) = items.split_first().ok_or("no field mask")?;
    let mask = mask.uint("field mask")?;
    let synced: Vec<&Value> = state
        .get("fields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|field| field.get("index").is_some())
        .collect();
    if synced.len() < 64 && mask >> synced.len() != 0 {
        return Err(format!(
            "mask {mask:#b} names a field the state does not have"
        ));
    }
    let listed: Vec<&&Value> = synced
        .iter()
        .filter(|field| {
            field["index"]
                .as_u64()
                .is_some_and(|i| mask & (1 << i) != 0)
        })
        .collect();
    if state.get("one_of") == Some(&Value::Bool(true)) && listed.len() > 1 {
        return Err(format!(
            "an enum of kinds holds one kind, the mask {mask:#b} names {}",
            listed.len()
        ));
    }
    if listed.len() != values.len() {
        return Err(format!(
            "the mask names {} fields, {} values follow",
            listed.len(),
            values.len()
        ));
    }
    let mut out = Map::new();
    for (field, value) in listed.into_iter().zip(values) {
        let name = field["name"].as_str().ok_or("a field's name")?;
        out.insert(name.to_owned(), typed(schema, &field["type"], value)?);
    }
    Ok(Value::Object(out))
}

/// A value of type `ty`, as a state field of that type is written (so a nested
/// state, a `SyncMap` and a `SyncVec` in their parts).
fn typed(schema: &Value, ty: &Value, value: &Mp) -> Result<Value, String> {
    if let Some(primitive) = ty.as_str() {
        return match (primitive, value) {
            ("u8" | "u16" | "u32" | "u64" | "entity_id", Mp::Int(n)) => Ok(json!(u64::try_from(
                *n
            )
            .map_err(|_| format!("{n} is negative"))?)),
            ("i8" | "i16" | "i32" | "i64", Mp::Int(n)) => Ok(json!(*n as i64)),
            ("f32" | "f64", Mp::Float(x)) => Ok(json!(x)),
            ("bool", Mp::Bool(b)) => Ok(json!(b)),
            ("str" | "char", Mp::Str(text)) => Ok(json!(text)),
            ("unit", Mp::Nil) => Ok(Value::Null),
            ("player_id", value) => player_id(value, "player id"),
            (ty, value) => Err(format!("a {ty} written as {value:?}")),
        };
    }
    let (key, arg) = ty
        .as_object()
        .and_then(|object| object.iter().next())
        .ok_or("a type")?;
    match key.as_str() {
        "option" => match value {
            Mp::Nil => Ok(Value::Null),
            value => typed(schema, arg, value),
        },
        "seq" => value
            .items("seq")?
            .iter()
            .map(|item| typed(schema, arg, item))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        "ref" => {
            let name = arg.as_str().ok_or("a ref")?;
            let definition = &schema["types"][name];
            if let Some(state) = definition.get("state") {
                return state_fields(schema, state, value.items(name)?);
            }
            match definition["struct"]["kind"].as_str() {
                // A struct with named fields: an array of its fields' values.
                Some("named") => {
                    let fields = definition["struct"]["fields"].as_array().ok_or(name)?;
                    let values = value.items(name)?;
                    if values.len() != fields.len() {
                        return Err(format!(
                            "{name}: {} fields, found {}",
                            fields.len(),
                            values.len()
                        ));
                    }
                    let mut out = Map::new();
                    for (field, value) in fields.iter().zip(values) {
                        let field_name = field["name"].as_str().ok_or("a field's name")?;
                        out.insert(field_name.to_owned(), typed(schema, &field["type"], value)?);
                    }
                    Ok(Value::Object(out))
                }
                _ => Err(format!("the vectors use no {name}")),
            }
        }
        "sync_map" => {
            let [replace, removed, entries] = value.items("sync_map")? else {
                return Err("a SyncMap's value has 3 elements".into());
            };
            let Mp::Bool(replace) = replace else {
                return Err("a SyncMap's replace is a boolean".into());
            };
            let removed = removed
                .items("removed")?
                .iter()
                .map(|key| typed(schema, &arg[0], key))
                .collect::<Result<Vec<_>, _>>()?;
            let entries = entries
                .items("entries")?
                .iter()
                .map(|pair| match pair.items("entry")? {
                    [key, value] => Ok(json!([
                        typed(schema, &arg[0], key)?,
                        typed(schema, &arg[1], value)?
                    ])),
                    _ => Err("an entry is [key, value]".to_owned()),
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok(json!({"replace": replace, "removed": removed, "entries": entries}))
        }
        "sync_vec" => {
            let [len, entries] = value.items("sync_vec")? else {
                return Err("a SyncVec's value has 2 elements".into());
            };
            let entries = entries
                .items("entries")?
                .iter()
                .map(|pair| match pair.items("entry")? {
                    [index, value] => Ok(json!([index.uint("index")?, typed(schema, arg, value)?])),
                    _ => Err("an entry is [index, value]".to_owned()),
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok(json!({"len": len.uint("len")?, "entries": entries}))
        }
        "sync_deque" => {
            let [capacity, drop, entries] = value.items("sync_deque")? else {
                return Err("a SyncDeque's value has 3 elements".into());
            };
            let capacity = capacity.uint("capacity")?;
            if capacity > 1024 {
                return Err(format!("a SyncDeque of capacity {capacity}, past 1024"));
            }
            let drop = match drop {
                Mp::Nil => Value::Null,
                drop => match drop.uint("drop")? {
                    drop if drop > capacity => {
                        return Err(format!("a SyncDeque of capacity {capacity} drops {drop}"))
                    }
                    drop => json!(drop),
                },
            };
            let entries = entries.items("entries")?;
            if entries.len() as u64 > capacity {
                return Err(format!(
                    "a SyncDeque of capacity {capacity} pushes {}",
                    entries.len()
                ));
            }
            let entries = entries
                .iter()
                .map(|value| typed(schema, arg, value))
                .collect::<Result<Vec<_>, String>>()?;
            Ok(json!({"capacity": capacity, "drop": drop, "entries": entries}))
        }
        other => Err(format!("the vectors use no {other}")),
    }
}
