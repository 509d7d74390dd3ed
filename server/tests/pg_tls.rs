//! PostgreSQL over TLS with `sslmode=verify-full` (issue 9): the test cluster is given a
//! server certificate from a CA made here, the relay's storage connects with the CA and the
//! host name checked, and a server the CA did not certify is refused.
//!
//! The certificate and key go to /tmp, owned by the server's user (the key with mode 0600),
//! TLS is switched on with `ALTER SYSTEM` and a reload, and switched off again at the end.
//! Connections that do not ask for TLS are unaffected. (Unix, server on this machine: as the
//! test cluster of `cargo xtask test` is.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, KeyUsagePurpose};
use sqlx::Connection;

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// Writes `text` to `path` for the database server to read: owned by the server's user
/// (the owner of its data directory) with `mode`, as PostgreSQL wants its key.
async fn write_for_server(c: &mut sqlx::PgConnection, path: &str, text: &str, mode: u32) {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let data: String = sqlx::query_scalar("SELECT current_setting('data_directory')")
        .fetch_one(&mut *c)
        .await
        .unwrap();
    let owner = std::fs::metadata(&data).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    if std::fs::metadata(path).unwrap().uid() != owner.uid() {
        // The tests run as root and the server as `postgres` (cargo xtask test).
        std::os::unix::fs::chown(path, Some(owner.uid()), Some(owner.gid())).unwrap();
    }
}

async fn set_tls(c: &mut sqlx::PgConnection, on: Option<(&str, &str)>) {
    let statements: Vec<String> = match on {
        Some((cert, key)) => vec![
            format!("ALTER SYSTEM SET ssl_cert_file = '{cert}'"),
            format!("ALTER SYSTEM SET ssl_key_file = '{key}'"),
            "ALTER SYSTEM SET ssl = on".into(),
        ],
        None => vec![
            "ALTER SYSTEM RESET ssl".into(),
            "ALTER SYSTEM RESET ssl_cert_file".into(),
            "ALTER SYSTEM RESET ssl_key_file".into(),
        ],
    };
    for s in statements {
        sqlx::raw_sql(sqlx::AssertSqlSafe(s))
            .execute(&mut *c)
            .await
            .unwrap();
    }
    sqlx::query("SELECT pg_reload_conf()")
        .execute(&mut *c)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn storage_connects_to_postgresql_with_verify_full() {
    let Ok(admin) = std::env::var("NABO_TEST_PG_URL") else {
        assert!(
            std::env::var("NABO_REQUIRE_PG").as_deref() != Ok("1"),
            "NABO_REQUIRE_PG=1 but NABO_TEST_PG_URL is not set"
        );
        eprintln!("note: NABO_TEST_PG_URL not set, PostgreSQL TLS test skipped");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let authority = ca("Nabo test CA");
    let server_key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&server_key, &authority)
        .unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, pem("CERTIFICATE", authority.der())).unwrap();
    let stranger_file = dir.path().join("other-ca.pem");
    std::fs::write(&stranger_file, pem("CERTIFICATE", ca("Someone else").der())).unwrap();

    let mut c = sqlx::PgConnection::connect(&admin).await.unwrap();
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let (cert_path, key_path) = (
        format!("/tmp/nabo-test-{tag}.crt"),
        format!("/tmp/nabo-test-{tag}.key"),
    );
    write_for_server(&mut c, &cert_path, &pem("CERTIFICATE", cert.der()), 0o644).await;
    write_for_server(
        &mut c,
        &key_path,
        &pem("PRIVATE KEY", &server_key.serialize_der()),
        0o600,
    )
    .await;
    set_tls(&mut c, Some((&cert_path, &key_path))).await;

    let database =
        nabo_server::testing::fresh_database(nabo_server::testing::Backend::Postgres, dir.path())
            .await
            .unwrap();
    let tls_url = move |ca: &std::path::Path| {
        format!(
            "{}?sslmode=verify-full&sslrootcert={}",
            database.replace("@127.0.0.1:", "@localhost:"),
            ca.display()
        )
    };
    // The reload takes a moment to reach new connections.
    let mut conn = None;
    for _ in 0..50 {
        match sqlx::PgConnection::connect(&tls_url(&ca_file)).await {
            Ok(x) => {
                conn = Some(x);
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    let outcome = async move {
        let mut tls = conn.expect("a verify-full connection with the test CA");
        let encrypted: bool =
            sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                .fetch_one(&mut tls)
                .await
                .unwrap();
        assert!(encrypted, "the connection is encrypted");
        // The relay's storage over it: migrations, a round trip.
        let storage = nabo_server::storage::PgStorage::connect(&tls_url(&ca_file))
            .await
            .expect("storage over verify-full");
        use nabo_server::storage::Storage;
        storage.ping().await.unwrap();
        storage.close().await;
        // A CA that did not certify the server is refused.
        assert!(
            sqlx::PgConnection::connect(&tls_url(&stranger_file))
                .await
                .is_err(),
            "a server the CA did not certify is refused"
        );
    };
    let result = tokio::spawn(outcome).await;
    set_tls(&mut c, None).await;
    let _ = std::fs::remove_file(&cert_path);
    let _ = std::fs::remove_file(&key_path);
    result.unwrap();
}
