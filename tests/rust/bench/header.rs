//! The head of a sync update message, read without decoding the update: for
//! a counter, which only needs to know whose edit arrived, a full
//! `Update::decode_v1` per frame was the generator's ceiling.
//!
//! A y-protocols sync update is `[0 sync][2 update][var-uint length][update]`,
//! and a Yjs v1 update starts with the number of struct groups, then for each
//! group the number of structs, the client id and the clock of its first
//! struct, all lib0 var-uints. An edit a writer sends is one group from one
//! client; its start clock names the edit.

use yrs::encoding::read::{Cursor, Read};

/// `messageSync` in y-protocols.
const MESSAGE_SYNC: u32 = 0;
/// `messageYjsUpdate` in y-protocols' sync protocol.
const SYNC_UPDATE: u32 = 2;

/// Where the one struct group of an update starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EditHeader {
    pub client: u64,
    /// The clock of the group's first struct: the writer's clock before the edit.
    pub start: u32,
    /// How many structs the group holds (an edit of `type_one` has two).
    pub structs: u32,
}

/// The header of `message` if it is exactly one sync update message whose
/// update holds exactly one struct group; `None` for anything else (sync
/// steps, awareness, merged updates of several clients, several messages in
/// one frame, truncated or garbage bytes), which the caller decodes in full.
pub fn single_group(message: &[u8]) -> Option<EditHeader> {
    let mut cursor = Cursor::new(message);
    if cursor.read_var::<u32>().ok()? != MESSAGE_SYNC
        || cursor.read_var::<u32>().ok()? != SYNC_UPDATE
    {
        return None;
    }
    let len = usize::try_from(cursor.read_var::<u32>().ok()?).ok()?;
    // The update must fill the rest of the frame: a second message behind it
    // would go unread.
    if message.len().checked_sub(cursor.next)? != len {
        return None;
    }
    if cursor.read_var::<u32>().ok()? != 1 {
        return None;
    }
    let structs = cursor.read_var::<u32>().ok()?;
    let client = cursor.read_var::<u64>().ok()?;
    let start = cursor.read_var::<u32>().ok()?;
    Some(EditHeader {
        client,
        start,
        structs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::sync::{Message, SyncMessage};
    use yrs::updates::decoder::Decode;
    use yrs::updates::encoder::Encode;
    use yrs::{Doc, GetString, Map, Text, Transact, Update};

    fn update_message(update: Vec<u8>) -> Vec<u8> {
        Message::Sync(SyncMessage::Update(update)).encode_v1()
    }

    /// One character and a map entry, as `type_one` sends them.
    fn edit(doc: &Doc) -> Vec<u8> {
        let text = doc.get_or_insert_text("text");
        let map = doc.get_or_insert_map("note");
        let mut txn = doc.transact_mut();
        let end = text.get_string(&txn).len() as u32;
        text.insert(&mut txn, end, "w");
        map.insert(&mut txn, "updatedAt", 1.0);
        txn.encode_update_v1()
    }

    #[test]
    fn reads_the_group_of_a_single_edit() {
        let doc = Doc::with_client_id(0x1234_5678);
        let first = edit(&doc);
        let second = edit(&doc);
        assert_eq!(
            single_group(&update_message(first)),
            Some(EditHeader {
                client: 0x1234_5678,
                start: 0,
                structs: 2
            })
        );
        let header = single_group(&update_message(second)).expect("one group");
        assert_eq!(
            (header.client, header.start, header.structs),
            (0x1234_5678, 2, 2)
        );
    }

    #[test]
    fn an_update_of_several_clients_is_left_to_the_full_decoder() {
        let (a, b) = (Doc::with_client_id(1), Doc::with_client_id(2));
        let merged = Update::merge_updates([
            Update::decode_v1(&edit(&a)).unwrap(),
            Update::decode_v1(&edit(&b)).unwrap(),
        ]);
        assert_eq!(single_group(&update_message(merged.encode_v1())), None);
    }

    #[test]
    fn other_messages_are_left_to_the_full_decoder() {
        let doc = Doc::with_client_id(7);
        let update = edit(&doc);
        let step2 = Message::Sync(SyncMessage::SyncStep2(update.clone())).encode_v1();
        assert_eq!(single_group(&step2), None);
        let step1 = Message::Sync(SyncMessage::SyncStep1(Default::default())).encode_v1();
        assert_eq!(single_group(&step1), None);
        // Two messages in one frame: the second must not go unseen.
        let mut two = update_message(update.clone());
        two.extend(update_message(update));
        assert_eq!(single_group(&two), None);
        // An awareness message (type 1).
        assert_eq!(single_group(&[1, 1, 0]), None);
    }

    #[test]
    fn truncated_and_garbage_input_gives_none() {
        let message = update_message(edit(&Doc::with_client_id(300_000)));
        for cut in 0..message.len() {
            assert_eq!(single_group(&message[..cut]), None, "cut at {cut}");
        }
        let cases: &[&[u8]] = &[
            &[],
            &[0xff; 32],
            &[0, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            // Declared length longer than the frame.
            &[0, 2, 40, 1, 2, 7, 0],
            // Var-uints that never end.
            &[
                0, 2, 12, 1, 2, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
            ],
        ];
        for case in cases {
            assert_eq!(single_group(case), None, "{case:?}");
        }
        // Random bytes never panic.
        for seed in 0u32..2_000 {
            let bytes: Vec<u8> = (0..(seed % 24))
                .map(|i| (seed.wrapping_mul(2_654_435_761).rotate_left(i) >> 7) as u8)
                .collect();
            let _ = single_group(&bytes);
        }
    }
}
