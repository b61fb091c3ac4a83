//! Who may do what. Each event has three keys, made on first start and kept
//! in the data directory: participants join with one, the plenary watches
//! with another (read-only), the facilitator steers with the third. A
//! participant's identity (a random id plus their name) is signed by the
//! server, so nobody votes or writes drafts as someone else.
//!
//! Keys travel as the `key` query parameter (a stock y-websocket client
//! passes it through its `params` option), are compared in constant time,
//! and are never logged.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};
use subtle::ConstantTimeEq;

use crate::store::{Store, StoreError};

/// What a request may do, from the key it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Joins tables and edits notes.
    Participant,
    /// Reads everything and writes nothing: the plenary screen.
    Viewer,
    /// Everything a participant may, plus steering the tables.
    Facilitator,
}

impl Role {
    pub fn may_write(self) -> bool {
        !matches!(self, Role::Viewer)
    }
}

/// The keys of one event.
#[derive(Clone)]
pub struct EventKeys {
    pub join: String,
    pub view: String,
    pub facilitate: String,
    /// How often the participant key was renewed; identity tokens carry the
    /// generation they were issued in and are refused after a renewal.
    pub generation: u64,
}

impl std::fmt::Debug for EventKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventKeys { .. }")
    }
}

impl EventKeys {
    /// The keys of `slug`, made and stored on first use.
    pub fn load_or_create(store: &mut dyn Store, slug: &str) -> Result<EventKeys, StoreError> {
        let mut key = |kind: &str| store.secret(&format!("event/{slug}/{kind}"), &random_token(16));
        Ok(EventKeys {
            join: key("join")?,
            view: key("view")?,
            facilitate: key("facilitate")?,
            generation: store
                .secret(&generation_name(slug), "0")?
                .parse()
                .unwrap_or(0),
        })
    }

    /// These keys with a fresh participant key, one generation on.
    pub fn renewed(&self) -> EventKeys {
        EventKeys {
            join: random_token(16),
            generation: self.generation + 1,
            ..self.clone()
        }
    }

    /// The stored secrets that hold the participant key of `slug` and its
    /// generation, as (name, value), for [`crate::store::SqliteStore::set_secrets`].
    pub fn join_secrets(&self, slug: &str) -> [(String, String); 2] {
        let [join, generation] = Self::join_secret_names(slug);
        [
            (join, self.join.clone()),
            (generation, self.generation.to_string()),
        ]
    }

    /// The names of the secrets [`EventKeys::join_secrets`] writes: what a
    /// cluster node reads to follow a key renewed on another node.
    pub fn join_secret_names(slug: &str) -> [String; 2] {
        [format!("event/{slug}/join"), generation_name(slug)]
    }

    /// The role `key` grants, if any; constant time in the key's content.
    pub fn role_of(&self, key: &str) -> Option<Role> {
        let key = key.as_bytes();
        // Check all three every time, so timing says nothing about which matched.
        let join = self.join.as_bytes().ct_eq(key);
        let view = self.view.as_bytes().ct_eq(key);
        let facilitate = self.facilitate.as_bytes().ct_eq(key);
        if bool::from(facilitate) {
            Some(Role::Facilitator)
        } else if bool::from(join) {
            Some(Role::Participant)
        } else if bool::from(view) {
            Some(Role::Viewer)
        } else {
            None
        }
    }
}

fn generation_name(slug: &str) -> String {
    format!("event/{slug}/join-generation")
}

/// A participant as the server vouches for them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Identity {
    pub id: String,
    pub name: String,
    /// When the token stops being accepted, in seconds since the epoch.
    #[serde(skip)]
    pub expires_at: u64,
}

/// What a token is issued under: when it expires and which generation of
/// the participant key it belongs to. Rotating the key (a new generation)
/// revokes every token of the ones before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    /// Seconds since the epoch.
    pub expires_at: u64,
    pub generation: u64,
}

/// Longest display name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 60;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdentityError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's signature does not match")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token belongs to a participant link that was renewed")]
    Revoked,
    #[error("a name of 1 to {MAX_NAME_CHARS} characters is required")]
    BadName,
}

