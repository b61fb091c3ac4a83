//! `Attendance`: which signed identities are connected to each table now.
//! Filled by the sync route, read by the console; kept apart from the
//! identity handlers so that `AppState` can hold it without importing them.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::access::Identity;

/// Which signed identities are connected to each table now; cheap to clone.
/// Filled by the sync route for table connections that present an identity
/// (the browser's cookie or a `token`), read by the console.
#[derive(Clone, Default)]
pub struct Attendance {
    tables: Arc<Mutex<HashMap<String, HashMap<String, usize>>>>,
}

/// One connection's place in the [`Attendance`]; dropping it leaves.
pub struct Present {
    attendance: Attendance,
    table: String,
    id: String,
}

impl Attendance {
    /// Counts `identity` as connected at `table` until the guard drops.
    pub fn arrive(&self, table: &str, identity: &Identity) -> Present {
        *self
            .lock()
            .entry(table.to_string())
            .or_default()
            .entry(identity.id.clone())
            .or_default() += 1;
        Present {
            attendance: self.clone(),
            table: table.to_string(),
            id: identity.id.clone(),
        }
    }

    /// The ids of the identities connected at `table` now.
    pub fn at(&self, table: &str) -> HashSet<String> {
        self.lock()
            .get(table)
            .map(|ids| ids.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, HashMap<String, usize>>> {
        self.tables
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for Present {
    fn drop(&mut self) {
        let mut tables = self.attendance.lock();
        if let Some(ids) = tables.get_mut(&self.table)
            && let Some(n) = ids.get_mut(&self.id)
        {
            *n -= 1;
            if *n == 0 {
                ids.remove(&self.id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attendance_counts_each_identity_once_until_its_last_connection_leaves() {
        let attendance = Attendance::default();
        let anna = Identity {
            id: "anna".into(),
            name: "Anna".into(),
            expires_at: 0,
        };
        let first = attendance.arrive("a", &anna);
        let second = attendance.arrive("a", &anna);
        assert_eq!(attendance.at("a").len(), 1);
        drop(first);
        assert_eq!(attendance.at("a").len(), 1);
        drop(second);
        assert!(attendance.at("a").is_empty());
        assert!(attendance.at("b").is_empty());
    }
}
