//! Bytes from outside are checked before Automerge decodes them (`nabo_core::untrusted`,
//! ADR 0016): the fuzzer's out-of-memory input is refused on every path, crafted inputs that
//! declare more than their size allows are refused, and real documents are far below the
//! budget.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use automerge::sync::{Message, State, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ROOT};
use common::*;
use nabo_core::Error;
use nabo_core::document::{NaboDoc, load_automerge};
use nabo_core::prelude::*;
use nabo_core::untrusted::{self, Budget, Footprint};
use proptest::prelude::*;

/// `core/tests/fixtures/fuzz/oom-*`: a 170-byte change bundle whose delta column declares a
/// run of ~500 million values; automerge 0.12 allocates 4 GiB decoding it.
fn oom_input() -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let path = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("oom-"))
        .expect("the oom fixture");
    std::fs::read(path).unwrap()
}

fn too_large<T: std::fmt::Debug>(r: Result<T, Error>) -> bool {
    matches!(&r, Err(Error::TooLarge(_)))
}

/// A sync message carrying `changes` as its change chunks (as a peer would send them).
fn message_with(changes: Vec<u8>) -> Vec<u8> {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    tx.put(ROOT, "k", 1).unwrap();
    tx.commit();
    let mut state = State::new();
    let mut m = doc.generate_sync_message(&mut state).unwrap();
    m.changes = vec![changes].into();
    m.encode()
}

#[test]
fn the_fuzzers_out_of_memory_input_is_refused_on_every_path() {
    let bytes = oom_input();
    assert_eq!(bytes.len(), 170);
    // A document load (relay storage, backups, the phone's store).
    assert!(too_large(load_automerge(&bytes)));
    assert!(too_large(NaboDoc::load(&bytes, ActorId::random())));
    // Changes applied to a document (the relay's merge of a concurrently created document).
    let f = Fixture::lektiecafe();
    let mut reg = f.replica();
    let heads = reg.doc().heads();
    assert!(too_large(reg.doc_mut().apply_incremental(&bytes)));
    assert_eq!(reg.doc().heads(), heads, "nothing applied");
    // A peer's sync message (relay and phones): the same chunk reaches `load_incremental`.
    let msg = message_with(bytes.clone());
    assert!(
        Message::decode(&msg).is_ok(),
        "automerge decodes the envelope"
    );
    assert!(too_large(untrusted::sync_message(&msg)));
}

/// A change chunk around `columns` (spec, data) pairs, with a zero checksum (Automerge
/// parses the columns before it checks the sum).
fn change_chunk(columns: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    let uleb = |out: &mut Vec<u8>, v: u64| {
        leb::unsigned(out, v);
    };
    uleb(&mut body, 0); // deps
    uleb(&mut body, 16);
    body.extend([7u8; 16]); // actor
    uleb(&mut body, 1); // seq
    uleb(&mut body, 1); // start op
    uleb(&mut body, 0); // time
    uleb(&mut body, 0); // message
    uleb(&mut body, 0); // other actors
    uleb(&mut body, columns.len() as u64);
    for (spec, data) in columns {
        uleb(&mut body, *spec);
        uleb(&mut body, data.len() as u64);
    }
    for (_, data) in columns {
        body.extend(data);
    }
    let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 1];
    uleb(&mut chunk, body.len() as u64);
    chunk.extend(body);
    chunk
}

