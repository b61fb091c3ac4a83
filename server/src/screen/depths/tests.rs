//! Depths and roots worked out from updates built by yrs, and the refusals.

use super::*;
use crate::screen::{Anchor, scan};
use yrs::{Doc, Map, MapPrelim, MapRef, ReadTxn, StateVector, Text, TextPrelim, Transact};

fn nested(depth: usize) -> Vec<u8> {
    let doc = Doc::with_client_id(1);
    let root = doc.get_or_insert_map("notes");
    let mut txn = doc.transact_mut();
    let mut map: MapRef = root.insert(&mut txn, "n", MapPrelim::default());
    for _ in 1..depth {
        map = map.insert(&mut txn, "c", MapPrelim::default());
    }
    drop(txn);
    doc.transact()
        .encode_state_as_update_v1(&StateVector::default())
}

fn check(depths: &Depths, update: &[u8]) -> Result<Placement, Refusal> {
    let scan = scan(update).expect("well formed");
    depths.place(&scan, &Clocks::default())
}

fn items(items: &[Item]) -> Scan {
    Scan {
        items: items.iter().copied().collect(),
        deletes: Vec::new(),
    }
}

#[test]
fn a_note_hangs_two_deep() {
    let doc = Doc::with_client_id(3);
    let notes = doc.get_or_insert_map("notes");
    let mut txn = doc.transact_mut();
    let note: MapRef = notes.insert(&mut txn, "n1", MapPrelim::default());
    let text = note.insert(&mut txn, "text", TextPrelim::new(""));
    text.insert(&mut txn, 0, "hallo");
    let update = txn.encode_update_v1();
    drop(txn);
    let mut depths = Depths::default();
    let placement = check(&depths, &update).expect("two deep is fine");
    depths.commit(placement);
    // The note's map at 1, its text at 2, the text's characters at 3.
    let spans = &depths.clients[&ClientID::new(3)];
    let levels: Vec<u16> = spans.iter().map(|s| s.depth).collect();
    assert_eq!(levels, [1, 2, 3]);
    // A keystroke beside the last character lands at 3 too.
    let more = {
        let mut txn = doc.transact_mut();
        text.insert(&mut txn, 5, "!");
        txn.encode_update_v1()
    };
    let mut clocks = Clocks::default();
    clocks.advance(&scan(&update).unwrap().items);
    let scan = scan(&more).unwrap();
    let placement = depths.place(&scan, &clocks).unwrap();
    assert_eq!(placement.spans[0].1.depth, 3);
}

#[test]
fn a_chain_past_the_limit_is_refused_in_one_update() {
    let depths = Depths::default();
    assert!(check(&depths, &nested(usize::from(MAX_TYPE_DEPTH))).is_ok());
    let error = check(&depths, &nested(usize::from(MAX_TYPE_DEPTH) + 1)).expect_err("too deep");
    assert!(error.to_string().contains("nested 33 deep"), "{error}");
    // 20,000 deep: refused without recursing (the check is iterative).
    assert!(check(&depths, &nested(20_000)).is_err());
}

#[test]
fn a_chain_built_one_update_at_a_time_is_refused() {
    let doc = Doc::with_client_id(4);
    let root = doc.get_or_insert_map("notes");
    let mut depths = Depths::default();
    let mut clocks = Clocks::default();
    let mut map: Option<MapRef> = None;
    for level in 1..=u32::from(MAX_TYPE_DEPTH) + 1 {
        let update = {
            let mut txn = doc.transact_mut();
            map = Some(match &map {
                None => root.insert(&mut txn, "n", MapPrelim::default()),
                Some(parent) => parent.insert(&mut txn, "c", MapPrelim::default()),
            });
            txn.encode_update_v1()
        };
        let scan = scan(&update).unwrap();
        match depths.place(&scan, &clocks) {
            Ok(placement) => {
                assert!(level <= u32::from(MAX_TYPE_DEPTH));
                depths.commit(placement);
                clocks.advance(&scan.items);
            }
            Err(error) => {
                assert_eq!(level, u32::from(MAX_TYPE_DEPTH) + 1, "{error}");
                assert!(matches!(error, Refusal::TooDeep(_)));
                return;
            }
        }
    }
    panic!("the chain was never refused");
}

