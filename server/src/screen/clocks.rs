//! The document's clock per client, which the room keeps beside the
//! document: the hole check needs one client's clock per update, and yrs
//! hands out only whole state vectors.

use yrs::{ClientID, Doc, ReadTxn, StateVector, Transact};

use super::Item;

/// The document's clock per client: the first clock the room does not have.
#[derive(Debug, Default)]
pub struct Clocks(StateVector);

impl Clocks {
    /// The clocks of `doc` as it is now.
    pub fn of(doc: &Doc) -> Clocks {
        Clocks(doc.transact().state_vector())
    }

    /// Refuses an update with a block beyond what the room has of its
    /// client (a hole); `items` is what it inserts ([`scan`]: each client's
    /// blocks together, by clock).
    pub fn check(&self, items: &[Item]) -> Result<(), String> {
        let mut current: Option<(ClientID, u32)> = None;
        for item in items {
            let have = match &mut current {
                Some((client, have)) if *client == item.client => have,
                _ => &mut current.insert((item.client, self.0.get(&item.client))).1,
            };
            if item.clock > *have {
                return Err(format!(
                    "the update starts client {} at clock {} but the table has it up to {have}",
                    item.client, item.clock
                ));
            }
            *have = (*have).max(item.clock + item.len);
        }
        Ok(())
    }

    /// Takes in what an applied update inserted.
    pub fn advance(&mut self, items: &[Item]) {
        for item in items {
            self.0.set_max(item.client, item.clock + item.len);
        }
    }

    /// The state vector these clocks make (a sync step 1 asks for what lies beyond).
    pub fn state_vector(&self) -> &StateVector {
        &self.0
    }

    /// The clock of one client (0 when the document has nothing of it).
    pub fn get(&self, client: &ClientID) -> u32 {
        self.0.get(client)
    }
}