mod leb {
    pub fn unsigned(out: &mut Vec<u8>, mut v: u64) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    pub fn signed(out: &mut Vec<u8>, v: i64) {
        let mut v = v;
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            let done = (v == 0 && byte & 0x40 == 0) || (v == -1 && byte & 0x40 != 0);
            if done {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
}

/// A run of `n` copies of one value, as an RLE column encodes it.
fn run(n: i64, value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    leb::signed(&mut out, n);
    leb::unsigned(&mut out, value);
    out
}

/// Writes a column declaring `n` values.
type Encoder = fn(u64) -> Vec<u8>;

#[test]
fn each_kind_of_column_is_counted_and_refused_beyond_the_budget() {
    let budget = Budget::peer(64);
    let over = budget.values + 1;
    let small = budget.values / 2;
    // Column types: 0 group, 1 actor, 2 integer, 3 delta, 4 boolean, 5 string, 6 value
    // metadata. The spec's id (above bit 4) does not matter to the count.
    let rle_cols: [(u64, Encoder); 6] = [
        ((1 << 4) | 1, |n| run(n as i64, 0)),
        ((2 << 4) | 2, |n| run(n as i64, 3)),
        ((3 << 4) | 3, |n| {
            let mut v = Vec::new();
            leb::signed(&mut v, n as i64);
            leb::signed(&mut v, 1);
            v
        }),
        ((4 << 4) | 4, |n| {
            let mut v = Vec::new();
            leb::unsigned(&mut v, 0);
            leb::unsigned(&mut v, n);
            v
        }),
        ((5 << 4) | 5, |n| {
            let mut v = Vec::new();
            leb::signed(&mut v, n as i64);
            leb::unsigned(&mut v, 1);
            v.push(b'x');
            v
        }),
        ((6 << 4) | 6, |n| {
            // A null run: 0, then the count.
            let mut v = vec![0];
            leb::unsigned(&mut v, n);
            v
        }),
    ];
    for (spec, col) in rle_cols {
        let ok = change_chunk(&[(spec, col(small))]);
        let seen: Footprint = untrusted::check(&ok, budget).unwrap();
        assert_eq!(seen.values, small, "spec {spec}");
        let bad = change_chunk(&[(spec, col(over))]);
        assert!(bad.len() < 64);
        assert!(
            too_large(untrusted::check(&bad, budget)),
            "spec {spec}: {} values declared in {} bytes",
            over,
            bad.len()
        );
    }
    // Values spread over several columns add up.
    let half = budget.values / 2 + 1;
    let two = change_chunk(&[(0x11, run(half as i64, 0)), (0x22, run(half as i64, 0))]);
    assert!(too_large(untrusted::check(&two, budget)));
}

#[test]
fn compressed_data_is_inflated_within_the_budget_only() {
    use std::io::Write;
    // 16 MiB of zeros compress to ~16 KiB: a change compressed as a whole (chunk type 2)
    // and a DEFLATEd column of a document chunk.
    let zeros = vec![0u8; 16 << 20];
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&zeros).unwrap();
    let bomb = z.finish().unwrap();
    assert!(bomb.len() < 32 << 10);
    let mut compressed_change = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 2];
    leb::unsigned(&mut compressed_change, bomb.len() as u64);
    compressed_change.extend(&bomb);
    assert!(too_large(untrusted::check(
        &compressed_change,
        Budget::peer(compressed_change.len())
    )));

    let mut doc = Vec::new();
    leb::unsigned(&mut doc, 0); // actors
    leb::unsigned(&mut doc, 0); // heads
    leb::unsigned(&mut doc, 1); // change columns
    leb::unsigned(&mut doc, (1 << 4) | 0b1000 | 7); // a raw value column, DEFLATEd
    leb::unsigned(&mut doc, bomb.len() as u64);
    leb::unsigned(&mut doc, 0); // op columns
    doc.extend(&bomb);
    let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 0];
    leb::unsigned(&mut chunk, doc.len() as u64);
    chunk.extend(doc);
    assert!(too_large(untrusted::check(
        &chunk,
        Budget::peer(chunk.len())
    )));
    // The same document within a budget that allows it inflates, and counts what it did.
    let seen = untrusted::check(&chunk, Budget::STORED).unwrap();
    assert_eq!(seen.inflated, 16 << 20);
}

/// A term's register with a full roll call: `sessions` sessions × `children` children.
fn term_register(sessions: usize, children: usize) -> (Fixture, RegisterDoc, Vec<u8>) {
    let f = Fixture::lektiecafe();
    let mut reg = f.replica();
    let before = reg.doc().heads();
    let author = Author {
        by: volunteer(f.vol_ok.as_str()),
        at: now(),
    };
    reg.generate_sessions(&f.central, f.ctx()).unwrap();
    let mut kids = Vec::new();
    for i in 0..children {
        let band = if i % 2 == 0 { "7-9" } else { "10-12" };
        kids.push(
            reg.add_participant(
                &author,
                f.ctx(),
                date("2026-08-11"),
                Fixture::child(band, None),
            )
            .unwrap(),
        );
    }
    let ids: Vec<SessionId> = reg
        .view()
        .unwrap()
        .sessions
        .iter()
        .filter(|(_, s)| s.current.date < date("2026-11-22"))
        .map(|(id, _)| id.clone())
        .collect();
    assert!(ids.len() >= sessions);
    for s in ids.iter().take(sessions) {
        for (i, k) in kids.iter().enumerate() {
            let status = if i % 5 == 0 {
                AttendanceStatus::Absent
            } else {
                AttendanceStatus::Present
            };
            reg.mark(&author, f.ctx(), s, k, status).unwrap();
        }
    }
    let changes = reg.doc().save_after(&before);
    (f, reg, changes)
}

