//! Staff sign-in with the organisation's identity provider: OpenID Connect, authorization
//! code flow with PKCE (`openidconnect` 4.1), configured per tenant (ADR 0017).
//!
//! The relay fetches the provider's discovery document and its keys (JWKS) itself, over its
//! own HTTP client: hyper with rustls (ring, the Mozilla root store) — https only, except
//! plain http to a loopback address (a provider on the same machine, as in the tests). No
//! redirects are followed, every answer is read within 10 seconds and at most 1 MiB. The
//! discovery document is checked to name exactly the configured issuer, and cached with the
//! keys for 10 minutes.
//!
//! Each sign-in: a random `state` (stored only as its hash, used once), a random `nonce` (in
//! the ID token, checked), a PKCE verifier (S256), and a cookie binding the request to the
//! browser that started it. The ID token must be signed by a key of the provider's JWKS with
//! an asymmetric algorithm it announces, carry the configured issuer, Nabo's client id as
//! audience, the nonce, and be unexpired (issued at most 10 minutes ago).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use nabo_core::model::AppRole;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse,
    StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};

/// How long discovery documents and keys are kept.
const CACHE_TTL: Duration = Duration::from_secs(600);
/// Longest answer from a provider.
const MAX_BODY: usize = 1 << 20;
/// Time for one request to a provider.
const TIMEOUT: Duration = Duration::from_secs(10);
/// An ID token issued longer ago than this is refused.
const MAX_ID_TOKEN_AGE_SECS: i64 = 600;
/// Clock skew accepted on `iat`.
const SKEW_SECS: i64 = 60;

/// Every claim of the ID token, kept for the configured groups claim.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OtherClaims(pub serde_json::Map<String, serde_json::Value>);
impl AdditionalClaims for OtherClaims {}

type Fields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Tokens = StandardTokenResponse<Fields, CoreTokenType>;
type Client = openidconnect::Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A tenant's provider, as the sign-in uses it (the secret unwrapped).
#[derive(Clone)]
pub struct Provider {
    /// Issuer URL, exactly as the provider names itself.
    pub issuer: String,
    /// Nabo's client id.
    pub client_id: String,
    /// Nabo's client secret.
    pub client_secret: String,
    /// Scopes besides `openid`.
    pub scopes: Vec<String>,
    /// The claim with the user's groups.
    pub groups_claim: String,
    /// Group → role. Empty: roles are managed in Nabo and only linked logins sign in.
    pub groups: BTreeMap<String, AppRole>,
    /// Shown on the button.
    pub label: String,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl Provider {
    /// The role the user's groups give: the most trusted one that matches (central, then
    /// outreach, then board), or none.
    pub fn role_for(&self, groups: &[String]) -> Option<AppRole> {
        let roles: Vec<AppRole> = groups
            .iter()
            .filter_map(|g| self.groups.get(g).copied())
            .collect();
        [AppRole::Central, AppRole::Outreach, AppRole::Board]
            .into_iter()
            .find(|r| roles.contains(r))
    }
}

/// Why a sign-in through the provider failed. The Danish text is for the page; the details
/// go to the log (no personal data in them).
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The issuer or an endpoint is not https (or http on loopback), or not a URL.
    #[error("refused address: {0}")]
    Address(String),
    /// The provider could not be reached or answered wrongly.
    #[error("provider unreachable or malformed answer: {0}")]
    Provider(String),
    /// The discovery document names another issuer.
    #[error("discovery document names another issuer")]
    WrongIssuer,
    /// The code exchange failed.
    #[error("code exchange failed: {0}")]
    Exchange(String),
    /// The answer had no ID token.
    #[error("no ID token")]
    NoIdToken,
    /// The ID token was refused.
    #[error("ID token refused: {0}")]
    IdToken(String),
}

impl OidcError {
    /// A short stable code (tests, metrics).
    pub fn code(&self) -> &'static str {
        match self {
            OidcError::Address(_) => "address",
            OidcError::Provider(_) => "provider",
            OidcError::WrongIssuer => "wrong-issuer",
            OidcError::Exchange(_) => "exchange",
            OidcError::NoIdToken => "no-id-token",
            OidcError::IdToken(r) if r.starts_with("issuer") => "id-token-issuer",
            OidcError::IdToken(r) if r.starts_with("audience") => "id-token-audience",
            OidcError::IdToken(r) if r.starts_with("expired") => "id-token-expired",
            OidcError::IdToken(_) => "id-token",
        }
    }
}

