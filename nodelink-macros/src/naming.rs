//! Names derived from the user's identifiers.

/// `PlayerMoved` → `player_moved`, `HTTPRequest` → `http_request`; digits stay with
/// the word before them (`Move2D` → `move2d`).
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.trim_start_matches("r#").chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let previous = i.checked_sub(1).map(|p| chars[p]);
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let starts_word = match previous {
                None | Some('_') => false,
                Some(p) if p.is_lowercase() => true,
                Some(p) if p.is_uppercase() => next_is_lower,
                Some(_) => false,
            };
            if starts_word {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn converts_variant_names() {
        for (input, expected) in [
            ("Move", "move"),
            ("PlayerMoved", "player_moved"),
            ("HTTPRequest", "http_request"),
            ("Move2D", "move2d"),
            ("Already_Snake", "already_snake"),
            ("A", "a"),
            ("r#Match", "match"),
        ] {
            assert_eq!(snake_case(input), expected, "{input}");
        }
    }
}
