//! JSON Patch (RFC 6902: `add`, `remove`, `replace`) between two versions
//! of a JSON value, and applying one: how the live summary reaches the
//! plenary as small deltas instead of the whole summary on every change.
//!
//! [`diff`] recurses into objects key by key and into arrays element by
//! element, after trimming what the two arrays share at their start and
//! end: a note typed into is one `replace` of its text, a note added one
//! `add`, a note removed one `remove`. What a patch cannot say more briefly
//! (a lane re-ranked) it replaces whole; the feed sends the full value
//! whenever the patch would be longer. The values diffed are the server's
//! own summaries, a handful of levels deep, so recursion is bounded.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One operation of a patch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Op {
    /// Inserts `value` at `path` (an array index shifts what follows; an
    /// object key is set).
    Add { path: String, value: Value },
    /// Removes what is at `path`.
    Remove { path: String },
    /// Replaces what is at `path` with `value`.
    Replace { path: String, value: Value },
}

/// Why a patch does not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the patch does not apply at '{path}'")]
pub struct PatchError {
    pub path: String,
}

/// The operations that turn `old` into `new`.
pub fn diff(old: &Value, new: &Value) -> Vec<Op> {
    let mut ops = Vec::new();
    diff_at(&mut String::new(), old, new, &mut ops);
    ops
}

/// Applies `ops` to `doc`, in order.
pub fn apply(doc: &mut Value, ops: &[Op]) -> Result<(), PatchError> {
    for op in ops {
        match op {
            Op::Add { path, value } => add(doc, path, value.clone()),
            Op::Remove { path } => remove(doc, path),
            Op::Replace { path, value } => replace(doc, path, value.clone()),
        }
        .ok_or_else(|| PatchError {
            path: op_path(op).to_string(),
        })?;
    }
    Ok(())
}

fn op_path(op: &Op) -> &str {
    match op {
        Op::Add { path, .. } | Op::Remove { path } | Op::Replace { path, .. } => path,
    }
}

fn diff_at(path: &mut String, old: &Value, new: &Value, ops: &mut Vec<Op>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(old), Value::Object(new)) => {
            for (key, old_value) in old {
                let len = path.len();
                push_token(path, key);
                match new.get(key) {
                    Some(new_value) => diff_at(path, old_value, new_value, ops),
                    None => ops.push(Op::Remove { path: path.clone() }),
                }
                path.truncate(len);
            }
            for (key, new_value) in new {
                if !old.contains_key(key) {
                    let len = path.len();
                    push_token(path, key);
                    ops.push(Op::Add {
                        path: path.clone(),
                        value: new_value.clone(),
                    });
                    path.truncate(len);
                }
            }
        }
        (Value::Array(old), Value::Array(new)) => diff_arrays(path, old, new, ops),
        _ => ops.push(Op::Replace {
            path: path.clone(),
            value: new.clone(),
        }),
    }
}

fn diff_arrays(path: &mut String, old: &[Value], new: &[Value], ops: &mut Vec<Op>) {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let room = old.len().min(new.len()) - prefix;
    let suffix = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take(room)
        .take_while(|(a, b)| a == b)
        .count();
    let old_mid = &old[prefix..old.len() - suffix];
    let new_mid = &new[prefix..new.len() - suffix];
    let len = path.len();
    // One element moved to the front or the back of what differs (a note
    // edited and re-ranked): a remove and an add, not a replace of each
    // element in between.
    let n = old_mid.len();
    if n > 2 && n == new_mid.len() {
        let moved = if old_mid[..n - 1] == new_mid[1..] {
            Some((n - 1, 0))
        } else if old_mid[1..] == new_mid[..n - 1] {
            Some((0, n - 1))
        } else {
            None
        };
        if let Some((from, to)) = moved {
            push_token(path, &(prefix + from).to_string());
            ops.push(Op::Remove { path: path.clone() });
            path.truncate(len);
            push_token(path, &(prefix + to).to_string());
            ops.push(Op::Add {
                path: path.clone(),
                value: new_mid[to].clone(),
            });
            path.truncate(len);
            return;
        }
    }
    let common = old_mid.len().min(new_mid.len());
    for i in 0..common {
        push_token(path, &(prefix + i).to_string());
        diff_at(path, &old_mid[i], &new_mid[i], ops);
        path.truncate(len);
    }
    // Removing at one index repeatedly takes out the run that follows it.
    push_token(path, &(prefix + common).to_string());
    for _ in common..old_mid.len() {
        ops.push(Op::Remove { path: path.clone() });
    }
    path.truncate(len);
    for (i, value) in new_mid.iter().enumerate().skip(common) {
        push_token(path, &(prefix + i).to_string());
        ops.push(Op::Add {
            path: path.clone(),
            value: value.clone(),
        });
        path.truncate(len);
    }
}