/// `name` trimmed, if it is a display name we accept.
pub fn check_name(name: &str) -> Result<&str, IdentityError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(IdentityError::BadName);
    }
    Ok(name)
}

/// Signs and checks identity tokens with the server's secret.
#[derive(Clone)]
pub struct Signer {
    secret: Vec<u8>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer { .. }")
    }
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

impl Signer {
    /// The signer of this data directory, its secret made on first use.
    pub fn load_or_create(store: &mut dyn Store) -> Result<Signer, StoreError> {
        let secret = store.secret("server/identity-signing", &random_token(32))?;
        Ok(Signer {
            secret: secret.into_bytes(),
        })
    }

    /// A new identity for `name` in event `slug`, and its token.
    pub fn issue(
        &self,
        slug: &str,
        name: &str,
        terms: Terms,
    ) -> Result<(Identity, String), IdentityError> {
        self.reissue(slug, &random_token(12), name, terms)
    }

    /// The identity `id` under `name` (a device renaming itself keeps its
    /// id, its drafts and its votes), and its token.
    pub fn reissue(
        &self,
        slug: &str,
        id: &str,
        name: &str,
        terms: Terms,
    ) -> Result<(Identity, String), IdentityError> {
        let name = check_name(name)?;
        let identity = Identity {
            id: id.to_string(),
            name: name.to_string(),
            expires_at: terms.expires_at,
        };
        let token = self.token(slug, &identity, terms.generation);
        Ok((identity, token))
    }

    /// The identity a token carries, if this server signed it for `slug`,
    /// under participant key `generation`, and it has not expired at `now`
    /// (seconds since the epoch).
    pub fn verify(
        &self,
        slug: &str,
        token: &str,
        generation: u64,
        now: u64,
    ) -> Result<Identity, IdentityError> {
        let mut parts = token.split('.');
        let (Some(id), Some(name), Some(expires), Some(issued_in), Some(mac), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(IdentityError::Malformed);
        };
        let name = URL_SAFE_NO_PAD
            .decode(name)
            .ok()
            .and_then(|n| String::from_utf8(n).ok())
            .ok_or(IdentityError::Malformed)?;
        let expires_at: u64 = expires.parse().map_err(|_| IdentityError::Malformed)?;
        let issued_in: u64 = issued_in.parse().map_err(|_| IdentityError::Malformed)?;
        let mac = URL_SAFE_NO_PAD
            .decode(mac)
            .map_err(|_| IdentityError::Malformed)?;
        let mut check = self.mac();
        check.update(&payload(slug, id, &name, expires_at, issued_in));
        check
            .verify_slice(&mac)
            .map_err(|_| IdentityError::BadSignature)?;
        // Only a token this server signed gets this far: what it says about
        // its own validity can be believed.
        if issued_in != generation {
            return Err(IdentityError::Revoked);
        }
        if expires_at <= now {
            return Err(IdentityError::Expired);
        }
        Ok(Identity {
            id: id.to_string(),
            name,
            expires_at,
        })
    }

    fn token(&self, slug: &str, identity: &Identity, generation: u64) -> String {
        let mut mac = self.mac();
        mac.update(&payload(
            slug,
            &identity.id,
            &identity.name,
            identity.expires_at,
            generation,
        ));
        let sig = mac.finalize().into_bytes();
        format!(
            "{}.{}.{}.{generation}.{}",
            identity.id,
            URL_SAFE_NO_PAD.encode(identity.name.as_bytes()),
            identity.expires_at,
            URL_SAFE_NO_PAD.encode(sig)
        )
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes keys of any length.
        <HmacSha256 as KeyInit>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
    }
}

fn payload(slug: &str, id: &str, name: &str, expires_at: u64, generation: u64) -> Vec<u8> {
    format!("werktafel-identity-v2\0{slug}\0{id}\0{name}\0{expires_at}\0{generation}").into_bytes()
}

