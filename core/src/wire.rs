//! The automerge-repo wire protocol, version "1", as spoken by
//! `@automerge/automerge-repo-network-websocket`: CBOR maps over WebSocket binary frames.
//!
//! Wire types are separate from domain types. Decoding never panics: unknown message types
//! decode to [`WireMessage::Unknown`], malformed bytes to an error.

use serde::{Deserialize, Serialize};

/// The only protocol version.
pub const PROTOCOL_V1: &str = "1";

/// How an `error` message from the relay starts when the document was rewritten under a new
/// id (ADR 0037): `replaced: automerge:<new id>` (or `replaced: unknown`). The phone drops
/// its copy and carries its late edits over to the new document.
pub const REPLACED: &str = "replaced: ";

/// The `error` message text for a document rewritten as `new`.
pub fn replaced_message(new: Option<crate::document::DocumentId>) -> String {
    match new {
        Some(id) => format!("{REPLACED}{}", id.url()),
        None => format!("{REPLACED}unknown"),
    }
}

/// Whether an `error` message says the document was rewritten, and as what.
pub fn replaced_by(message: &str) -> Option<Option<crate::document::DocumentId>> {
    let rest = message.strip_prefix(REPLACED)?;
    Some(crate::document::DocumentId::parse(rest).ok())
}

/// Metadata a peer presents in `join` / `peer`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerMetadata {
    /// The peer's storage id: set by peers that persist (the relay keeps sync state per
    /// storage id, so a reconnect only sends what changed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_id: Option<String>,
    /// An ephemeral peer keeps nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_ephemeral: Option<bool>,
}

/// A message of the protocol.
#[derive(Debug, Clone, PartialEq)]
pub enum WireMessage {
    /// Client → server: hello.
    Join {
        /// The client's peer id.
        sender_id: String,
        /// Metadata.
        peer_metadata: PeerMetadata,
        /// Versions the client speaks.
        supported_protocol_versions: Vec<String>,
    },
    /// Server → client: hello back.
    Peer {
        /// The server's peer id.
        sender_id: String,
        /// The client's peer id.
        target_id: String,
        /// Metadata.
        peer_metadata: PeerMetadata,
        /// Always "1".
        selected_protocol_version: String,
    },
    /// An error. Without a document the sender closes the connection afterwards; with one
    /// (a Nabo extension the JavaScript client ignores) the relay refused changes to that
    /// document and closed it for the rest of the connection (ADR 0013).
    Error {
        /// Sender.
        sender_id: String,
        /// Target.
        target_id: String,
        /// What went wrong (no personal data).
        message: String,
        /// The document whose changes were refused, if any.
        document_id: Option<String>,
    },
    /// "I do not have this document; send it if you have it."
    Request {
        /// Sender.
        sender_id: String,
        /// Target.
        target_id: String,
        /// bs58check document id.
        document_id: String,
        /// An Automerge sync message.
        data: Vec<u8>,
    },
    /// An Automerge sync message for a document both sides have (or the sender has).
    Sync {
        /// Sender.
        sender_id: String,
        /// Target.
        target_id: String,
        /// bs58check document id.
        document_id: String,
        /// An Automerge sync message.
        data: Vec<u8>,
    },
    /// The document does not exist here (or may not be seen: the same answer).
    DocUnavailable {
        /// Sender.
        sender_id: String,
        /// Target.
        target_id: String,
        /// bs58check document id.
        document_id: String,
    },
    /// Presence and other ephemeral data, relayed, never stored.
    Ephemeral {
        /// Sender.
        sender_id: String,
        /// Target.
        target_id: String,
        /// Counter.
        count: u64,
        /// Session.
        session_id: String,
        /// Document.
        document_id: String,
        /// Payload.
        data: Vec<u8>,
    },
    /// Any other type (remote-heads gossip and the like), ignored by Nabo.
    Unknown {
        /// The message's `type`.
        kind: String,
    },
}