#[test]
fn real_documents_and_changes_are_far_below_the_budget() {
    let (_f, reg, changes) = term_register(20, 25);
    let saved = reg.doc().save();
    let am = reg.doc().automerge();
    let bundle = am
        .bundle(am.get_changes(&[]).iter().map(|c| c.hash()))
        .unwrap();
    let bundle = bundle.bytes().to_vec();
    // A sync message from a phone with everything it did, and the relay's whole-document
    // message (automerge's V2 "send the document") to a phone that has nothing.
    let phone = Automerge::new();
    let mut relay = reg.doc().automerge().clone();
    let (mut ps, mut rs) = (State::new(), State::new());
    let hello = phone.generate_sync_message(&mut ps).unwrap();
    relay.receive_sync_message(&mut rs, hello).unwrap();
    let whole = relay.generate_sync_message(&mut rs).unwrap();
    let whole_bytes = whole.clone().encode();
    untrusted::sync_message(&whole_bytes).unwrap();
    let whole: Vec<u8> = whole.changes.iter().flatten().copied().collect();
    for (what, bytes) in [
        ("saved register", &saved),
        ("changes of the term", &changes),
        ("bundle of the term", &bundle),
        ("changes of a whole-document sync message", &whole),
    ] {
        let peer = Budget::peer(bytes.len());
        let seen = untrusted::check(bytes, Budget::STORED).unwrap();
        let per_byte = seen.values as f64 / bytes.len() as f64;
        println!(
            "{what}: {} B, {} chunks, {} values ({per_byte:.2} per byte), {} B inflated; peer budget {} values",
            bytes.len(),
            seen.chunks,
            seen.values,
            seen.inflated,
            peer.values
        );
        assert!(seen.values > 0, "{what}: counted");
        // A quarter of the peer budget at most: room for clients that compress better.
        assert!(
            seen.values * 4 < peer.values,
            "{what}: {} values in {} B",
            seen.values,
            bytes.len()
        );
        assert!(
            seen.inflated * 2 < peer.inflated,
            "{what}: inflates to {}",
            seen.inflated
        );
        untrusted::check(bytes, peer).unwrap();
    }
    // Loading through the check gives the same document.
    assert_eq!(
        load_automerge(&saved).unwrap().get_heads(),
        reg.doc().heads()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn checking_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = untrusted::check(&bytes, Budget::peer(bytes.len()));
        let _ = untrusted::sync_message(&bytes);
    }

    #[test]
    fn checking_a_damaged_register_never_panics(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let bytes = BYTES.get_or_init(|| term_register(4, 5).1.doc().save());
        let mut b = bytes.clone();
        for (i, x) in flips {
            let i = i.index(b.len());
            b[i] ^= x | 1;
        }
        let _ = untrusted::check(&b, Budget::peer(b.len()));
    }
}

/// The `load_document` fuzz target's slow unit of 7 December 2026 (80 bytes; 22 s and 866 MB
/// under the fuzzer's AddressSanitizer, about 0.4 s and 500 MB in an optimized build): a
/// document whose columns declare tens of millions of values. A peer cannot send it: the
/// peer budget of an 80-byte input refuses it before decoding, in microseconds, whether as a
/// sync message's change data or alone. As a *stored* document (the relay's store, a backup,
/// the phone's store) it is within the stored budget (`STORED_VALUES_MAX`, sized at about
/// 670 MB of decoding), and the load ends in an error, not a panic. docs/benchmarks.md.
#[test]
fn the_fuzzers_slow_document_is_refused_from_a_peer_and_fails_cleanly_when_stored() {
    let input = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/fuzz-slow/load-80-bytes"),
    )
    .unwrap();
    assert!(too_large(untrusted::check(
        &input,
        Budget::peer(input.len())
    )));
    let message = message_with(input.clone());
    assert!(too_large(untrusted::sync_message(&message)));
    assert!(untrusted::check(&input, Budget::STORED).is_ok());
    assert!(matches!(load_automerge(&input), Err(Error::Corrupt(_))));
    assert!(NaboDoc::load(&input, ActorId::random()).is_err());
}
