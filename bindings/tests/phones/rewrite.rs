//! A document the relay rewrote under a new id (ADR 0037) leaves the phones too: a central
//! staff member's phone that holds the staff directory, with an erased colleague's name in
//! its history, drops its copy at the next sync (its sealed bytes leave the store's files)
//! and takes the new one, which has no history; the old id is never offered again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::*;

use automerge::ActorId;
use nabo_core::document::{DocumentId, Scope};
use nabo_server::relay::Limits;
use nabo_server::testing::{Backend, TestRelay};
use sqlx::Connection;

const KEY: u8 = 5;

fn staff_scope() -> String {
    Scope::Staff {
        tenant: "vestbyen".parse().unwrap(),
    }
    .to_string()
}

/// The sealed blobs a phone's store keeps for document `id` (snapshot and changes).
async fn stored_blobs(dir: &std::path::Path, id: DocumentId) -> Vec<Vec<u8>> {
    let url = format!("sqlite://{}?mode=ro", dir.join("nabo.sqlite").display());
    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let out: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT snapshot FROM documents WHERE doc_id = ?1 \
         UNION ALL SELECT bytes FROM changes WHERE doc_id = ?1",
    )
    .bind(id.to_string())
    .fetch_all(&mut c)
    .await
    .unwrap();
    c.close().await.unwrap();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_phone_drops_a_rewritten_directory_and_takes_the_new_one() {
    for backend in Backend::all() {
        let mut r = TestRelay::start(backend, Limits::default()).await.unwrap();
        r.seed_demo(PASSWORD).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let phone = enrolled_phone(&r, dir.path(), KEY, "u-central").await;
        let old = r
            .storage()
            .document_by_scope(&staff_scope())
            .await
            .unwrap()
            .unwrap()
            .id;
        let blobs = stored_blobs(dir.path(), old).await;
        assert!(
            !blobs.is_empty(),
            "{backend:?}: the phone holds the directory"
        );
        let bytes = store_bytes(dir.path());
        assert!(
            blobs.iter().all(|b| contains(&bytes, b)),
            "{backend:?}: the test can fail: the sealed copy is in the store's files"
        );

        // Central staff erase a colleague: the directory is rewritten under a new id.
        erase(&r, "s-camilla").await;
        let new = r
            .storage()
            .document_by_scope(&staff_scope())
            .await
            .unwrap()
            .unwrap()
            .id;
        assert_ne!(new, old, "{backend:?}");

        // The phone's next sync drops the old copy and takes the new one.
        let report = phone.sync_now().await.unwrap();
        assert!(report.removed >= 1, "{backend:?}: {report:?}");
        assert!(
            stored_blobs(dir.path(), old).await.is_empty(),
            "{backend:?}: the old copy is gone"
        );
        let bytes = store_bytes(dir.path());
        for b in &blobs {
            assert!(
                !contains(&bytes, b),
                "{backend:?}: a sealed blob of the old copy is still in the store's files"
            );
        }
        let store =
            nabo_core::store::Store::open_encrypted(&dir.path().join("nabo.sqlite"), &[KEY; 32])
                .await
                .unwrap();
        let fresh = store.load(new, ActorId::random()).await.unwrap().unwrap();
        assert_eq!(
            fresh.automerge().get_changes(&[]).len(),
            1,
            "{backend:?}: the new copy has no history"
        );
        assert!(store.load(old, ActorId::random()).await.unwrap().is_none());
        store.close().await;
        // Syncing again changes nothing, and the relay never takes the old id back.
        phone.sync_now().await.unwrap();
        assert!(r.storage().document(old).await.unwrap().is_none());
        r.running.take().unwrap().shutdown().await;
    }
}