/// How many new identities one remote address may have minted per window.
/// Renaming an identity the device already holds is not minting.
#[derive(Debug, Default)]
pub struct MintLimiter {
    by_address: Mutex<HashMap<IpAddr, MintWindow>>,
}

#[derive(Debug, Clone, Copy)]
struct MintWindow {
    start: Instant,
    minted: u32,
}

/// Minting refused: the address has minted its `limit` in this window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this address has asked for {limit} new identities recently; try again in {} s", retry_after.as_secs().max(1))]
pub struct MintRefused {
    pub limit: u32,
    /// When the window ends and minting is allowed again.
    pub retry_after: Duration,
}

/// Addresses remembered before windows that are over are forgotten.
const MINT_ADDRESSES_KEPT: usize = 4096;

impl MintLimiter {
    /// Counts one new identity for `address` at `now`, or refuses it when
    /// `limit` were minted within `window` (a fixed window from the first).
    pub fn mint(
        &self,
        address: IpAddr,
        limit: u32,
        window: Duration,
        now: Instant,
    ) -> Result<(), MintRefused> {
        let mut map = self
            .by_address
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MINT_ADDRESSES_KEPT {
            map.retain(|_, w| now.duration_since(w.start) < window);
        }
        let entry = map.entry(address).or_insert(MintWindow {
            start: now,
            minted: 0,
        });
        if now.duration_since(entry.start) >= window {
            *entry = MintWindow {
                start: now,
                minted: 0,
            };
        }
        if entry.minted >= limit {
            return Err(MintRefused {
                limit,
                retry_after: window.saturating_sub(now.duration_since(entry.start)),
            });
        }
        entry.minted += 1;
        Ok(())
    }
}