#[test]
fn a_type_beside_a_collected_origin_takes_its_right_origins_depth() {
    // Client 8's type next to an origin the document has but the room
    // knows nothing of and a right origin at depth 5: it hangs at 5,
    // under a root the room cannot tell.
    let mut depths = Depths::default();
    depths.commit(Placement {
        spans: [(
            ClientID::new(2),
            Span {
                start: 0,
                end: 10,
                depth: 5,
                shelf: Shelf::Table,
            },
        )]
        .into_iter()
        .collect(),
        ..Placement::default()
    });
    let item = Item {
        client: ClientID::new(8),
        clock: 0,
        len: 1,
        anchor: Anchor::Beside {
            origin: Some((ClientID::new(99), 3)),
            right: Some((ClientID::new(2), 4)),
        },
        shared: true,
    };
    let mut clocks = Clocks::default();
    let had = |client, len| Item {
        client: ClientID::new(client),
        clock: 0,
        len,
        anchor: Anchor::Nowhere,
        shared: false,
    };
    clocks.advance(&[had(99, 4), had(2, 10)]);
    let placement = depths.place(&items(&[item]), &clocks).unwrap();
    assert_eq!(placement.spans[0].1.depth, 5);
    assert!(placement.undecided());
}

#[test]
fn rebuilding_from_storage_knows_every_depth() {
    let update = nested(MAX_TYPE_DEPTH.into());
    let depths = Depths::rebuild([update.as_slice()]);
    // One level more under the deepest map is refused after a reload too.
    let item = Item {
        client: ClientID::new(5),
        clock: 0,
        len: 1,
        anchor: Anchor::Parent(ClientID::new(1), u32::from(MAX_TYPE_DEPTH) - 1),
        shared: true,
    };
    assert!(depths.place(&items(&[item]), &Clocks::default()).is_err());
}

#[test]
fn writes_under_server_only_roots_are_refused_and_old_deletes_pass() {
    use yrs::updates::decoder::Decode;
    // The server writes `control` twice: the first phase is deleted.
    let server = Doc::with_client_id(1);
    let control = server.get_or_insert_map("control");
    let mut depths = Depths::default();
    let mut clocks = Clocks::default();
    let mut stored = Vec::new();
    for phase in ["schrijven", "stemmen"] {
        let update = {
            let mut txn = server.transact_mut();
            control.insert(&mut txn, "phase", phase);
            txn.encode_update_v1()
        };
        let scan = scan(&update).unwrap();
        depths.commit(depths.place_unchecked(&scan, &clocks));
        clocks.advance(&scan.items);
        stored.push(update);
    }
    // A client that has all of it answers a step 1 with its whole
    // delete set, the server's delete of the first phase among it.
    let client = Doc::with_client_id(2);
    for update in &stored {
        client
            .transact_mut()
            .apply_update(yrs::Update::decode_v1(update).unwrap())
            .unwrap();
    }
    let notes = client.get_or_insert_map("notes");
    let step2 = {
        let mut txn = client.transact_mut();
        notes.insert(&mut txn, "n1", "hallo");
        drop(txn);
        client
            .transact()
            .encode_state_as_update_v1(clocks.state_vector())
    };
    let scan_ok = scan(&step2).unwrap();
    assert!(
        !scan_ok.deletes.is_empty(),
        "the old phase is in its delete set"
    );
    let placement = depths
        .place(&scan_ok, &clocks)
        .expect("nothing new under control");
    assert!(!placement.undecided());

    // Writing `control`, directly or beside the server's item, is refused.
    let cheat = {
        let control = client.get_or_insert_map("control");
        let mut txn = client.transact_mut();
        control.insert(&mut txn, "phase", "gesloten");
        txn.encode_update_v1()
    };
    let refusal = depths.place(&scan(&cheat).unwrap(), &clocks).unwrap_err();
    assert!(matches!(refusal, Refusal::ServerOnly(_)), "{refusal}");
    // Deleting the server's live value is refused too.
    let delete: &[u8] = &[0, 1, 1, 1, 1, 1];
    let refusal = depths.place(&scan(delete).unwrap(), &clocks).unwrap_err();
    assert!(matches!(refusal, Refusal::ServerOnly(_)), "{refusal}");
    // A delete of clocks nobody has is a missing dependency.
    let delete: &[u8] = &[0, 1, 1, 1, 7, 1];
    let refusal = depths.place(&scan(delete).unwrap(), &clocks).unwrap_err();
    assert!(matches!(refusal, Refusal::Missing(_)), "{refusal}");
    // After a rebuild from what is stored, the same holds.
    let rebuilt = Depths::rebuild(stored.iter().map(Vec::as_slice));
    assert!(rebuilt.place(&scan_ok, &clocks).is_ok());
    assert!(rebuilt.place(&scan(&cheat).unwrap(), &clocks).is_err());
}