/// Why bytes are not a protocol message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Not CBOR, or not a map with a string `type`.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// A known type with missing or wrongly typed fields.
    #[error("malformed {kind} message: {detail}")]
    BadFields {
        /// The type.
        kind: String,
        /// What is wrong.
        detail: String,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JoinFields {
    sender_id: String,
    #[serde(default)]
    peer_metadata: PeerMetadata,
    #[serde(default)]
    supported_protocol_versions: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PeerFields {
    sender_id: String,
    target_id: String,
    #[serde(default)]
    peer_metadata: PeerMetadata,
    selected_protocol_version: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorFields {
    #[serde(default)]
    sender_id: String,
    #[serde(default)]
    target_id: String,
    message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    document_id: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DocFields {
    sender_id: String,
    target_id: String,
    document_id: String,
    #[serde(with = "serde_bytes", default)]
    data: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UnavailableFields {
    sender_id: String,
    target_id: String,
    document_id: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EphemeralFields {
    sender_id: String,
    target_id: String,
    count: u64,
    session_id: String,
    document_id: String,
    #[serde(with = "serde_bytes")]
    data: Vec<u8>,
}

#[derive(Serialize)]
struct Tagged<'a, T> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(flatten)]
    fields: T,
}

fn encode_tagged<T: Serialize>(kind: &str, fields: T) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail, and our types always serialise.
    let _ = ciborium::into_writer(&Tagged { kind, fields }, &mut out);
    out
}

impl WireMessage {
    /// The message's `type` on the wire.
    pub fn kind(&self) -> &str {
        match self {
            WireMessage::Join { .. } => "join",
            WireMessage::Peer { .. } => "peer",
            WireMessage::Error { .. } => "error",
            WireMessage::Request { .. } => "request",
            WireMessage::Sync { .. } => "sync",
            WireMessage::DocUnavailable { .. } => "doc-unavailable",
            WireMessage::Ephemeral { .. } => "ephemeral",
            WireMessage::Unknown { kind } => kind,
        }
    }

    /// Encodes to CBOR as the JavaScript client expects (byte strings for data).
    pub fn encode(&self) -> Vec<u8> {
        match self.clone() {
            WireMessage::Join {
                sender_id,
                peer_metadata,
                supported_protocol_versions,
            } => encode_tagged(
                "join",
                JoinFields {
                    sender_id,
                    peer_metadata,
                    supported_protocol_versions,
                },
            ),
            WireMessage::Peer {
                sender_id,
                target_id,
                peer_metadata,
                selected_protocol_version,
            } => encode_tagged(
                "peer",
                PeerFields {
                    sender_id,
                    target_id,
                    peer_metadata,
                    selected_protocol_version,
                },
            ),
            WireMessage::Error {
                sender_id,
                target_id,
                message,
                document_id,
            } => encode_tagged(
                "error",
                ErrorFields {
                    sender_id,
                    target_id,
                    message,
                    document_id,
                },
            ),
            WireMessage::Request {
                sender_id,
                target_id,
                document_id,
                data,
            } => encode_tagged(
                "request",
                DocFields {
                    sender_id,
                    target_id,
                    document_id,
                    data,
                },
            ),
            WireMessage::Sync {
                sender_id,
                target_id,
                document_id,
                data,
            } => encode_tagged(
                "sync",
                DocFields {
                    sender_id,
                    target_id,
                    document_id,
                    data,
                },
            ),
            WireMessage::DocUnavailable {
                sender_id,
                target_id,
                document_id,
            } => encode_tagged(
                "doc-unavailable",
                UnavailableFields {
                    sender_id,
                    target_id,
                    document_id,
                },
            ),
            WireMessage::Ephemeral {
                sender_id,
                target_id,
                count,
                session_id,
                document_id,
                data,
            } => encode_tagged(
                "ephemeral",
                EphemeralFields {
                    sender_id,
                    target_id,
                    count,
                    session_id,
                    document_id,
                    data,
                },
            ),
            WireMessage::Unknown { kind } => {
                encode_tagged(&kind, std::collections::BTreeMap::<String, String>::new())
            }
        }
    }

    /// Decodes one message. Never panics.
    pub fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let value: ciborium::Value =
            ciborium::from_reader(bytes).map_err(|e| WireError::Malformed(e.to_string()))?;
        let ciborium::Value::Map(entries) = &value else {
            return Err(WireError::Malformed("not a map".into()));
        };
        let kind = entries
            .iter()
            .find_map(|(k, v)| match (k, v) {
                (ciborium::Value::Text(k), ciborium::Value::Text(v)) if k == "type" => {
                    Some(v.clone())
                }
                _ => None,
            })
            .ok_or_else(|| WireError::Malformed("no type".into()))?;
        fn fields<T: serde::de::DeserializeOwned>(
            kind: &str,
            v: ciborium::Value,
        ) -> Result<T, WireError> {
            v.deserialized().map_err(|e| WireError::BadFields {
                kind: kind.into(),
                detail: e.to_string(),
            })
        }
        Ok(match kind.as_str() {
            "join" => {
                let f: JoinFields = fields(&kind, value)?;
                WireMessage::Join {
                    sender_id: f.sender_id,
                    peer_metadata: f.peer_metadata,
                    supported_protocol_versions: f.supported_protocol_versions,
                }
            }
            "peer" => {
                let f: PeerFields = fields(&kind, value)?;
                WireMessage::Peer {
                    sender_id: f.sender_id,
                    target_id: f.target_id,
                    peer_metadata: f.peer_metadata,
                    selected_protocol_version: f.selected_protocol_version,
                }
            }
            "error" => {
                let f: ErrorFields = fields(&kind, value)?;
                WireMessage::Error {
                    sender_id: f.sender_id,
                    target_id: f.target_id,
                    message: f.message,
                    document_id: f.document_id,
                }
            }
            "request" | "sync" => {
                let f: DocFields = fields(&kind, value)?;
                if kind == "request" {
                    WireMessage::Request {
                        sender_id: f.sender_id,
                        target_id: f.target_id,
                        document_id: f.document_id,
                        data: f.data,
                    }
                } else {
                    WireMessage::Sync {
                        sender_id: f.sender_id,
                        target_id: f.target_id,
                        document_id: f.document_id,
                        data: f.data,
                    }
                }
            }
            "doc-unavailable" => {
                let f: UnavailableFields = fields(&kind, value)?;
                WireMessage::DocUnavailable {
                    sender_id: f.sender_id,
                    target_id: f.target_id,
                    document_id: f.document_id,
                }
            }
            "ephemeral" => {
                let f: EphemeralFields = fields(&kind, value)?;
                WireMessage::Ephemeral {
                    sender_id: f.sender_id,
                    target_id: f.target_id,
                    count: f.count,
                    session_id: f.session_id,
                    document_id: f.document_id,
                    data: f.data,
                }
            }
            _ => WireMessage::Unknown { kind },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let msgs = [
            WireMessage::Join {
                sender_id: "p1".into(),
                peer_metadata: PeerMetadata {
                    storage_id: Some("s".into()),
                    is_ephemeral: Some(false),
                },
                supported_protocol_versions: vec!["1".into()],
            },
            WireMessage::Sync {
                sender_id: "a".into(),
                target_id: "b".into(),
                document_id: "d".into(),
                data: vec![0x42, 1, 2],
            },
            WireMessage::DocUnavailable {
                sender_id: "a".into(),
                target_id: "b".into(),
                document_id: "d".into(),
            },
            WireMessage::Ephemeral {
                sender_id: "a".into(),
                target_id: "b".into(),
                count: 3,
                session_id: "s".into(),
                document_id: "d".into(),
                data: vec![1],
            },
            WireMessage::Error {
                sender_id: "a".into(),
                target_id: "b".into(),
                message: "closing".into(),
                document_id: None,
            },
            WireMessage::Error {
                sender_id: "a".into(),
                target_id: "b".into(),
                message: "refused".into(),
                document_id: Some("d".into()),
            },
        ];
        for m in msgs {
            assert_eq!(WireMessage::decode(&m.encode()).unwrap(), m);
        }
    }

    #[test]
    fn data_is_a_cbor_byte_string() {
        let m = WireMessage::Request {
            sender_id: "a".into(),
            target_id: "b".into(),
            document_id: "d".into(),
            data: vec![7; 3],
        };
        let v: ciborium::Value = ciborium::from_reader(m.encode().as_slice()).unwrap();
        let ciborium::Value::Map(entries) = v else {
            panic!()
        };
        assert!(
            entries
                .iter()
                .any(|(k, v)| k == &ciborium::Value::Text("data".into())
                    && matches!(v, ciborium::Value::Bytes(b) if b == &vec![7; 3]))
        );
    }

    #[test]
    fn garbage_is_an_error_and_unknown_types_are_tolerated() {
        assert!(WireMessage::decode(b"\xff\xff").is_err());
        assert!(WireMessage::decode(&[]).is_err());
        let unknown = WireMessage::Unknown {
            kind: "remote-heads-changed".into(),
        }
        .encode();
        assert_eq!(
            WireMessage::decode(&unknown).unwrap().kind(),
            "remote-heads-changed"
        );
        let bad = WireMessage::Unknown {
            kind: "sync".into(),
        }
        .encode();
        assert!(matches!(
            WireMessage::decode(&bad),
            Err(WireError::BadFields { .. })
        ));
    }

    #[test]
    fn a_replaced_message_names_the_new_document() {
        let id = crate::document::DocumentId::random();
        assert_eq!(replaced_by(&replaced_message(Some(id))), Some(Some(id)));
        assert_eq!(replaced_by(&replaced_message(None)), Some(None));
        assert_eq!(replaced_by("refused: x"), None);
    }
}
