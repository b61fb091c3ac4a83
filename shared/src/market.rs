//! The market stand's Yjs document (`docs/schema.md`, "The stand document"): its `meta`,
//! written once by the server from the event's team; what the team writes (`stand`:
//! "waar staan we" and "ambities"; `materials`: links and files); the visitors' `tips`
//! (tips and questions); and the server-only `votes`, here the useful marks per tip.
//! Readers are lenient as in [`crate::schema`]; [`read_stand`] returns values.

use yrs::{Any, Doc, Map, ReadTxn, Transact, WriteTxn};

use crate::event::Team;
use serde::{Deserialize, Serialize};

use crate::schema::{META, any_array, any_i64, any_map, any_str, as_i64, key};

/// `meta.kind` of a stand document (a table's `meta` has no `kind`).
pub const STAND_KIND: &str = "stand";
/// The stand document's schema version (`meta.schemaVersion`).
pub const STAND_SCHEMA_VERSION: u32 = 1;

/// Top-level `Y.Map` of the team's texts.
pub const STAND: &str = "stand";
/// Top-level `Y.Map` from material id to material.
pub const MATERIALS: &str = "materials";
/// Top-level `Y.Map` from tip id to tip.
pub const TIPS: &str = "tips";
/// Every top-level name of a stand document, `meta` and `votes` (useful marks) server-only.
/// The store name of the event's server-only ledger of uploaded files (`market/files`): file
/// id → `{ size, kind, name, by }` under the root [`FILES_LEDGER_ROOT`]. Serving a file needs
/// its entry; the per-identity quota is counted from `by`.
pub const FILES_LEDGER: &str = "market/files";
/// Root of the files ledger.
pub const FILES_LEDGER_ROOT: &str = "files";
pub const STAND_ROOTS: [&str; 5] = [META, STAND, MATERIALS, TIPS, crate::control::VOTES];

/// Key names of a stand document beyond the table's ([`key`]).
pub mod stand_key {
    pub const KIND: &str = "kind";
    pub const TEAM: &str = "team";
    pub const MARKET_TITLE: &str = "marketTitle";
    /// In `stand`: "waar staan we" (`Y.Text`).
    pub const STATUS: &str = "status";
    /// In `stand`: "ambities" (`Y.Text`).
    pub const AMBITIONS: &str = "ambitions";
    /// In a material: `link` or `file`.
    pub const MATERIAL_KIND: &str = "kind";
    pub const URL: &str = "url";
    pub const FILE: &str = "file";
    pub const MIME: &str = "mime";
    pub const SIZE: &str = "size";
    /// In a tip: `tip` or `vraag`.
    pub const TIP_KIND: &str = "kind";
}

/// Keys of a material, in the order [`insert_material`] writes them.
pub const MATERIAL_KEYS: [&str; 9] = [
    "kind",
    "title",
    "url",
    "file",
    "mime",
    "size",
    "author",
    "authorId",
    "createdAt",
];
/// Keys of a tip, in the order [`insert_tip`] writes them.
pub const TIP_KEYS: [&str; 5] = ["kind", "text", "author", "authorId", "createdAt"];
/// Longest tip text a reader keeps, in characters (the web client stops at it too).
pub const MAX_TIP_CHARS: usize = 500;

/// Writes the stand's `meta` from `team` unless it already has a `schemaVersion`; returns
/// whether it wrote (as [`crate::schema::ensure_meta`], one transaction).
pub fn ensure_stand_meta(doc: &Doc, team: &Team, market_title: &str) -> bool {
    let mut txn = doc.transact_mut();
    let meta = txn.get_or_insert_map(META);
    if meta.get(&txn, key::SCHEMA_VERSION).is_some() {
        return false;
    }
    meta.insert(&mut txn, stand_key::KIND, STAND_KIND);
    meta.insert(&mut txn, stand_key::MARKET_TITLE, market_title);
    let focus = any_array(team.focus.iter().map(|f| Any::from(f.as_str())));
    let team = any_map([
        ("number", Any::from(team.number)),
        ("name", Any::from(team.name.as_str())),
        ("focus", focus),
    ]);
    meta.insert(&mut txn, stand_key::TEAM, team);
    // The team's two texts exist from the start, so two first writers edit
    // one `Y.Text` each instead of both creating one (and one losing).
    let stand = txn.get_or_insert_map(STAND);
    for name in [stand_key::STATUS, stand_key::AMBITIONS] {
        if stand.get(&txn, name).is_none() {
            stand.insert(&mut txn, name, yrs::TextPrelim::new(""));
        }
    }
    // Written last: its presence is what marks `meta` as complete.
    meta.insert(
        &mut txn,
        key::SCHEMA_VERSION,
        Any::from(STAND_SCHEMA_VERSION),
    );
    true
}