/// What the provider says about the user, after every check.
#[derive(Debug, Clone)]
pub struct Identity {
    /// `sub`.
    pub subject: String,
    /// The issuer.
    pub issuer: String,
    /// A name to show (`name`, else `preferred_username`).
    pub name: Option<String>,
    /// A verified e-mail (only when `email_verified` is true).
    pub email: Option<String>,
    /// The groups claim.
    pub groups: Vec<String>,
}

impl Identity {
    /// The key the identity is stored under: SHA-256 of issuer and subject (the subject is
    /// the provider's, and not kept in the clear).
    pub fn key(&self) -> String {
        crate::auth::hash_secret(&format!("{}\0{}", self.issuer, self.subject))
    }
}

/// An authorization request to send the browser to.
#[derive(Debug)]
pub struct Begun {
    /// The provider's authorization URL with every parameter.
    pub url: String,
    /// `state`.
    pub state: String,
    /// `nonce`.
    pub nonce: String,
    /// The PKCE verifier.
    pub pkce_verifier: String,
}

type Https = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

/// The relay's OpenID Connect client: its HTTP client and the discovery cache.
pub struct Oidc {
    http: hyper_util::client::legacy::Client<Https, Full<Bytes>>,
    cache: Mutex<HashMap<String, (Instant, CoreProviderMetadata)>>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Oidc { .. }")
    }
}

impl Default for Oidc {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether `url` may be fetched: https, or http to a loopback address.
pub fn allowed_url(url: &str) -> Result<(), OidcError> {
    let u: axum::http::Uri = url
        .parse()
        .map_err(|_| OidcError::Address(url.chars().take(200).collect()))?;
    let host = u.host().unwrap_or_default().trim_matches(['[', ']']);
    match u.scheme_str() {
        Some("https") if !host.is_empty() => Ok(()),
        Some("http")
            if host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()) =>
        {
            Ok(())
        }
        _ => Err(OidcError::Address(url.chars().take(200).collect())),
    }
}

impl Oidc {
    /// A client trusting the Mozilla root store.
    pub fn new() -> Self {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
        .unwrap_or_else(|_| {
            // The ring provider supports the default protocol versions; this is not reached.
            rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map(|b| {
                b.with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth()
            })
            .unwrap_or_else(|_| unreachable!("TLS 1.3 is supported by ring"))
        });
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        let http =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(https);
        Oidc {
            http,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// One HTTP request to a provider, under the rules above.
    async fn call(
        &self,
        req: openidconnect::HttpRequest,
    ) -> Result<openidconnect::HttpResponse, HttpError> {
        allowed_url(&req.uri().to_string()).map_err(|e| HttpError(e.to_string()))?;
        let (parts, body) = req.into_parts();
        let req = axum::http::Request::from_parts(parts, Full::new(Bytes::from(body)));
        let answer = tokio::time::timeout(TIMEOUT, async {
            let resp = self
                .http
                .request(req)
                .await
                .map_err(|e| HttpError(format!("request failed: {e}")))?;
            let (parts, body) = resp.into_parts();
            let bytes = Limited::new(body, MAX_BODY)
                .collect()
                .await
                .map_err(|e| HttpError(format!("reading the answer: {e}")))?
                .to_bytes();
            Ok::<_, HttpError>(axum::http::Response::from_parts(parts, bytes.to_vec()))
        })
        .await
        .map_err(|_| HttpError("the provider did not answer in time".into()))??;
        Ok(answer)
    }

    async fn metadata(&self, issuer: &str) -> Result<CoreProviderMetadata, OidcError> {
        if let Ok(cache) = self.cache.lock()
            && let Some((at, m)) = cache.get(issuer)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(m.clone());
        }
        allowed_url(issuer)?;
        let url =
            IssuerUrl::new(issuer.to_owned()).map_err(|_| OidcError::Address(issuer.to_owned()))?;
        let m = CoreProviderMetadata::discover_async(url, &Http(self))
            .await
            .map_err(|e| match e {
                openidconnect::DiscoveryError::Validation(v) if v.contains("issuer") => {
                    OidcError::WrongIssuer
                }
                other => OidcError::Provider(other.to_string()),
            })?;
        for endpoint in [
            Some(m.authorization_endpoint().url().as_str()),
            m.token_endpoint().map(|t| t.url().as_str()),
        ]
        .into_iter()
        .flatten()
        {
            allowed_url(endpoint)?;
        }
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(issuer.to_owned(), (Instant::now(), m.clone()));
        }
        Ok(m)
    }

