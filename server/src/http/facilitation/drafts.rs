//! Private writing's other half: every participant's drafts of a table,
//! and revealing them, moved onto the table below what each lane holds.

use std::collections::HashMap;
use std::sync::Arc;

use werktafel_shared::event::TableDef;
use werktafel_shared::schema::{self, NoteDraft};

use crate::http::error::AppError;
use crate::http::state::AppState;
use crate::store::RoomKey;
use crate::table::room::Room;

/// Vertical room a revealed note takes in its lane, in board units (a note
/// is about 120 units high).
const REVEAL_SPACING: f64 = 140.0;

/// Moves every participant's drafts of `def` onto the table, then clears them.
pub(super) async fn reveal(state: &AppState, def: &TableDef, table: &Room) -> Result<(), AppError> {
    for drafts in drafts_rooms(state, def).await? {
        let notes = drafts.read(schema::read_notes);
        if notes.is_empty() {
            continue;
        }
        // Drafts were placed on each writer's own board; on the table they
        // go below what the lane already holds, one under the other.
        let mut next_y: HashMap<schema::Lane, f64> = HashMap::new();
        for note in table.read(schema::read_notes) {
            let y = next_y.entry(note.lane).or_insert(0.0);
            *y = y.max(note.y + REVEAL_SPACING);
        }
        table
            .write_durably(|txn| {
                for note in &notes {
                    let y = next_y.entry(note.lane).or_insert(0.0);
                    let at = *y;
                    *y += REVEAL_SPACING;
                    schema::insert_note(
                        txn,
                        &NoteDraft {
                            id: note.id.clone(),
                            text: note.text.clone(),
                            lane: note.lane,
                            color: note.color,
                            x: note.x,
                            y: at,
                            author: note.author.clone(),
                            author_id: note.author_id.clone(),
                            now_ms: note.created_at,
                        },
                    );
                }
            })
            .await?;
        drafts
            .write_durably(|txn| {
                for note in &notes {
                    schema::delete_note(txn, &note.id);
                }
            })
            .await?;
    }
    Ok(())
}

/// Every participant's drafts room of `def`, stored or in memory.
pub(super) async fn drafts_rooms(
    state: &AppState,
    def: &TableDef,
) -> Result<Vec<Arc<Room>>, AppError> {
    let prefix = format!("{}{}", def.id, crate::table::rooms::DRAFTS_PART);
    let slug = state.event().slug.clone();
    let mut keys: Vec<RoomKey> = state
        .rooms()
        .persister()
        .rooms()
        .await?
        .into_iter()
        .filter(|k| *k.event == *slug && k.table.starts_with(&prefix))
        .collect();
    for room in state.rooms().loaded() {
        let key = room.key();
        if *key.event == *slug && key.table.starts_with(&prefix) && !keys.contains(key) {
            keys.push(key.clone());
        }
    }
    let mut rooms = Vec::with_capacity(keys.len());
    for key in keys {
        rooms.push(state.drafts_room(key).await?);
    }
    Ok(rooms)
}
