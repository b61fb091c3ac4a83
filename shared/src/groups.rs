//! A table's groups as values (`docs/schema.md`, `groups`): each group's id and title, so
//! the werkboek can list which notes a table clustered together.

use serde::Serialize;
use yrs::{Doc, Map, Out, ReadTxn, Transact};

use crate::control::GROUPS;
use crate::schema::get_string;

/// A group of notes on a table board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: String,
    /// The title as typed; empty when nobody named the group.
    pub title: String,
}

/// Every group of `doc`, by title, then id.
pub fn read_groups(doc: &Doc) -> Vec<Group> {
    let txn = doc.transact();
    let Some(groups) = txn.get_map(GROUPS) else {
        return Vec::new();
    };
    let mut out: Vec<Group> = groups
        .iter(&txn)
        .filter_map(|(id, value)| match value {
            Out::YMap(map) => Some(Group {
                id: id.to_string(),
                title: get_string(&txn, &map, "title")
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            }),
            _ => None,
        })
        .collect();
    out.sort_by(|a, b| a.title.cmp(&b.title).then_with(|| a.id.cmp(&b.id)));
    out
}

#[cfg(test)]
mod tests {
    use yrs::{MapPrelim, TextPrelim, WriteTxn};

    use super::*;

    #[test]
    fn groups_read_back_by_title_with_their_typed_text() {
        let doc = Doc::new();
        {
            let mut txn = doc.transact_mut();
            let groups = txn.get_or_insert_map(GROUPS);
            for (id, title) in [("g2", "Samen beheren"), ("g1", " Data ")] {
                let g = groups.insert(&mut txn, id, MapPrelim::default());
                g.insert(&mut txn, "title", TextPrelim::new(title));
            }
        }
        let titles: Vec<(String, String)> = read_groups(&doc)
            .into_iter()
            .map(|g| (g.id, g.title))
            .collect();
        assert_eq!(
            titles,
            [
                ("g1".into(), "Data".into()),
                ("g2".into(), "Samen beheren".into())
            ]
        );
        assert!(read_groups(&Doc::new()).is_empty());
    }
}
