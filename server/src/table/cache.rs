//! The full-state cache: the answer to a fresh client's sync step 1
//! without encoding the document again.
//!
//! It holds every update applied since `seq`, as the frames the other peers
//! got, and the sync step 2 encoded at `seq`. A join storm costs at most
//! one encode, and a join after a few edits costs none. Once the updates
//! since outgrow [`FullState::max_since`], the cache lets go and the next
//! fresh join encodes anew.

use bytes::Bytes;

/// The cached answer for a client that has nothing, if there is one.
#[derive(Debug, Default)]
pub struct Cache {
    full: Option<FullState>,
}

#[derive(Debug)]
struct FullState {
    seq: u64,
    step2: Bytes,
    since: Vec<Bytes>,
    since_bytes: usize,
}

impl FullState {
    /// At least 64 KiB of updates, or a quarter of the document: sending a
    /// quarter more than a fresh encode would is cheaper than encoding.
    fn max_since(&self) -> usize {
        (self.step2.len() / 4).max(64 * 1024)
    }
}

impl Cache {
    /// The frames that bring a fresh client to the document as of `seq`,
    /// if the cache is current: every update since the encode is among
    /// them (nothing changed the document some other way). The updates go
    /// first and the step 2 last: a client counts as synced once it has
    /// applied its step 2, and by then it must have everything. It keeps the
    /// updates aside until the step 2 brings what they build on (Yjs'
    /// pending structs).
    pub fn frames(&self, seq: u64) -> Option<impl Iterator<Item = Bytes> + '_> {
        let full = self.full.as_ref()?;
        (full.seq + full.since.len() as u64 == seq).then(|| {
            full.since
                .iter()
                .cloned()
                .chain(std::iter::once(full.step2.clone()))
        })
    }

    /// Keeps `step2`, the whole document encoded at `seq`.
    pub fn store(&mut self, seq: u64, step2: Bytes) {
        self.full = Some(FullState {
            seq,
            step2,
            since: Vec::new(),
            since_bytes: 0,
        });
    }

    /// Adds an applied update's frame, or lets the cache go once the
    /// updates since it outgrow it.
    pub fn extend(&mut self, frame: &Bytes) {
        let Some(full) = &mut self.full else {
            return;
        };
        if full.since_bytes + frame.len() > full.max_since() {
            self.full = None;
            return;
        }
        full.since_bytes += frame.len();
        full.since.push(frame.clone());
    }

    /// The document was replaced: nothing cached describes it.
    pub fn clear(&mut self) {
        self.full = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_current_cache_answers_with_the_updates_then_the_step2() {
        let mut cache = Cache::default();
        assert!(cache.frames(0).is_none());
        cache.store(3, Bytes::from_static(b"step2"));
        cache.extend(&Bytes::from_static(b"u4"));
        cache.extend(&Bytes::from_static(b"u5"));
        let frames: Vec<Bytes> = cache.frames(5).unwrap().collect();
        assert_eq!(frames, [&b"u4"[..], b"u5", b"step2"]);
        assert!(cache.frames(6).is_none(), "an update it did not see");
    }

    #[test]
    fn the_cache_lets_go_once_the_updates_outgrow_it() {
        let mut cache = Cache::default();
        cache.store(0, Bytes::from_static(b"small document"));
        cache.extend(&Bytes::from(vec![0; 64 * 1024]));
        assert!(cache.frames(1).is_some());
        cache.extend(&Bytes::from_static(b"x"));
        assert!(cache.frames(2).is_none());
        cache.store(2, Bytes::from_static(b"again"));
        cache.clear();
        assert!(cache.frames(2).is_none());
    }
}