/// Appends `/token`, escaped as RFC 6901 says (`~` as `~0`, `/` as `~1`).
fn push_token(path: &mut String, token: &str) {
    path.push('/');
    for c in token.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}

/// The parent of what `path` names and the last token, unescaped.
fn parent<'a>(doc: &'a mut Value, path: &str) -> Option<(&'a mut Value, String)> {
    let (head, last) = path.rsplit_once('/')?;
    let parent = if head.is_empty() {
        doc
    } else {
        doc.pointer_mut(head)?
    };
    Some((parent, last.replace("~1", "/").replace("~0", "~")))
}

fn add(doc: &mut Value, path: &str, value: Value) -> Option<()> {
    if path.is_empty() {
        *doc = value;
        return Some(());
    }
    match parent(doc, path)? {
        (Value::Object(map), key) => {
            map.insert(key, value);
        }
        (Value::Array(items), key) => {
            let at = if key == "-" {
                items.len()
            } else {
                key.parse().ok()?
            };
            if at > items.len() {
                return None;
            }
            items.insert(at, value);
        }
        _ => return None,
    }
    Some(())
}

fn remove(doc: &mut Value, path: &str) -> Option<()> {
    match parent(doc, path)? {
        (Value::Object(map), key) => map.remove(&key).map(drop),
        (Value::Array(items), key) => {
            let at: usize = key.parse().ok()?;
            (at < items.len()).then(|| drop(items.remove(at)))
        }
        _ => None,
    }
}

fn replace(doc: &mut Value, path: &str, value: Value) -> Option<()> {
    let target = if path.is_empty() {
        doc
    } else {
        doc.pointer_mut(path)?
    };
    *target = value;
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(old: Value, new: Value) -> Vec<Op> {
        let ops = diff(&old, &new);
        let mut patched = old.clone();
        apply(&mut patched, &ops).unwrap();
        assert_eq!(patched, new, "{ops:?}");
        ops
    }

    #[test]
    fn an_edited_note_is_one_replace_of_its_text() {
        let notes = |text: &str| {
            json!({"tables": [{"lanes": {"goed": [
                {"id": "a", "text": "eerste"},
                {"id": "b", "text": text},
                {"id": "c", "text": "derde"},
            ]}}], "totals": {"notes": 3}})
        };
        let ops = round_trip(notes("twee"), notes("tweede"));
        assert_eq!(
            ops,
            [Op::Replace {
                path: "/tables/0/lanes/goed/1/text".into(),
                value: "tweede".into()
            }]
        );
    }

    #[test]
    fn arrays_grow_shrink_and_change_in_the_middle() {
        let ops = round_trip(json!([1, 2, 3]), json!([1, 9, 2, 3]));
        assert_eq!(ops.len(), 1, "{ops:?}");
        let ops = round_trip(json!([1, 2, 3, 4]), json!([1, 4]));
        assert_eq!(ops.len(), 2, "{ops:?}");
        round_trip(json!([1, 2, 3]), json!([3, 2, 1]));
        round_trip(json!([]), json!([{"a": 1}]));
        round_trip(json!([1, 1, 1]), json!([1, 1]));
        round_trip(json!([1, 2]), json!([1, 2, 2, 2]));
    }

    #[test]
    fn an_element_moved_to_the_front_or_back_is_one_remove_and_one_add() {
        let ops = round_trip(json!([0, 1, 2, 3, 4, 5, 6]), json!([0, 4, 1, 2, 3, 5, 6]));
        assert_eq!(ops.len(), 2, "{ops:?}");
        let ops = round_trip(json!([0, 1, 2, 3, 4, 5, 6]), json!([0, 2, 3, 4, 1, 5, 6]));
        assert_eq!(ops.len(), 2, "{ops:?}");
        // Moved and changed on the way.
        let ops = round_trip(
            json!([{"t": "a"}, {"t": "b"}, {"t": "c"}, {"t": "d"}]),
            json!([{"t": "d!"}, {"t": "a"}, {"t": "b"}, {"t": "c"}]),
        );
        assert_eq!(ops.len(), 2, "{ops:?}");
    }

    #[test]
    fn objects_gain_lose_and_change_keys_with_escaped_names() {
        round_trip(
            json!({"a/b": 1, "c~d": {"x": [1]}, "gone": true}),
            json!({"a/b": 2, "c~d": {"x": [1, 2]}, "new": null}),
        );
        round_trip(json!({"a": 1}), json!([1]));
        round_trip(json!(1), json!("x"));
    }

    #[test]
    fn a_patch_for_another_version_is_refused() {
        let ops = diff(&json!({"a": [1, 2]}), &json!({"a": [1]}));
        let mut other = json!({"b": 1});
        assert!(apply(&mut other, &ops).is_err());
    }
}
