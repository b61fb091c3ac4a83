//! Valid y-protocol messages, made with yrs the way browsers make them, and
//! harness inputs built from them: the fuzzer's seed corpus and the material
//! the mutation tests start from.

use yrs::sync::awareness::Awareness;
use yrs::updates::decoder::Decode;
use yrs::{
    Array, Doc, GetString, Map, MapPrelim, ReadTxn, StateVector, Text, TextPrelim, Transact,
    XmlFragment, XmlTextPrelim,
};

use super::{RECONNECT, RESYNC, SETTLE, Step, encode_steps};
use crate::protocol;
use werktafel_shared::control::{CONTROL, VOTES};
use werktafel_shared::schema::{self, Lane, NoteColor, NoteDraft};

/// Single frames a client may send: each decodes, most change the document.
pub fn seed_messages() -> Vec<Vec<u8>> {
    let b = Board::new();
    let mut out = vec![
        protocol::encode_sync_step1(&StateVector::default()).to_vec(),
        protocol::encode_sync_step1(&b.sv_after_note).to_vec(),
        protocol::encode_sync_step2(&b.note).to_vec(),
        protocol::encode_update(&b.note).to_vec(),
        protocol::encode_update(&b.typing[0]).to_vec(),
        protocol::encode_update(&b.typing[1]).to_vec(),
        protocol::encode_update(&b.edit).to_vec(),
        protocol::encode_update(&b.delete).to_vec(),
        protocol::encode_update(&b.other_roots).to_vec(),
        protocol::encode_update(&b.meta_write).to_vec(),
        protocol::encode_update(&b.control_write).to_vec(),
        protocol::encode_update(&b.votes_write).to_vec(),
        protocol::encode_update(&[0, 0]).to_vec(),
        b.awareness.clone(),
        b.awareness_gone.clone(),
        protocol::KEEPALIVE.to_vec(),
        vec![protocol::MSG_QUERY_AWARENESS],
    ];
    // Two messages in one frame, as y-protocols allows.
    let mut pair = protocol::encode_update(&b.typing[0]).to_vec();
    pair.extend_from_slice(&b.awareness);
    out.push(pair);
    out
}

/// Named harness inputs: conversations between the peers, valid and not.
pub fn seed_inputs() -> Vec<(&'static str, Vec<u8>)> {
    let b = Board::new();
    let step1 = protocol::encode_sync_step1(&StateVector::default()).to_vec();
    let update = |u: &[u8]| protocol::encode_update(u).to_vec();
    let mut inputs = vec![
        (
            "handshake",
            vec![
                Step::new(0, step1.clone()).with(SETTLE),
                Step::new(0, protocol::encode_sync_step2(&[0, 0]).to_vec()),
            ],
        ),
        (
            "note_then_edits",
            vec![
                Step::new(0, step1.clone()),
                Step::new(0, update(&b.note)),
                Step::new(1, update(&b.edit)).with(SETTLE),
                Step::new(2, protocol::encode_sync_step1(&b.sv_after_note).to_vec()),
                Step::new(2, update(&b.delete)),
            ],
        ),
        (
            "note_as_sync_step2",
            vec![Step::new(1, protocol::encode_sync_step2(&b.note).to_vec()).with(SETTLE)],
        ),
        (
            "typing_out_of_order",
            vec![
                Step::new(0, update(&b.typing[1])),
                Step::new(1, step1.clone()).with(SETTLE),
                Step::new(0, update(&b.typing[0])),
                Step::new(2, step1.clone()),
            ],
        ),
        (
            "presence",
            vec![
                Step::new(0, b.awareness.clone()),
                Step::new(1, vec![protocol::MSG_QUERY_AWARENESS]),
                Step::new(2, protocol::KEEPALIVE.to_vec()),
                Step::new(0, b.awareness_gone.clone()),
                Step::new(0, b.awareness.clone()).with(RECONNECT),
            ],
        ),
        (
            "server_only_maps_then_racing_writes",
            vec![
                Step::new(0, update(&b.meta_write)),
                Step::new(1, update(&b.note)),
                Step::new(2, step1.clone()),
                Step::new(1, update(&b.control_write)).with(SETTLE),
                Step::new(2, update(&b.votes_write)),
                Step::new(0, update(&b.edit)),
            ],
        ),
        (
            "other_root_types",
            vec![Step::new(2, update(&b.other_roots)).with(SETTLE | RESYNC)],
        ),
        (
            "two_messages_in_a_frame",
            vec![Step::new(1, {
                let mut pair = update(&b.typing[0]);
                pair.extend_from_slice(&b.awareness);
                pair
            })],
        ),
        (
            "flood_overflows_an_outbox",
            (0..40)
                .map(|i| Step::new(i % 2, update(&b.typing[usize::from(i % 2)])))
                .chain([Step::new(2, step1.clone()).with(RESYNC)])
                .collect(),
        ),
    ];
    // Garbage the decoder or the room must refuse, each followed by a valid
    // message from the reconnected peer.
    for (name, frame) in [
        (
            "garbage_update",
            vec![0, 2, 6, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa],
        ),
        ("truncated_update", vec![0, 2, 5, 1, 0xc0, 0x84, 0x3d, 7]),
        ("unknown_type", vec![9, 0]),
        ("auth", vec![2, 0, 0]),
        ("bad_state_vector", vec![0, 0, 3, 0xff, 0xff, 0xff]),
        ("garbage_awareness", vec![1, 4, 1, 0xff, 0xff, 0xff]),
        ("update_cut_short", {
            let mut frame = update(&b.note);
            frame.truncate(frame.len() / 2);
            frame
        }),
    ] {
        inputs.push((
            name,
            vec![Step::new(0, frame), Step::new(0, update(&b.note))],
        ));
    }
    inputs
        .into_iter()
        .map(|(name, steps)| (name, encode_steps(&steps)))
        .collect()
}

