//! Changes, compressed changes, bundles and saved documents applied to a register
//! (`NaboDoc::apply_incremental`: the relay merging a document two phones created
//! concurrently, the phone's store). Never panics outside `guarded`, never allocates beyond
//! the declared-size budget (libFuzzer's malloc limit reports that as an out-of-memory), a
//! refusal leaves the register as it was, and what is accepted reopens from its saved bytes.
#![no_main]

use automerge::ActorId;
use libfuzzer_sys::fuzz_target;
use nabo_core::document::NaboDoc;

fuzz_target!(
    init: nabo_fuzz::report_uncaught_panics(),
    |data: &[u8]| {
        let actor = ActorId::from([5u8; 16].as_slice());
        let Ok(mut doc) = NaboDoc::load(nabo_fuzz::REGISTER, actor) else {
            panic!("the seed register does not load");
        };
        let before = doc.heads();
        match doc.apply_incremental(data) {
            Err(_) => assert_eq!(doc.heads(), before, "a refused input changed the register"),
            Ok(()) => {
                let appended = doc.save_after(&before);
                nabo_fuzz::assert_reopens(nabo_fuzz::REGISTER, &appended, doc.automerge());
            }
        }
    }
);
