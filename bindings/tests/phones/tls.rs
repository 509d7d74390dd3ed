//! The phone's client over TLS: a test CA (rcgen) signs a certificate for 127.0.0.1, a TLS
//! front (tokio-rustls) terminates https and wss in front of a test relay and forwards the
//! bytes. A client given the CA's root (`open_with_trusted_roots`) logs in and syncs; a
//! client without it, or a front whose certificate comes from another CA, is refused with
//! `NaboError::Untrusted` — not `Offline`, which would make the app wait for a network that
//! is there.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use nabo_bindings::{NaboClient, NaboError};
use nabo_server::relay::Limits;
use nabo_server::testing::{Backend, TestRelay};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};

const PASSWORD: &str = "tls-test-password";

/// A certificate authority of our own, like a municipality's internal CA.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        Ca {
            issuer: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap(),
        }
    }

    /// The CA's certificate as PEM, as an app would ship it.
    fn pem(&self) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(self.issuer.der());
        let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
        for line in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(line).unwrap());
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
        out
    }

    /// A server configuration with a certificate for 127.0.0.1 issued by this CA.
    fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let chain = vec![cert.der().clone(), self.issuer.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        Arc::new(
            rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap(),
        )
    }
}

/// Terminates TLS on 127.0.0.1 and forwards each connection's bytes to the relay. The
/// certificate can be swapped between connections.
struct Front {
    addr: SocketAddr,
    config: Arc<Mutex<Arc<rustls::ServerConfig>>>,
    handshakes: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Front {
    async fn start(relay: SocketAddr, config: Arc<rustls::ServerConfig>) -> Front {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = Arc::new(Mutex::new(config));
        let handshakes = Arc::new(AtomicUsize::new(0));
        let (cfg, count) = (config.clone(), handshakes.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    break;
                };
                let acceptor = tokio_rustls::TlsAcceptor::from(cfg.lock().unwrap().clone());
                let count = count.clone();
                tokio::spawn(async move {
                    // A client that refuses the certificate ends the handshake here.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    count.fetch_add(1, Ordering::SeqCst);
                    let Ok(mut upstream) = TcpStream::connect(relay).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
                });
            }
        });
        Front {
            addr,
            config,
            handshakes,
            task,
        }
    }

    fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    fn serve(&self, config: Arc<rustls::ServerConfig>) {
        *self.config.lock().unwrap() = config;
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay() -> TestRelay {
    let r = TestRelay::start(Backend::Sqlite, Limits::default())
        .await
        .unwrap();
    r.seed_demo(PASSWORD).await.unwrap();
    r
}

#[tokio::test(flavor = "multi_thread")]
async fn a_phone_trusting_the_organisations_ca_logs_in_over_https_and_syncs_over_wss() {
    let r = relay().await;
    let ca = Ca::new("Nabo test CA");
    let front = Front::start(r.relay().addr, ca.server_config()).await;

    let dir = tempfile::tempdir().unwrap();
    let phone = NaboClient::open_with_trusted_roots(
        dir.path().display().to_string(),
        front.url(),
        vec![1; 32],
        ca.pem(),
    )
    .await
    .unwrap();
    let me = phone
        .login("volunteer1".into(), PASSWORD.into())
        .await
        .unwrap();
    assert_eq!(me.role, "volunteer");
    let after_login = front.handshakes.load(Ordering::SeqCst);
    assert!(after_login >= 1, "the login went through the TLS front");

    let report = phone.sync_now().await.unwrap();
    assert!(report.documents >= 3, "{report:?}");
    assert!(report.bytes_received > 0, "{report:?}");
    assert!(
        front.handshakes.load(Ordering::SeqCst) > after_login,
        "the sync's WebSocket went through the TLS front (wss)"
    );
    let acts = phone.my_activities().await.unwrap();
    assert_eq!(
        acts.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["act-lektiecafe"]
    );

    // The relay's certificate is replaced by one from a CA the phone does not know: the
    // next sync is refused as untrusted, and the sync status says so (every request and
    // the WebSocket open a connection of their own, so the sync's first one meets it).
    let stranger = Ca::new("Some other CA");
    front.serve(stranger.server_config());
    match phone.sync_now().await {
        Err(NaboError::Untrusted { detail }) => {
            assert!(detail.contains("certificate"), "{detail}");
        }
        other => panic!("expected Untrusted, got {other:?}"),
    }
    let status = phone.sync_status().await.unwrap();
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.starts_with("untrusted")),
        "{status:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_from_an_unknown_ca_is_refused_as_untrusted() {
    let r = relay().await;
    let ca = Ca::new("Nabo test CA");
    let front = Front::start(r.relay().addr, ca.server_config()).await;

    // Only the public roots: the organisation's CA is unknown.
    let dir = tempfile::tempdir().unwrap();
    let phone = NaboClient::open(dir.path().display().to_string(), front.url(), vec![1; 32])
        .await
        .unwrap();
    match phone.login("central".into(), PASSWORD.into()).await {
        Err(NaboError::Untrusted { detail }) => {
            assert!(detail.contains("certificate"), "{detail}");
        }
        other => panic!("expected Untrusted, got {other:?}"),
    }

    // Trusting another CA does not help either.
    let dir = tempfile::tempdir().unwrap();
    let phone = NaboClient::open_with_trusted_roots(
        dir.path().display().to_string(),
        front.url(),
        vec![1; 32],
        Ca::new("Some other CA").pem(),
    )
    .await
    .unwrap();
    assert!(matches!(
        phone.login("central".into(), PASSWORD.into()).await,
        Err(NaboError::Untrusted { .. })
    ));
    assert_eq!(
        front.handshakes.load(Ordering::SeqCst),
        0,
        "no handshake completed"
    );

    // A bundle without a certificate is refused at open, naming the parameter.
    let dir = tempfile::tempdir().unwrap();
    match NaboClient::open_with_trusted_roots(
        dir.path().display().to_string(),
        front.url(),
        vec![1; 32],
        "not a certificate".into(),
    )
    .await
    {
        Err(NaboError::Invalid { field, .. }) => assert_eq!(field, "trusted_roots_pem"),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_relay_url_the_phone_cannot_dial_is_refused_at_open_naming_the_field() {
    for (url, reason) in [
        ("relay.example.dk", "not-supported"),
        ("ftp://relay.example.dk", "not-supported"),
        ("https://relay.example.dk:https", "bad-port"),
        ("https://:8443", "bad-host"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        match NaboClient::open(dir.path().display().to_string(), url.into(), vec![1; 32]).await {
            Err(NaboError::Invalid {
                field, reason: r, ..
            }) => assert_eq!((field.as_str(), r.as_str()), ("relay_url", reason), "{url}"),
            other => panic!("{url}: expected Invalid, got {other:?}"),
        }
    }
}