/// `bytes` random bytes, URL-safe base64 without padding.
pub fn random_token(bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    URL_SAFE_NO_PAD.encode(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> Signer {
        Signer {
            secret: b"test secret".to_vec(),
        }
    }

    const NOW: u64 = 1_700_000_000;
    const TERMS: Terms = Terms {
        expires_at: NOW + 3600,
        generation: 0,
    };

    #[test]
    fn a_token_round_trips_and_binds_event_id_and_name() {
        let (identity, token) = signer().issue("ev", "  Anna de Vries ", TERMS).unwrap();
        assert_eq!(identity.name, "Anna de Vries");
        assert_eq!(signer().verify("ev", &token, 0, NOW), Ok(identity.clone()));
        assert_eq!(
            signer().verify("other", &token, 0, NOW),
            Err(IdentityError::BadSignature)
        );
        let other = Signer {
            secret: b"another".to_vec(),
        };
        assert_eq!(
            other.verify("ev", &token, 0, NOW),
            Err(IdentityError::BadSignature)
        );
    }

    #[test]
    fn forged_tokens_are_refused() {
        let (identity, token) = signer().issue("ev", "Anna", TERMS).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let renamed = format!(
            "{}.{}.{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode("Bram"),
            parts[2],
            parts[3],
            parts[4]
        );
        assert_eq!(
            signer().verify("ev", &renamed, 0, NOW),
            Err(IdentityError::BadSignature)
        );
        let reid = format!(
            "someoneelse.{}.{}.{}.{}",
            parts[1], parts[2], parts[3], parts[4]
        );
        let longer = format!(
            "{}.{}.{}.{}.{}",
            parts[0],
            parts[1],
            NOW + 999_999,
            parts[3],
            parts[4]
        );
        assert_eq!(
            signer().verify("ev", &longer, 0, NOW),
            Err(IdentityError::BadSignature),
            "the expiry is signed"
        );
        assert_eq!(
            signer().verify("ev", &reid, 0, NOW),
            Err(IdentityError::BadSignature)
        );
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            "a.!!.c",
            "a.b.c.d.e",
            &format!("{}.{}.{}.{}.x", identity.id, parts[1], parts[2], parts[3]),
            // A token of the first format, which never expired.
            &format!("{}.{}.{}", identity.id, parts[1], parts[4]),
        ] {
            assert!(
                signer().verify("ev", bad, 0, NOW).is_err(),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn expired_and_revoked_tokens_are_refused() {
        let past = Terms {
            expires_at: NOW - 1,
            generation: 0,
        };
        let (_, expired) = signer().issue("ev", "Anna", past).unwrap();
        assert_eq!(
            signer().verify("ev", &expired, 0, NOW),
            Err(IdentityError::Expired)
        );
        let (_, token) = signer().issue("ev", "Anna", TERMS).unwrap();
        assert_eq!(
            signer().verify("ev", &token, 0, TERMS.expires_at),
            Err(IdentityError::Expired),
            "the expiry is the first second refused"
        );
        assert_eq!(
            signer().verify("ev", &token, 1, NOW),
            Err(IdentityError::Revoked),
            "a renewed participant key revokes the tokens of the one before"
        );
        let renewed = Terms {
            generation: 1,
            ..TERMS
        };
        let (identity, token) = signer().issue("ev", "Anna", renewed).unwrap();
        assert_eq!(signer().verify("ev", &token, 1, NOW), Ok(identity));
    }

    #[test]
    fn a_renewed_key_set_changes_only_the_participant_key() {
        let keys = EventKeys {
            join: "j".repeat(22),
            view: "v".repeat(22),
            facilitate: "f".repeat(22),
            generation: 4,
        };
        let renewed = keys.renewed();
        assert_eq!(renewed.generation, 5);
        assert_ne!(renewed.join, keys.join);
        assert_eq!(
            (renewed.view, renewed.facilitate),
            (keys.view.clone(), keys.facilitate.clone())
        );
        assert_eq!(
            keys.join_secrets("ev")[1],
            ("event/ev/join-generation".to_string(), "4".to_string())
        );
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(
            signer().issue("ev", "   ", TERMS).err(),
            Some(IdentityError::BadName)
        );
        assert_eq!(
            signer().issue("ev", &"x".repeat(61), TERMS).err(),
            Some(IdentityError::BadName)
        );
        assert_eq!(
            signer().issue("ev", "a\u{7}b", TERMS).err(),
            Some(IdentityError::BadName)
        );
        assert!(signer().issue("ev", "Zoë 🌳", TERMS).is_ok());
    }

    #[test]
    fn minting_is_limited_per_address_and_window() {
        let limiter = MintLimiter::default();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let window = Duration::from_secs(600);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.mint(a, 3, window, t0), Ok(()));
        }
        let later = t0 + Duration::from_secs(60);
        assert_eq!(
            limiter.mint(a, 3, window, later),
            Err(MintRefused {
                limit: 3,
                retry_after: Duration::from_secs(540)
            })
        );
        assert_eq!(limiter.mint(b, 3, window, later), Ok(()), "per address");
        assert_eq!(
            limiter.mint(a, 3, window, t0 + window),
            Ok(()),
            "a new window"
        );
    }

    #[test]
    fn a_reissued_identity_keeps_its_id() {
        let (first, _) = signer().issue("ev", "Anna", TERMS).unwrap();
        let (renamed, token) = signer().reissue("ev", &first.id, "Anna B", TERMS).unwrap();
        assert_eq!(renamed.id, first.id);
        assert_eq!(signer().verify("ev", &token, 0, NOW), Ok(renamed));
    }

    #[test]
    fn keys_grant_their_roles_only() {
        let keys = EventKeys {
            join: "j".repeat(22),
            view: "v".repeat(22),
            facilitate: "f".repeat(22),
            generation: 0,
        };
        assert_eq!(keys.role_of(&"j".repeat(22)), Some(Role::Participant));
        assert_eq!(keys.role_of(&"v".repeat(22)), Some(Role::Viewer));
        assert_eq!(keys.role_of(&"f".repeat(22)), Some(Role::Facilitator));
        assert_eq!(keys.role_of(""), None);
        assert_eq!(keys.role_of(&"j".repeat(21)), None);
        assert!(!format!("{keys:?}").contains('j'), "keys never print");
    }
}
