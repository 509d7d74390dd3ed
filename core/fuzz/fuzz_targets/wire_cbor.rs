//! The protocol's CBOR framing (`nabo_core::wire`), as the relay and the phones decode every
//! WebSocket frame: decoding arbitrary bytes never panics, and a message that decodes
//! encodes back to bytes that decode to the same message. Document ids in it parse or are
//! refused, and one that parses prints back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nabo_core::document::DocumentId;
use nabo_core::wire::WireMessage;

fuzz_target!(
    init: nabo_fuzz::report_uncaught_panics(),
    |data: &[u8]| {
        let Ok(msg) = WireMessage::decode(data) else {
            return;
        };
        let again = WireMessage::decode(&msg.encode());
        assert_eq!(again.as_ref(), Ok(&msg), "encode/decode round trip");
        let id = match &msg {
            WireMessage::Request { document_id, .. }
            | WireMessage::Sync { document_id, .. }
            | WireMessage::DocUnavailable { document_id, .. }
            | WireMessage::Ephemeral { document_id, .. } => document_id,
            _ => return,
        };
        if let Ok(parsed) = DocumentId::parse(id) {
            assert_eq!(DocumentId::parse(&parsed.to_string()), Ok(parsed));
        }
    }
);
