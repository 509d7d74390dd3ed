//! Writes the seeds of the fuzz targets (core/fuzz): valid documents of every kind, and
//! changes, bundles, sync messages and protocol frames built on the same register:
//! `cargo run -p nabo-core --example fuzz_seeds -- core/fuzz/seeds`.
//! The targets `sync_message` and `change_bundle` start from `load_document/register`, so
//! the seeds of all three are written together.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use automerge::sync::{State, SyncDoc};
use automerge::{ActorId, Automerge};
use nabo_core::docs::outreach::{NewContact, OutreachDoc};
use nabo_core::docs::tenant::{Settings, TenantDoc};
use nabo_core::docs::volunteers::VolunteersDoc;
use nabo_core::document::{NaboDoc, TypedDoc};
use nabo_core::prelude::*;
use nabo_core::wire::{PeerMetadata, WireMessage};

fn main() {
    let root = std::path::PathBuf::from(std::env::args().nth(1).expect("output directory"));
    let dir = root.join("load_document");
    std::fs::create_dir_all(&dir).unwrap();
    let cat = Catalogue::builtin().unwrap();
    let at = Timestamp::from_utc(
        Date::parse("2026-11-19").unwrap(),
        Time::hm(15, 30).unwrap(),
    );
    let central = Author {
        by: By::Staff("central".parse().unwrap()),
        at,
    };
    let tenant: TenantId = "t1".parse().unwrap();
    let mut input = NewActivity::new(
        "Lektiecafé",
        "p1".parse().unwrap(),
        "a1".parse().unwrap(),
        "lbf-2006-2010",
        "BE.lektiecafe",
    );
    input.attendance_mode = AttendanceMode::Pseudonymous;
    let mut act = ActivityDoc::create(
        tenant.clone(),
        "act-1".parse().unwrap(),
        ActorId::random(),
        &central,
        cat,
        input,
    )
    .unwrap();
    act.add_series(
        &central,
        NewSeries {
            weekday: Weekday::Thu,
            start: Time::hm(15, 0).unwrap(),
            end: Time::hm(17, 0).unwrap(),
            from: Date::parse("2026-11-01").unwrap(),
            until: None,
            venue: None,
        },
    )
    .unwrap();
    let snap = act.snapshot().unwrap();
    let ctx = RegisterContext {
        catalogue: cat,
        activity: &snap,
        certificates: &nabo_core::docs::volunteers::NO_CERTIFICATES,
    };
    let mut reg = RegisterDoc::create(
        tenant.clone(),
        "act-1".parse().unwrap(),
        "2026H2".parse().unwrap(),
        ActorId::from([1u8; 16].as_slice()),
        &central,
        ctx,
    )
    .unwrap();
    let p = reg
        .add_participant(
            &central,
            ctx,
            Date::parse("2026-11-19").unwrap(),
            NewParticipant {
                age_band: "10-12".into(),
                gender: None,
                resident: None,
                label: Some(Sealed(vec![1; 41])),
                recruitment: None,
            },
        )
        .unwrap();
    let s = reg.view().unwrap().sessions.keys().next().cloned().unwrap();
    reg.mark(&central, ctx, &s, &p, AttendanceStatus::Present)
        .unwrap();
    let mut log = OutreachDoc::create(
        tenant.clone(),
        "s1".parse().unwrap(),
        "a1".parse().unwrap(),
        "2026Q4".parse().unwrap(),
        ActorId::random(),
    )
    .unwrap();
    log.log_contact(
        &central,
        cat,
        false,
        NewContact::anonymous(at, "legeplads", "uformelt-moede", 2, "15-17"),
    )
    .unwrap();
    let t = TenantDoc::create(
        tenant.clone(),
        ActorId::random(),
        &central,
        Settings {
            name: "Demo".into(),
            ..Settings::default()
        },
    )
    .unwrap();
    let v = VolunteersDoc::create(tenant, ActorId::random()).unwrap();
    for (name, bytes) in [
        ("activity", act.doc().save()),
        ("register", reg.doc().save()),
        ("outreach", log.doc().save()),
        ("tenant", t.doc().save()),
        ("volunteers", v.doc().save()),
    ] {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    println!("wrote 5 seeds to {}", dir.display());
    changes_and_messages(&root, &reg, &central, ctx, &s);
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// A phone's edits on top of the seed register, as changes, compressed changes, bundles, a
/// whole document and sync messages; then protocol frames carrying them.
fn changes_and_messages(
    root: &Path,
    reg: &RegisterDoc,
    author: &Author,
    ctx: RegisterContext<'_>,
    session: &SessionId,
) {
    let relay: Automerge = reg.doc().automerge().clone();
    let base = relay.get_heads();
    let phone_doc = NaboDoc::from_automerge(
        relay.fork().with_actor(ActorId::from([2u8; 16].as_slice())),
        ActorId::from([2u8; 16].as_slice()),
    )
    .unwrap();
    let mut phone = RegisterDoc::from_doc(phone_doc).unwrap();
    for band in ["7-9", "13-14"] {
        let p = phone
            .add_participant(
                author,
                ctx,
                Date::parse("2026-11-19").unwrap(),
                NewParticipant {
                    age_band: band.into(),
                    gender: None,
                    resident: None,
                    label: Some(Sealed(vec![3; 41])),
                    recruitment: None,
                },
            )
            .unwrap();
        phone
            .mark(author, ctx, session, &p, AttendanceStatus::Present)
            .unwrap();
    }
    let am = phone.doc().automerge();
    let mut new = am.get_changes(&base);
    let hashes: Vec<_> = new.iter().map(|c| c.hash()).collect();
    let changes: Vec<u8> = new.iter().flat_map(|c| c.raw_bytes().to_vec()).collect();
    let compressed: Vec<u8> = new.iter_mut().flat_map(|c| c.bytes().to_vec()).collect();
    let bundle = am.bundle(hashes).unwrap().bytes().to_vec();
    let all: Vec<_> = am.get_changes(&[]).iter().map(|c| c.hash()).collect();
    let bundle_all = am.bundle(all).unwrap().bytes().to_vec();
    let d = root.join("change_bundle");
    write(&d, "changes", &changes);
    write(&d, "compressed-changes", &compressed);
    write(&d, "bundle", &bundle);
    write(&d, "bundle-all", &bundle_all);
    write(&d, "document", &am.save());
    write(&d, "document-uncompressed", &am.save_nocompress());

    // A real exchange: the phone's first message (heads, Bloom filter), the relay's answer,
    // the phone's message with its changes.
    let mut phone_am = am.clone();
    let (mut ps, mut rs) = (State::new(), State::new());
    let mut relay_am = relay.clone();
    let first = phone_am.generate_sync_message(&mut ps).unwrap();
    relay_am
        .receive_sync_message(&mut rs, first.clone())
        .unwrap();
    let answer = relay_am.generate_sync_message(&mut rs).unwrap();
    phone_am
        .receive_sync_message(&mut ps, answer.clone())
        .unwrap();
    let with_changes = phone_am.generate_sync_message(&mut ps).unwrap();
    assert!(!with_changes.changes.is_empty());
    let d = root.join("sync_message");
    let tagged = |shape: u8, bytes: &[u8]| [&[shape][..], bytes].concat();
    write(&d, "first", &tagged(0, &first.clone().encode()));
    write(&d, "answer", &tagged(0, &answer.encode()));
    write(
        &d,
        "with-changes",
        &tagged(0, &with_changes.clone().encode()),
    );
    write(&d, "changes", &tagged(1, &changes));
    write(&d, "compressed-changes", &tagged(1, &compressed));
    write(&d, "bundle", &tagged(1, &bundle));

    let d = root.join("wire_cbor");
    let id = nabo_core::document::DocumentId::random().to_string();
    let frames = [
        (
            "join",
            WireMessage::Join {
                sender_id: "phone-1".into(),
                peer_metadata: PeerMetadata {
                    storage_id: Some("store-1".into()),
                    is_ephemeral: Some(false),
                },
                supported_protocol_versions: vec!["1".into()],
            },
        ),
        (
            "peer",
            WireMessage::Peer {
                sender_id: "relay".into(),
                target_id: "phone-1".into(),
                peer_metadata: PeerMetadata::default(),
                selected_protocol_version: "1".into(),
            },
        ),
        (
            "request",
            WireMessage::Request {
                sender_id: "phone-1".into(),
                target_id: "relay".into(),
                document_id: id.clone(),
                data: first.encode(),
            },
        ),
        (
            "sync",
            WireMessage::Sync {
                sender_id: "phone-1".into(),
                target_id: "relay".into(),
                document_id: id.clone(),
                data: with_changes.encode(),
            },
        ),
        (
            "doc-unavailable",
            WireMessage::DocUnavailable {
                sender_id: "relay".into(),
                target_id: "phone-1".into(),
                document_id: id.clone(),
            },
        ),
        (
            "ephemeral",
            WireMessage::Ephemeral {
                sender_id: "phone-1".into(),
                target_id: "relay".into(),
                count: 3,
                session_id: "s-1".into(),
                document_id: id,
                data: vec![0xa1, 0x61, 0x78, 0x01],
            },
        ),
        (
            "error",
            WireMessage::Error {
                sender_id: "relay".into(),
                target_id: "phone-1".into(),
                message: "too many changes in one message".into(),
                document_id: None,
            },
        ),
    ];
    for (name, m) in frames {
        write(&d, name, &m.encode());
    }
    println!(
        "wrote change, sync and protocol seeds to {}",
        root.display()
    );
}