    /// Forgets a provider's cached discovery document and keys (after its configuration
    /// changed).
    pub fn forget(&self, issuer: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(issuer);
        }
    }

    async fn client(&self, p: &Provider, redirect: &str) -> Result<Client, OidcError> {
        let m = self.metadata(&p.issuer).await?;
        let redirect = RedirectUrl::new(redirect.to_owned())
            .map_err(|_| OidcError::Address(redirect.to_owned()))?;
        Ok(Client::from_provider_metadata(
            m,
            ClientId::new(p.client_id.clone()),
            Some(ClientSecret::new(p.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }

    /// Starts a sign-in: the URL to send the browser to, with a fresh state, nonce and PKCE
    /// challenge (S256).
    pub async fn begin(&self, p: &Provider, redirect: &str) -> Result<Begun, OidcError> {
        let client = self.client(p, redirect).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut req = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for s in &p.scopes {
            req = req.add_scope(Scope::new(s.clone()));
        }
        let (url, state, nonce) = req.set_pkce_challenge(challenge).url();
        Ok(Begun {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Finishes a sign-in: exchanges the code (with the PKCE verifier) and checks the ID
    /// token (signature, issuer, audience, expiry, age, nonce).
    pub async fn finish(
        &self,
        p: &Provider,
        redirect: &str,
        code: &str,
        nonce: &str,
        pkce_verifier: &str,
    ) -> Result<Identity, OidcError> {
        let client = self.client(p, redirect).await?;
        let http = Http(self);
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Provider(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&http)
            .await
            .map_err(|e| OidcError::Exchange(e.to_string()))?;
        let id_token = tokens.id_token().ok_or(OidcError::NoIdToken)?;
        let verifier = client
            .id_token_verifier()
            .set_issue_time_verifier_fn(|iat| {
                let now = chrono::Utc::now().timestamp();
                let iat = iat.timestamp();
                if iat > now + SKEW_SECS {
                    Err("issued in the future".into())
                } else if iat < now - MAX_ID_TOKEN_AGE_SECS {
                    Err("issued too long ago".into())
                } else {
                    Ok(())
                }
            });
        let claims = id_token
            .claims(&verifier, &Nonce::new(nonce.to_owned()))
            .map_err(|e| {
                use openidconnect::ClaimsVerificationError as C;
                OidcError::IdToken(match e {
                    C::InvalidIssuer(_) => "issuer".into(),
                    C::InvalidAudience(_) => "audience".into(),
                    C::Expired(_) => "expired".into(),
                    C::InvalidNonce(_) => "nonce".into(),
                    C::SignatureVerification(s) => format!("signature: {s}"),
                    other => other.to_string(),
                })
            })?;
        let groups = match claims.additional_claims().0.get(&p.groups_claim) {
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(|g| g.as_str().map(str::to_owned))
                .collect(),
            Some(serde_json::Value::String(g)) => vec![g.clone()],
            _ => Vec::new(),
        };
        let name = claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned())
            .or_else(|| claims.preferred_username().map(|u| u.as_str().to_owned()));
        let email = claims
            .email()
            .filter(|_| claims.email_verified() == Some(true))
            .map(|e| e.as_str().to_owned());
        Ok(Identity {
            subject: claims.subject().as_str().to_owned(),
            issuer: claims.issuer().as_str().to_owned(),
            name,
            email,
            groups,
        })
    }
}

/// The HTTP client as `openidconnect` calls it (a named type: its futures are `Send`).
struct Http<'a>(&'a Oidc);

impl<'c> openidconnect::AsyncHttpClient<'c> for Http<'_> {
    type Error = HttpError;
    type Future = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<openidconnect::HttpResponse, HttpError>>
                + Send
                + 'c,
        >,
    >;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(self.0.call(request))
    }
}

/// A failed request to a provider.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http() {
        assert!(allowed_url("https://login.example.dk/realms/x").is_ok());
        assert!(allowed_url("http://127.0.0.1:4000").is_ok());
        assert!(allowed_url("http://[::1]:4000/x").is_ok());
        assert!(allowed_url("http://localhost:4000").is_ok());
        assert!(allowed_url("http://login.example.dk").is_err());
        assert!(allowed_url("http://10.0.0.1").is_err());
        assert!(allowed_url("ftp://login.example.dk").is_err());
    }

    #[test]
    fn the_most_trusted_matching_group_gives_the_role() {
        let p = Provider {
            issuer: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            scopes: vec![],
            groups_claim: "groups".into(),
            groups: [
                ("nabo-central".to_owned(), AppRole::Central),
                ("nabo-outreach".to_owned(), AppRole::Outreach),
            ]
            .into_iter()
            .collect(),
            label: String::new(),
        };
        assert_eq!(
            p.role_for(&["alle".into(), "nabo-outreach".into(), "nabo-central".into()]),
            Some(AppRole::Central)
        );
        assert_eq!(p.role_for(&["alle".into()]), None);
    }
}
