//! JSON nested deeper than the decoder parses: the deep values are cut, the packet is kept.
//!
//! serde_json stops at a fixed nesting depth (its `Deserializer` starts with
//! `remaining_depth: 128` and fails with "recursion limit exceeded" when a 128th array or object
//! opens, serde_json 1.0 `src/de.rs`), which bounds its stack use on hostile input. Failing the
//! whole payload would lose what the rest of the packet says (type, namespace, ack id, event
//! name), so [`cut_deep`] replaces each value nested deeper than the limit by `null` before the
//! payload is parsed, and the decoder reports the cut (`sio-json-too-deep`) beside the packet.

/// The deepest nesting kept: one less than the level at which serde_json refuses.
pub const MAX_JSON_DEPTH: usize = 127;

/// `text` with every array or object that opens deeper than `max` levels replaced by `null`, or
/// `None` when nothing is that deep (the text is then parsed as it is). Strings are skipped
/// (brackets inside them do not count); text that is not JSON stays as broken as it was.
pub fn cut_deep(text: &str, max: usize) -> Option<String> {
    let bytes = text.as_bytes();
    // Nesting deeper than `max` needs more than `max` opening brackets: a text with fewer (every
    // webcam frame, nearly every event) is not walked byte by byte. The count is a plain loop
    // over the bytes that the compiler vectorises; brackets inside strings are counted too,
    // which can only send a text to the exact walk below, never away from it.
    if opening_brackets(bytes) <= max {
        return None;
    }
    walk(text, max)
}

/// [`cut_deep`] without its fast path: every byte walked.
fn walk(text: &str, max: usize) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    // Start of the text not copied to `out` yet.
    let mut copied = 0;
    let mut depth = 0usize;
    // While inside a value being cut: the depth at which it opened.
    let mut cutting: Option<usize> = None;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max && cutting.is_none() {
                    cutting = Some(depth);
                    let o = out.get_or_insert_with(String::new);
                    o.push_str(text.get(copied..i).unwrap_or_default());
                    o.push_str("null");
                }
            }
            b']' | b'}' => {
                if cutting == Some(depth) {
                    cutting = None;
                    copied = i + 1;
                }
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
    }
    let mut o = out?;
    if cutting.is_none() {
        o.push_str(text.get(copied..).unwrap_or_default());
    }
    Some(o)
}

/// How many `[` and `{` the bytes hold, wherever they are. Counted per 64-byte chunk into a
/// byte (at most 64, no overflow), which the compiler turns into vector compares.
fn opening_brackets(bytes: &[u8]) -> usize {
    bytes
        .chunks(64)
        .map(|chunk| {
            let n = chunk
                .iter()
                .fold(0u8, |n, &b| n + u8::from((b == b'[') | (b == b'{')));
            usize::from(n)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn nested(levels: usize) -> String {
        format!("{}1{}", "[".repeat(levels), "]".repeat(levels))
    }

    /// The limit is serde_json's own, measured: 127 levels parse, 128 do not.
    #[test]
    fn the_limit_is_where_serde_json_stops() {
        assert!(serde_json::from_str::<Value>(&nested(MAX_JSON_DEPTH)).is_ok());
        let e = serde_json::from_str::<Value>(&nested(MAX_JSON_DEPTH + 1)).unwrap_err();
        assert!(e.to_string().starts_with("recursion limit exceeded"), "{e}");
        assert_eq!(cut_deep(&nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH), None);
    }

    #[test]
    fn values_deeper_than_the_limit_become_null_and_the_rest_stays() {
        let text = r#"["ev",{"a":[[1]],"s":"[[[[\"]"},[[2,[3]]],4]"#;
        assert_eq!(
            cut_deep(text, 2).as_deref(),
            Some(r#"["ev",{"a":null,"s":"[[[[\"]"},[null],4]"#)
        );
        assert_eq!(
            cut_deep(text, 3).as_deref(),
            Some(r#"["ev",{"a":[null],"s":"[[[[\"]"},[[2,null]],4]"#)
        );
        assert_eq!(cut_deep(text, 4), None);
        // Far beyond serde's limit: still parsed, the deep part cut.
        let deep = format!(r#"["ev",{}]"#, nested(100_000));
        let cut = cut_deep(&deep, MAX_JSON_DEPTH).unwrap();
        let v: Value = serde_json::from_str(&cut).unwrap();
        assert_eq!(v[0], "ev");
        // Unbalanced input stays unbalanced: the parser reports it.
        assert_eq!(cut_deep("[[[", 1).as_deref(), Some("[null"));
    }

    /// The bracket count only decides whether the exact walk runs: brackets in strings count
    /// toward it but never toward the depth, and exactly `max` brackets nest at most `max` deep.
    #[test]
    fn the_bracket_count_fast_path_agrees_with_the_walk() {
        // 3 brackets, limit 3: at most 3 deep, nothing cut.
        assert_eq!(cut_deep("[[[1]]]", 3), None);
        // 4 brackets but three of them inside a string: walked, 1 deep, nothing cut.
        assert_eq!(cut_deep(r#"["[[["]"#, 3), None);
        // 4 brackets, 4 deep, limit 3: cut.
        assert_eq!(cut_deep("[[[[1]]]]", 3).as_deref(), Some("[[[null]]]"));
        // A large payload without brackets (a data: URL) is never cut.
        let frame = format!(
            r#"["frame","data:image/jpeg;base64,{}"]"#,
            "A".repeat(300_000)
        );
        assert_eq!(cut_deep(&frame, MAX_JSON_DEPTH), None);
        assert_eq!(opening_brackets(br#"{"a":[1,{"b":"["}]}"#), 4);
    }

    proptest::proptest! {
        /// The fast path never changes the answer: texts of brackets, quotes, escapes and
        /// other bytes, at every limit from 0 to 6.
        #[test]
        fn the_fast_path_gives_what_the_walk_gives(
            text in "[\\[\\]{}\"\\\\a,:1]{0,40}",
            max in 0usize..7,
        ) {
            proptest::prop_assert_eq!(cut_deep(&text, max), walk(&text, max));
        }
    }
}
