//! The review pages' cache of decoded documents (ADR 0028): a page load reuses what did not
//! change, shows every stored change on the very next load — made through this relay, or
//! written to the database by someone else (another node) — and reports a failing database
//! as an error, never as an empty page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use automerge::ActorId;
use common::{Browser, author_of, connect, doc_id, fetch_nabo, relay};
use nabo_core::catalogue::Catalogue;
use nabo_core::client::SyncEnd;
use nabo_core::docs::activity::ActivityDoc;
use nabo_core::document::{NaboDoc, TypedDoc};
use nabo_server::testing::{Backend, TestRelay};
use reqwest::StatusCode;

const PAGE: &str = "/aktiviteter/act-lektiecafe";

#[tokio::test(flavor = "multi_thread")]
async fn every_stored_change_is_on_the_next_page_load() {
    for backend in Backend::all() {
        every_stored_change_is_on_the_next_page_load_on(backend).await;
    }
}

async fn every_stored_change_is_on_the_next_page_load_on(backend: Backend) {
    let r = relay(backend).await;
    let pages = &r.relay().state.hub.pages;
    let b = Browser::login(&r, "central").await;
    assert!(b.text(PAGE).await.contains("Lektiecaféen i Beboerhuset"));
    // The second load decodes nothing: every document comes from the cache.
    let (hits, misses) = pages.counts();
    assert!(
        b.text("/aktiviteter")
            .await
            .contains("Lektiecaféen i Beboerhuset")
    );
    let (hits2, misses2) = pages.counts();
    assert_eq!(
        misses2, misses,
        "{backend:?}: nothing changed, nothing decoded"
    );
    assert!(
        hits2 > hits,
        "{backend:?}: the documents come from the cache"
    );

    // A phone renames the activity through the relay: the next load shows it.
    let act = doc_id(&r, "activity", "Lektiecaféen").await;
    let mut c = connect(&r, "central").await;
    let (doc, mut state) = fetch_nabo(&mut c, act).await;
    let mut a = ActivityDoc::from_doc(doc).unwrap();
    let by = author_of(&r, "central").await;
    let cat = Catalogue::builtin().unwrap();
    a.update(&by, cat, |x| x.name = "Lektiecaféen Nord".into())
        .unwrap();
    let end = c
        .sync(act, a.doc_mut().automerge_mut(), &mut state, false)
        .await
        .unwrap();
    assert_eq!(end, SyncEnd::Synced);
    let html = b.text(PAGE).await;
    assert!(
        html.contains("Lektiecaféen Nord"),
        "{backend:?}: the phone's edit"
    );
    assert!(b.text("/aktiviteter").await.contains("Lektiecaféen Nord"));

    // Another writer on the same database (another relay node on PostgreSQL, whose notice
    // may or may not have arrived yet; a second process on SQLite, which sends none): the
    // very next load shows it, without waiting.
    let other = nabo_server::storage::open(&r.database_url).await.unwrap();
    let stored = common::stored(&r, act).await;
    let heads = stored.get_heads();
    let mut a =
        ActivityDoc::from_doc(NaboDoc::from_automerge(stored, ActorId::random()).unwrap()).unwrap();
    a.update(&by, cat, |x| x.name = "Lektiecaféen Syd".into())
        .unwrap();
    other
        .append(act, &a.doc().save_after(&heads))
        .await
        .unwrap();
    let html = b.text(PAGE).await;
    assert!(
        html.contains("Lektiecaféen Syd"),
        "{backend:?}: another node's edit on the next load"
    );
    assert!(!html.contains("Lektiecaféen Nord"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_database_on_a_page_load_is_an_error_never_an_empty_page() {
    for backend in Backend::all() {
        a_failing_database_on_a_page_load_is_an_error_never_an_empty_page_on(backend).await;
    }
}

async fn a_failing_database_on_a_page_load_is_an_error_never_an_empty_page_on(backend: Backend) {
    let r = relay(backend).await;
    let b = Browser::login(&r, "central").await;
    let act = doc_id(&r, "activity", "Lektiecaféen").await;
    // Warm: every document of the page is in the cache.
    assert!(b.text(PAGE).await.contains("Lektiecaféen i Beboerhuset"));

    // The registry of documents does not read: 503, with the cache full.
    break_column(&r, "documents", "version").await;
    let resp = b.get(PAGE).await;
    assert_eq!(
        resp.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "{backend:?}"
    );
    assert!(resp.text().await.unwrap().contains("Databasen svarer ikke"));
    let resp = b.get("/oversigt").await;
    assert_eq!(
        resp.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "{backend:?}"
    );
    mend_column(&r, "documents", "version").await;
    assert!(b.text(PAGE).await.contains("Lektiecaféen i Beboerhuset"));

    // A changed document whose stored changes do not read: 503, not the page without it.
    let stored = common::stored(&r, act).await;
    let heads = stored.get_heads();
    let mut a =
        ActivityDoc::from_doc(NaboDoc::from_automerge(stored, ActorId::random()).unwrap()).unwrap();
    let by = author_of(&r, "central").await;
    a.update(&by, Catalogue::builtin().unwrap(), |x| {
        x.name = "Lektiecaféen Vest".into()
    })
    .unwrap();
    r.storage()
        .append(act, &a.doc().save_after(&heads))
        .await
        .unwrap();
    break_column(&r, "chunks", "bytes").await;
    let resp = b.get(PAGE).await;
    assert_eq!(
        resp.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "{backend:?}"
    );
    mend_column(&r, "chunks", "bytes").await;
    assert!(b.text(PAGE).await.contains("Lektiecaféen Vest"));
}

/// Makes a column unreadable for the relay (a database that fails under it): SQLite renames
/// its table away (sqlx keeps a prepared statement's column names, so a renamed column would
/// still read); PostgreSQL changes the column's type (its prepared statements follow a
/// renamed table).
async fn break_column(r: &TestRelay, table: &str, column: &str) {
    match r.backend {
        Backend::Sqlite => sql(r, &format!("ALTER TABLE {table} RENAME TO {table}_away")).await,
        Backend::Postgres => {
            let to = if column == "bytes" {
                "TEXT USING encode(bytes, 'hex')".to_owned()
            } else {
                format!("TEXT USING {column}::text")
            };
            sql(
                r,
                &format!("ALTER TABLE {table} ALTER COLUMN {column} TYPE {to}"),
            )
            .await
        }
    }
}

async fn mend_column(r: &TestRelay, table: &str, column: &str) {
    match r.backend {
        Backend::Sqlite => sql(r, &format!("ALTER TABLE {table}_away RENAME TO {table}")).await,
        Backend::Postgres => {
            let to = if column == "bytes" {
                "BYTEA USING decode(bytes, 'hex')".to_owned()
            } else {
                format!("BIGINT USING {column}::bigint")
            };
            sql(
                r,
                &format!("ALTER TABLE {table} ALTER COLUMN {column} TYPE {to}"),
            )
            .await;
            // A pooled connection that prepared a statement while the column was broken
            // keeps that plan, and PostgreSQL refuses it now that the type is back ("cached
            // plan must not change result type"). The database comes back as after a restart:
            // the relay's sessions end, and its pool opens new ones.
            sql(
                r,
                "SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .await
        }
    }
}

async fn sql(r: &TestRelay, statement: &str) {
    use sqlx::Connection;
    let q = || sqlx::AssertSqlSafe(statement.to_owned());
    match r.backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&r.database_url)
                .await
                .unwrap();
            sqlx::query(q()).execute(&mut c).await.unwrap();
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&r.database_url).await.unwrap();
            sqlx::query(q()).execute(&mut c).await.unwrap();
        }
    }
}
