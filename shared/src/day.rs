//! The rest of the atelier day beside the tables, as values: the morning market (stands and
//! their tips) and the lecture board (insights, +1s, pins), plus the closing feedback's next
//! steps. The server reads them from their documents into a [`DaySnapshot`]; the summary's
//! day view and the werkboek are made from it.
//!
//! [`MarketSummary`] is the typed seam to the market's stand documents: a stand read with
//! [`crate::market::read_stand`] becomes a [`StandSnapshot`] here (`From`); nothing here
//! knows the stand document's key names.

use serde::Serialize;

use crate::closing::ClosingStep;

/// How many tips per stand the day view lists (the werkboek lists all).
pub const TOP_TIPS: usize = 3;
/// How many lecture insights the day view lists beside the pinned ones.
pub const TOP_INSIGHTS: usize = 5;

/// Everything of the day that is not a table: the input of the day view and the werkboek.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DaySnapshot {
    pub market: MarketSummary,
    pub lecture: LectureSnapshot,
    /// The closing feedback's next steps, in the facilitator's order.
    pub closing: Vec<ClosingStep>,
}

/// The morning market: one stand per development team, in the event's team order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketSummary {
    pub stands: Vec<StandSnapshot>,
}

/// One team's stand, as its team wrote it, with the visitors' tips.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StandSnapshot {
    /// The development team's number (OT 1–6).
    pub team: u32,
    pub name: String,
    /// "Waar staan we".
    pub status: String,
    /// "Materiaal": links and uploaded files.
    pub materials: Vec<Material>,
    /// "Ambities".
    pub ambitions: String,
    /// Tips and questions, most marked useful first (see [`rank_items`]).
    pub tips: Vec<BoardItem>,
}

/// A link or an uploaded file on a stand.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Material {
    pub title: String,
    /// An absolute link, or the server path of an uploaded file.
    pub url: String,
}

/// The lecture board ("zaal"): every insight and question.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LectureSnapshot {
    pub items: Vec<BoardItem>,
}

/// A one-line item of a light board: a stand's tip or a lecture insight.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BoardItem {
    pub id: String,
    pub text: String,
    /// `inzicht` or `vraag` on the lecture board, `tip` or `vraag` on a stand.
    pub kind: String,
    /// Empty when unknown or anonymized.
    pub author: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// +1s (lecture) or "useful" marks (stand), one per signed identity.
    pub plus_ones: u32,
    /// The facilitator's pin position (0 first); `None` when not pinned.
    pub pinned: Option<u32>,
}

/// The lecture as the day view shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LectureSummary {
    pub count: usize,
    /// Pinned by the facilitator, in pin order: what the closing feedback takes along.
    pub pinned: Vec<BoardItem>,
    /// The most +1'd of the rest, at most [`TOP_INSIGHTS`].
    pub top: Vec<BoardItem>,
}

/// One stand as the day view shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StandSummary {
    pub team: u32,
    pub name: String,
    pub tip_count: usize,
    /// The most useful tips, at most [`TOP_TIPS`].
    pub top_tips: Vec<BoardItem>,
}

/// The order of a board's items: most +1s first, then oldest first (it had longer to
/// collect them, and the list stays put while people read), then id.
pub fn rank_items(items: &mut [BoardItem]) {
    items.sort_by(|a, b| {
        b.plus_ones
            .cmp(&a.plus_ones)
            .then(a.created_at.cmp(&b.created_at))
            .then_with(|| a.id.cmp(&b.id))
    });
}

impl LectureSnapshot {
    /// Pinned items in pin order.
    pub fn pinned(&self) -> Vec<BoardItem> {
        let mut pinned: Vec<BoardItem> = self
            .items
            .iter()
            .filter(|i| i.pinned.is_some())
            .cloned()
            .collect();
        pinned.sort_by_key(|i| (i.pinned, i.created_at));
        pinned
    }

    /// Every item, ranked ([`rank_items`]).
    pub fn ranked(&self) -> Vec<BoardItem> {
        let mut items = self.items.clone();
        rank_items(&mut items);
        items
    }

    pub fn summary(&self) -> LectureSummary {
        LectureSummary {
            count: self.items.len(),
            pinned: self.pinned(),
            top: self
                .ranked()
                .into_iter()
                .filter(|i| i.pinned.is_none())
                .take(TOP_INSIGHTS)
                .collect(),
        }
    }
}

impl MarketSummary {
    /// Every stand with its count and best tips.
    pub fn summary(&self) -> Vec<StandSummary> {
        self.stands
            .iter()
            .map(|stand| {
                let mut tips = stand.tips.clone();
                rank_items(&mut tips);
                tips.truncate(TOP_TIPS);
                StandSummary {
                    team: stand.team,
                    name: stand.name.clone(),
                    tip_count: stand.tips.len(),
                    top_tips: tips,
                }
            })
            .collect()
    }
}

impl From<&crate::market::StandSnapshot> for StandSnapshot {
    fn from(stand: &crate::market::StandSnapshot) -> StandSnapshot {
        StandSnapshot {
            team: stand.team.number,
            name: stand.team.name.clone(),
            status: stand.status.clone(),
            materials: stand
                .materials
                .iter()
                .map(|m| Material {
                    title: m.title.clone(),
                    url: m.url.clone(),
                })
                .collect(),
            ambitions: stand.ambitions.clone(),
            tips: stand
                .tips
                .iter()
                .map(|tip| BoardItem {
                    id: tip.id.clone(),
                    text: tip.text.clone(),
                    kind: tip.kind.as_str().to_string(),
                    author: tip.author.clone(),
                    created_at: tip.created_at,
                    plus_ones: tip.useful,
                    pinned: None,
                })
                .collect(),
        }
    }
}

impl DaySnapshot {
    /// Author names left out of every tip and insight (the next steps have none; their
    /// owner is what the room agreed, not who typed it).
    pub fn anonymize(&mut self) {
        let items = self
            .market
            .stands
            .iter_mut()
            .flat_map(|s| s.tips.iter_mut())
            .chain(self.lecture.items.iter_mut());
        for item in items {
            item.author.clear();
        }
    }
}