/// What a stand's `meta` says: its team and the market's title.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StandMeta {
    pub team: Team,
    pub market_title: String,
}

/// Reads a stand's `meta` back; `None` until [`ensure_stand_meta`] wrote it or for a table.
pub fn read_stand_meta(doc: &Doc) -> Option<StandMeta> {
    let txn = doc.transact();
    let meta = txn.get_map(META)?;
    let plain = |name: &str| match meta.get(&txn, name) {
        Some(yrs::Out::Any(any)) => Some(any),
        _ => None,
    };
    if !matches!(plain(stand_key::KIND), Some(Any::String(kind)) if &*kind == STAND_KIND) {
        return None;
    }
    let Some(Any::Map(team)) = plain(stand_key::TEAM) else {
        return None;
    };
    let number = any_i64(team.get("number")?).and_then(|n| u32::try_from(n).ok())?;
    let focus = match team.get("focus") {
        Some(Any::Array(items)) => items.iter().map(|f| any_str(Some(f))).collect(),
        _ => Vec::new(),
    };
    Some(StandMeta {
        team: Team {
            number,
            name: any_str(team.get("name")),
            focus,
        },
        market_title: any_str(plain(stand_key::MARKET_TITLE).as_ref()),
    })
}

/// Whether a visitor's note is a tip or a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TipKind {
    Tip,
    Vraag,
}

impl TipKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TipKind::Tip => "tip",
            TipKind::Vraag => "vraag",
        }
    }
}

/// A visitor's tip or question on a stand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tip {
    pub id: String,
    pub kind: TipKind,
    pub text: String,
    pub author: String,
    pub author_id: String,
    pub created_at: i64,
    /// Useful marks, as the server published them in `votes`.
    pub useful: u32,
}

/// A link or an uploaded file on a stand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Material {
    pub id: String,
    /// `link` or `file`.
    pub kind: String,
    pub title: String,
    /// The link (`http(s)://…`), or the file's path on this server.
    pub url: String,
    /// An uploaded file's id (its SHA-256, hex); empty for a link.
    pub file: String,
    pub mime: String,
    pub size: u64,
    pub author: String,
    pub created_at: i64,
}

/// A stand as values: what the overview, the tables' side panels and the exports read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StandSnapshot {
    pub room: String,
    pub team: Team,
    pub status: String,
    pub ambitions: String,
    pub materials: Vec<Material>,
    /// Newest first.
    pub tips: Vec<Tip>,
}

impl StandSnapshot {
    pub fn count(&self, kind: TipKind) -> usize {
        self.tips.iter().filter(|t| t.kind == kind).count()
    }

    pub fn useful_marks(&self) -> u32 {
        self.tips.iter().map(|t| t.useful).sum()
    }
}

/// Reads a stand document; `team` is the event's (the document's `meta` may lag a renamed team).
pub fn read_stand(doc: &Doc, team: &Team) -> StandSnapshot {
    let txn = doc.transact();
    let useful = crate::control::read_vote_totals_in(&txn);
    let text_of = |map: &yrs::MapRef, name: &str| {
        crate::schema::get_string(&txn, map, name).unwrap_or_default()
    };
    let int_of = |map: &yrs::MapRef, name: &str| map.get(&txn, name).as_ref().and_then(as_i64);
    let stand = txn.get_map(STAND);
    let mut tips: Vec<Tip> = entries(&txn, TIPS)
        .into_iter()
        .filter_map(|(id, map)| {
            let text: String = text_of(&map, "text").chars().take(MAX_TIP_CHARS).collect();
            if text.trim().is_empty() {
                return None;
            }
            let kind = match text_of(&map, stand_key::TIP_KIND).as_str() {
                "vraag" => TipKind::Vraag,
                _ => TipKind::Tip,
            };
            Some(Tip {
                useful: useful.get(&id).copied().unwrap_or(0),
                kind,
                text,
                author: text_of(&map, "author"),
                author_id: text_of(&map, "authorId"),
                created_at: int_of(&map, "createdAt").unwrap_or(0),
                id,
            })
        })
        .collect();
    tips.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| a.id.cmp(&b.id))
    });
    let mut materials: Vec<Material> = entries(&txn, MATERIALS)
        .into_iter()
        .map(|(id, map)| Material {
            kind: text_of(&map, stand_key::MATERIAL_KIND),
            title: text_of(&map, "title"),
            url: text_of(&map, stand_key::URL),
            file: text_of(&map, stand_key::FILE),
            mime: text_of(&map, stand_key::MIME),
            size: int_of(&map, stand_key::SIZE)
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0),
            author: text_of(&map, "author"),
            created_at: int_of(&map, "createdAt").unwrap_or(0),
            id,
        })
        .collect();
    materials.sort_by(|a, b| {
        a.created_at
            .cmp(&b.created_at)
            .then_with(|| a.id.cmp(&b.id))
    });
    StandSnapshot {
        room: crate::room::stand_room(team.number),
        team: team.clone(),
        status: stand
            .as_ref()
            .map(|m| text_of(m, stand_key::STATUS))
            .unwrap_or_default(),
        ambitions: stand
            .as_ref()
            .map(|m| text_of(m, stand_key::AMBITIONS))
            .unwrap_or_default(),
        materials,
        tips,
    }
}

