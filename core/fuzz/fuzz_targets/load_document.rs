//! Loading arbitrary bytes as a Nabo document (the relay's storage, a backup being restored,
//! the phone's store) never panics outside `guarded` and never allocates beyond the
//! declared-size budget; when it loads, it saves to bytes that load to the same document, and
//! every typed view of it answers with a value or an error, never a panic.
#![no_main]

use automerge::ActorId;
use libfuzzer_sys::fuzz_target;
use nabo_core::docs::activity::ActivityDoc;
use nabo_core::docs::outreach::OutreachDoc;
use nabo_core::docs::register::RegisterDoc;
use nabo_core::docs::resident::ResidentLogDoc;
use nabo_core::docs::tenant::TenantDoc;
use nabo_core::docs::volunteers::VolunteersDoc;
use nabo_core::document::{DocKind, NaboDoc, TypedDoc};

fuzz_target!(
    init: nabo_fuzz::report_uncaught_panics(),
    |data: &[u8]| {
    let Ok(doc) = NaboDoc::load(data, ActorId::from([1u8; 16].as_slice())) else {
        return;
    };
    nabo_fuzz::assert_reopens(&doc.save(), &[], doc.automerge());
    let _ = doc.history();
    match doc.kind() {
        DocKind::Register => {
            if let Ok(r) = RegisterDoc::from_doc(doc) {
                if let Ok(v) = r.view() {
                    let _ = v.review_items(|_, _| None);
                }
            }
        }
        DocKind::Activity => {
            if let Ok(a) = ActivityDoc::from_doc(doc) {
                let _ = a.snapshot();
                let _ = a.goals();
                let _ = a.reports();
            }
        }
        DocKind::Outreach => {
            if let Ok(o) = OutreachDoc::from_doc(doc) {
                let _ = o.view();
            }
        }
        DocKind::Tenant => {
            if let Ok(t) = TenantDoc::from_doc(doc) {
                let _ = t.programmes();
                let _ = t.local_catalogue();
            }
        }
        DocKind::Volunteers => {
            if let Ok(v) = VolunteersDoc::from_doc(doc) {
                let _ = v.volunteers();
            }
        }
        DocKind::ResidentLog => {
            if let Ok(r) = ResidentLogDoc::from_doc(doc) {
                let _ = r.summary(None, None);
            }
        }
        _ => {}
    }
});
