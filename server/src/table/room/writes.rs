//! Writes on the server's behalf (the facilitator's controls, votes, the
//! server-only maps): applied under the room lock like a client's update,
//! stored and delivered the same way, and answered once durable.

use yrs::TransactionMut;

use super::Room;

/// A server write that was applied here but not stored: storage failed,
/// or the table moved to another node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the change could not be stored")]
pub struct NotStored;

impl Room {
    /// Changes the document as the server (the only writer of `meta`,
    /// `control` and `votes`), then stores and delivers the change like any
    /// client's. `f` runs under the room lock, so it can check and write in
    /// one step.
    ///
    /// Answers once the change is durable (or storage failed, which closes
    /// the table): a handler that then says "done" says it of a stored change,
    /// and a summary read after it sees it.
    pub async fn write_as_server<R>(&self, f: impl FnOnce(&mut TransactionMut) -> R) -> R {
        self.write_stored(f).await.0
    }

    /// [`Room::write_as_server`] that says whether the change was stored:
    /// `Err` when storage failed or this node lost the
    /// table meanwhile, so a handler does not answer 2xx for a change that
    /// is not durable (`docs/scale-out.md`, Forwarding).
    pub async fn write_durably<R>(
        &self,
        f: impl FnOnce(&mut TransactionMut) -> R,
    ) -> Result<R, NotStored> {
        match self.write_stored(f).await {
            (result, true) => Ok(result),
            (_, false) => Err(NotStored),
        }
    }

    /// `f`'s result, and whether the change it made was stored.
    async fn write_stored<R>(&self, f: impl FnOnce(&mut TransactionMut) -> R) -> (R, bool) {
        let slot = self.persister.reserve().await;
        let (result, applied) = {
            let mut guard = self.lock();
            let state = &mut *guard;
            state.slots.extend(slot);
            let result = state.table.write_as_server(f, &mut state.out);
            self.execute(state, None).ok();
            let keep = state.table.backlogged_updates();
            state.slots.truncate(keep);
            (result, state.table.applied())
        };
        let mut stored = self.stored.subscribe();
        // Ends when the change is stored, or when storage failed (None).
        let stored = stored
            .wait_for(|s| s.is_none_or(|durable| durable >= applied))
            .await
            .is_ok_and(|s| s.is_some());
        (result, stored)
    }
}