/// The `Y.Map` entries of the top-level map `root` (others are skipped).
fn entries<T: ReadTxn>(txn: &T, root: &str) -> Vec<(String, yrs::MapRef)> {
    let Some(map) = txn.get_map(root) else {
        return Vec::new();
    };
    map.iter(txn)
        .filter_map(|(id, value)| match value {
            yrs::Out::YMap(m) => Some((id.to_string(), m)),
            _ => None,
        })
        .collect()
}

/// A new tip, as [`insert_tip`] writes it (what the web client writes).
#[derive(Debug, Clone, PartialEq)]
pub struct TipDraft {
    pub id: String,
    pub kind: TipKind,
    pub text: String,
    pub author: String,
    pub author_id: String,
    pub now_ms: i64,
}

/// Writes `tips[draft.id]` (as [`crate::schema::insert_note`], inside the caller's transaction).
pub fn insert_tip(txn: &mut yrs::TransactionMut, draft: &TipDraft) {
    let tips = txn.get_or_insert_map(TIPS);
    let tip = tips.insert(txn, draft.id.as_str(), yrs::MapPrelim::default());
    tip.insert(txn, "kind", draft.kind.as_str());
    tip.insert(txn, "text", draft.text.as_str());
    tip.insert(txn, "author", draft.author.as_str());
    tip.insert(txn, "authorId", draft.author_id.as_str());
    tip.insert(
        txn,
        "createdAt",
        Any::Number(yrs::Number::Float(draft.now_ms as f64)),
    );
}

/// Writes the team's two texts (`status`, `ambitions`) as `Y.Text`s, replacing what was there.
pub fn write_stand_texts(doc: &Doc, status: &str, ambitions: &str) {
    let mut txn = doc.transact_mut();
    let stand = txn.get_or_insert_map(STAND);
    stand.insert(&mut txn, stand_key::STATUS, yrs::TextPrelim::new(status));
    stand.insert(
        &mut txn,
        stand_key::AMBITIONS,
        yrs::TextPrelim::new(ambitions),
    );
}

/// A new material, as [`insert_material`] writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct MaterialDraft {
    pub id: String,
    pub material: Material,
    pub author_id: String,
}

/// Writes `materials[draft.id]` with every key of [`MATERIAL_KEYS`], inside the caller's
/// transaction (the server's, for an upload).
pub fn insert_material(txn: &mut yrs::TransactionMut, draft: &MaterialDraft) {
    let m = &draft.material;
    let materials = txn.get_or_insert_map(MATERIALS);
    let map = materials.insert(txn, draft.id.as_str(), yrs::MapPrelim::default());
    map.insert(txn, "kind", m.kind.as_str());
    map.insert(txn, "title", m.title.as_str());
    map.insert(txn, "url", m.url.as_str());
    map.insert(txn, "file", m.file.as_str());
    map.insert(txn, "mime", m.mime.as_str());
    map.insert(txn, "size", Any::Number(yrs::Number::Float(m.size as f64)));
    map.insert(txn, "author", m.author.as_str());
    map.insert(txn, "authorId", draft.author_id.as_str());
    map.insert(
        txn,
        "createdAt",
        Any::Number(yrs::Number::Float(m.created_at as f64)),
    );
}

#[cfg(test)]
mod tests;
