//! How a cluster node follows what other nodes changed (docs/scale-out.md,
//! "State shared between nodes"): the participant key renewed and the
//! poster stored elsewhere, as each heartbeat reads them from PostgreSQL.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::AppState;
use crate::http::error::AppError;
use crate::store::RoomKey;

impl AppState {
    /// Follows what a cluster's heartbeat reads from PostgreSQL, until
    /// `shutdown`: a participant key renewed on another node (a newer
    /// generation, or the same generation written last by a node renewing
    /// at the same moment) is installed here too, which refuses the old key
    /// and closes its connections with [`CLOSE_REVOKED`]; a poster another
    /// node stored is read and shown here too.
    pub async fn follow_shared(
        self,
        mut stored: tokio::sync::watch::Receiver<crate::cluster::lease::Shared>,
        shutdown: CancellationToken,
    ) {
        let mut poster_seen = None;
        // What the first heartbeat read (before this started) counts too.
        stored.mark_changed();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                changed = stored.changed() => if changed.is_err() { return },
            }
            let shared = stored.borrow_and_update().clone();
            if shared.poster_stored_at.is_some() && shared.poster_stored_at != poster_seen {
                poster_seen = shared.poster_stored_at.clone();
                self.reload_poster().await;
            }
            let Some(key) = shared.participant_key else {
                continue;
            };
            let _one_at_a_time = self.inner.renewing.lock().await;
            let current = self.keys();
            let newer = key.generation > current.generation
                || (key.generation == current.generation && key.join != current.join);
            if newer && self.install_participant_key(&key.join, key.generation) {
                tracing::info!(
                    generation = key.generation,
                    "the participant link was renewed on another node"
                );
            }
        }
    }

    /// Reads the uploaded poster from the shared blobs and shows it here.
    async fn reload_poster(&self) {
        let blobs = self.inner.blobs.clone();
        let read =
            tokio::task::spawn_blocking(move || blobs.get(crate::store::blobs::POSTER)).await;
        match read {
            Ok(Ok(Some(blob))) => {
                match crate::poster::PosterImage::check(axum::body::Bytes::from(blob.data)) {
                    Ok(image) => {
                        let tag = image.tag();
                        self.set_poster_image(Arc::new(image));
                        if let Err(error) = self.announce_poster(&tag).await {
                            tracing::warn!(%error, "announcing the poster failed");
                        }
                    }
                    Err(refusal) => tracing::warn!(%refusal, "the stored poster is refused"),
                }
            }
            Ok(Ok(None)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "reading the stored poster failed"),
            Err(error) => tracing::warn!(%error, "reading the stored poster failed"),
        }
    }

    /// Tells the open boards of the tables this node serves that the poster
    /// changed: the image's tag goes into each table's `control` (which
    /// every board syncs and observes), and a board then loads
    /// `poster?v={tag}`. In a cluster each node announces to the tables it
    /// holds, the uploading one at once and the others when their heartbeat
    /// sees the new poster ([`AppState::follow_shared`]); a table nobody
    /// holds has no open board to tell.
    pub async fn announce_poster(&self, tag: &str) -> Result<(), AppError> {
        for def in &self.event().tables {
            let key = RoomKey::new(&self.event().slug, def.id.as_str());
            if !self.directory().holds(&key) {
                continue;
            }
            let room = self.room(def).await?;
            room.write_as_server(|txn| werktafel_shared::poster::write_image_tag(txn, tag))
                .await;
        }
        Ok(())
    }

    /// Makes `join` (at `generation`) the participant key and closes what
    /// the old key opened; false if it is the key already.
    pub(super) fn install_participant_key(&self, join: &str, generation: u64) -> bool {
        let revoked = {
            let mut current = self
                .inner
                .keys
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if current.keys.join == join && current.keys.generation == generation {
                return false;
            }
            current.keys.join = join.to_owned();
            current.keys.generation = generation;
            std::mem::replace(&mut current.revoked, CancellationToken::new())
        };
        revoked.cancel();
        true
    }
}