/// Updates of one client's board, and of a second client building on it.
struct Board {
    note: Vec<u8>,
    sv_after_note: StateVector,
    typing: [Vec<u8>; 2],
    edit: Vec<u8>,
    delete: Vec<u8>,
    other_roots: Vec<u8>,
    meta_write: Vec<u8>,
    control_write: Vec<u8>,
    votes_write: Vec<u8>,
    awareness: Vec<u8>,
    awareness_gone: Vec<u8>,
}

impl Board {
    fn new() -> Board {
        let anna = Doc::with_client_id(101);
        let note = {
            let mut txn = anna.transact_mut();
            schema::insert_note(
                &mut txn,
                &NoteDraft {
                    id: "n1".into(),
                    text: "Koffie om tien".into(),
                    lane: Lane::Goed,
                    color: NoteColor::Geel,
                    x: 12.0,
                    y: 40.5,
                    author: "Anna".into(),
                    author_id: "a1".into(),
                    now_ms: 1_700_000_000_000,
                },
            );
            txn.encode_update_v1()
        };
        let sv_after_note = anna.transact().state_vector();
        let bram = Doc::with_client_id(202);
        bram.transact_mut()
            .apply_update(yrs::Update::decode_v1(&note).expect("our own update decodes"))
            .expect("our own update applies");
        let edit = {
            let notes = bram.get_or_insert_map(schema::NOTES);
            let mut txn = bram.transact_mut();
            if let Some(yrs::Out::YMap(n)) = notes.get(&txn, "n1")
                && let Some(yrs::Out::YText(text)) = n.get(&txn, "text")
            {
                let len = text.get_string(&txn).chars().count() as u32;
                text.insert(&mut txn, len, " en thee");
                text.remove_range(&mut txn, 0, 1);
                n.insert(&mut txn, "lane", "doorpakken");
            }
            txn.encode_update_v1()
        };
        let delete = {
            let mut txn = bram.transact_mut();
            schema::delete_note(&mut txn, "n1");
            txn.encode_update_v1()
        };
        let typist = Doc::with_client_id(303);
        let typing = {
            let text = typist.get_or_insert_text("scratch");
            let keystroke = |i: u32| {
                let mut txn = typist.transact_mut();
                text.insert(&mut txn, i, "x");
                txn.encode_update_v1()
            };
            [keystroke(0), keystroke(1)]
        };
        let other_roots = {
            let doc = Doc::with_client_id(404);
            let array = doc.get_or_insert_array("list");
            let xml = doc.get_or_insert_xml_fragment("xml");
            let mut txn = doc.transact_mut();
            array.insert_range(&mut txn, 0, [1, 2, 3]);
            array.push_back(&mut txn, MapPrelim::default());
            array.push_back(&mut txn, TextPrelim::new("t"));
            xml.insert(&mut txn, 0, XmlTextPrelim::new("<b>"));
            array.remove(&mut txn, 0);
            txn.encode_update_v1()
        };
        let write_to = |name: &str| {
            let doc = Doc::with_client_id(505);
            let map = doc.get_or_insert_map(name);
            let mut txn = doc.transact_mut();
            map.insert(&mut txn, "locked", true);
            map.insert(&mut txn, "n1", 99);
            txn.encode_update_v1()
        };
        let mut presence = Awareness::new(Doc::with_client_id(606));
        presence.set_local_state_raw(r##"{"user":{"name":"Anna","color":"#f5c400"}}"##);
        let awareness = protocol::encode_awareness(&presence.update().expect("own state encodes"));
        presence.clean_local_state();
        let awareness_gone =
            protocol::encode_awareness(&presence.update().expect("own state encodes"));
        Board {
            note,
            sv_after_note,
            typing,
            edit,
            delete,
            other_roots,
            meta_write: write_to(schema::META),
            control_write: write_to(CONTROL),
            votes_write: write_to(VOTES),
            awareness: awareness.to_vec(),
            awareness_gone: awareness_gone.to_vec(),
        }
    }
}
