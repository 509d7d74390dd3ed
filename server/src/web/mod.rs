//! The central staff's review pages: server-rendered HTML in Danish (maud templates), no
//! JavaScript build chain. Central staff see the merged records, review and resolve them,
//! manage the tenant and produce reports; board members see the board view only, with small
//! numbers suppressed. See `docs/adr/0012-review-pages.md`.
//!
//! Sign-in uses the relay's own tokens: the access and refresh tokens live in `HttpOnly`,
//! `SameSite=Strict` cookies — `Secure` and named `__Host-…` when the site is served over
//! https (`--public-url https://…`, or a trusted proxy's `X-Forwarded-Proto`), plain on a
//! local http demo. An expired access token is renewed from the refresh token on the next
//! page (two pages loading at once get the same new pair, ADR 0014). Every form posts to the
//! same origin (checked), and every edit becomes a change in the document, stored before the
//! page answers and offered to connected phones.

mod account;
mod admin;
mod boards;
pub mod cache;
mod concern;
mod consent;
pub(crate) mod data;
mod erasure;
pub mod fmt;
mod insight;
mod manage;
mod merges;
mod networks;
mod observations;
mod overview;
pub mod people;
pub mod phone;
mod privacy;
pub(crate) mod records;
mod reports;
mod resident;
mod roster;
mod sessions;
pub mod stats;
pub mod table;
mod theories;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Form, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, html};
use nabo_core::model::AppRole;
use serde::Deserialize;

use crate::acl::Principal;
use crate::api::AppState;
use crate::auth::{AuthError, Tokens};
use crate::http::ClientAddr;
use crate::storage::StorageError;

const ACCESS_COOKIE: &str = "nabo_adgang";
const REFRESH_COOKIE: &str = "nabo_forny";

/// The review pages' routes (merged into the relay's router).
pub fn router(state: AppState) -> Router {
    let signed_in = Router::new()
        .route("/", get(|| async { Redirect::to("/oversigt") }))
        .route("/oversigt", get(overview::show))
        .route("/aktiviteter", get(records::activities))
        .route("/aktiviteter/{id}", get(records::activity))
        .route("/registre/{doc}/moeder/{session}", get(records::session))
        .route("/opsoegende/{doc}", get(records::outreach_log))
        .route(resident::PATH, get(resident::show))
        .route("/gennemgang", get(records::queue).post(records::review))
        .route("/dubletter/deltagere", post(records::merge_participants))
        .route("/dubletter/moeder", post(records::resolve_sessions))
        .route("/konflikter/fremmoede", post(records::resolve_mark))
        .route("/administration", get(admin::page_route))
        .route("/administration/invitation", post(admin::invite))
        .route("/administration/enheder/spaer", post(admin::revoke_device))
        .route("/administration/omraader", post(admin::put_area))
        .route("/administration/smaa-tal", post(admin::set_threshold))
        .route("/administration/noter", post(admin::set_notes))
        .route("/administration/programmer", post(admin::create_programme))
        .route("/administration/aktiviteter", post(admin::create_activity))
        .route(
            "/administration/aktivitetstyper",
            post(admin::add_local_type),
        )
        .route(
            "/administration/forandringsteori",
            post(admin::change_theory),
        )
        .route("/rapporter", get(reports::index))
        .route(
            "/rapporter/maalopfyldelse",
            get(reports::goals).post(reports::write_report),
        )
        .route("/rapporter/maaling", post(reports::record_measurement))
        .route("/administration/roller", post(admin::assign_role))
        .route("/administration/placering", post(admin::move_placement))
        .route(
            "/administration/boerneattest",
            post(admin::record_certificate),
        )
        .route("/administration/boerneattester", get(admin::renewals))
        .route("/administration/tilknytning", post(admin::engage))
        .route("/administration/kursus", post(admin::add_training))
        .route("/rapporter/maalgrupper", get(reports::target_groups))
        .route("/rapporter/bestyrelse", get(reports::board))
        .route("/rapporter/bestyrelse/udskrift", get(reports::board_pack))
        .route("/log-ud", post(logout))
        // Answered by the session layer for volunteers and outreach workers; staff go home.
        .route(phone::PATH, get(|| async { Redirect::to("/") }))
        .merge(people::routes())
        .merge(erasure::routes())
        .merge(consent::routes())
        .merge(concern::routes())
        .merge(networks::routes())
        .merge(observations::routes())
        .merge(roster::routes())
        .merge(insight::routes())
        .merge(manage::routes())
        .merge(merges::routes())
        .merge(theories::routes())
        .merge(sessions::routes())
        .merge(boards::routes())
        .layer(from_fn_with_state(state.clone(), session));
    Router::new()
        .route("/log-ind", get(login_form).post(login))
        .merge(account::routes())
        .route("/nabo.css", get(css))
        .route(privacy::PATH, get(privacy::show))
        .merge(signed_in)
        .with_state(state)
}

/// Who is looking: set by the session layer for every signed-in page.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The caller.
    pub principal: Principal,
    /// Shown name.
    pub name: String,
    /// The relay's clock.
    pub clock: nabo_core::time::Clock,
}

impl Viewer {
    fn is_central(&self) -> bool {
        self.principal.role == AppRole::Central
    }

    /// Central staff only: anyone else gets 403.
    pub fn require_central(&self) -> Result<(), WebError> {
        if self.is_central() {
            Ok(())
        } else {
            Err(WebError::Forbidden)
        }
    }

    /// The author of an edit made on the pages: the staff member, now.
    pub fn author(&self) -> nabo_core::document::Author {
        nabo_core::document::Author::now(self.principal.by(), &self.clock)
    }
}

/// A date (`YYYY-MM-DD`) from a form or a query, or the Danish error naming the field by
/// `label` (`«Fra» skal være en dato`).
pub fn date_value(value: Option<&str>, label: &str) -> Result<nabo_core::time::Date, WebError> {
    value
        .and_then(nabo_core::time::Date::parse)
        .ok_or_else(|| WebError::BadRequest(format!("«{label}» skal være en dato (åååå-mm-dd).")))
}

/// [`date_value`] for a field that may be left empty: `None` when it is.
pub fn optional_date(
    value: Option<&str>,
    label: &str,
) -> Result<Option<nabo_core::time::Date>, WebError> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| date_value(Some(v), label))
        .transpose()
}

/// A posted form's fields in order, repeated names kept (checkbox groups).
#[derive(Debug)]
pub struct FormFields(Vec<(String, String)>);

impl FormFields {
    /// Parses an `application/x-www-form-urlencoded` body.
    pub fn parse(body: &str) -> Self {
        FormFields(
            form_urlencoded::parse(body.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// The first value of a field, trimmed.
    pub fn one(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
    }

    /// A date field (`YYYY-MM-DD`); `label` names it in the Danish error.
    pub fn date(&self, name: &str, label: &str) -> Result<nabo_core::time::Date, WebError> {
        date_value(self.one(name), label)
    }

    /// A time-of-day field (`tt:mm`); `label` names it in the Danish error.
    pub fn time(&self, name: &str, label: &str) -> Result<nabo_core::time::Time, WebError> {
        self.one(name)
            .and_then(nabo_core::time::Time::parse)
            .ok_or_else(|| {
                WebError::BadRequest(format!("«{label}» skal være et klokkeslæt (tt:mm)."))
            })
    }

    /// Every value of a repeated field (checkboxes).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What a page can answer instead of itself: a Danish error page with the right status.
#[derive(Debug)]
pub enum WebError {
    /// 400, with a Danish explanation (no personal data).
    BadRequest(String),
    /// 403.
    Forbidden,
    /// 404.
    NotFound,
    /// 409: the record changed meanwhile or the edit is refused by the document's rules.
    Conflict(String),
    /// 503: storage failed; nothing was changed.
    Unavailable,
    /// 500, logged without personal data.
    Internal,
}

impl From<StorageError> for WebError {
    fn from(e: StorageError) -> Self {
        tracing::error!(error = %e, "storage error on a review page");
        WebError::Unavailable
    }
}

impl From<AuthError> for WebError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Storage(s) => s.into(),
            _ => WebError::Forbidden,
        }
    }
}

impl From<nabo_core::Error> for WebError {
    fn from(e: nabo_core::Error) -> Self {
        match e {
            nabo_core::Error::Invalid(i) => WebError::BadRequest(format!(
                "Feltet «{}» blev afvist: {}.",
                fmt::field_da(i.field),
                fmt::reason_da(i.reason)
            )),
            other => {
                tracing::error!(error = %other, "document error on a review page");
                WebError::Internal
            }
        }
    }
}

impl From<crate::relay::EditError> for WebError {
    fn from(e: crate::relay::EditError) -> Self {
        use crate::relay::EditError;
        match e {
            EditError::Domain(d) => d.into(),
            EditError::Refused(r) => {
                tracing::warn!(record = %r.record, reason = %r.reason, "edit from a review page refused by the rules");
                WebError::Conflict(format!(
                    "Ændringen blev afvist ({}): {}.",
                    r.record,
                    fmt::reason_da(r.reason)
                ))
            }
            EditError::Storage(s) => s.into(),
            EditError::Unstored(crate::relay::doc::MergeError::Invalid(r)) => {
                tracing::error!(reason = %r, "edit from a review page refused");
                WebError::Internal
            }
            EditError::Unstored(_) => WebError::Unavailable,
            EditError::Damaged => WebError::Internal,
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, title, text) = match self {
            WebError::BadRequest(t) => (StatusCode::BAD_REQUEST, "Ugyldigt input", t),
            WebError::Forbidden => (
                StatusCode::FORBIDDEN,
                "Ingen adgang",
                "Din rolle giver ikke adgang til denne side.".into(),
            ),
            WebError::NotFound => (
                StatusCode::NOT_FOUND,
                "Ikke fundet",
                "Siden eller posten findes ikke, eller du har ikke adgang til den.".into(),
            ),
            WebError::Conflict(t) => (StatusCode::CONFLICT, "Ikke gemt", t),
            WebError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Databasen svarer ikke",
                "Intet er ændret. Prøv igen om lidt.".into(),
            ),
            WebError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Der skete en fejl",
                "Fejlen er logget. Intet er ændret.".into(),
            ),
        };
        let body = bare(
            title,
            html! {
                main id="indhold" class="fejl" {
                    h1 { (title) }
                    p { (text) }
                    p { a href="/" { "Til forsiden" } }
                }
            },
        );
        (status, body).into_response()
    }
}

/// Result of a page.
pub type WebResult<T = Response> = Result<T, WebError>;

// Sessions ------------------------------------------------------------------------------------

/// How the session cookies are made: over https they are `Secure` and carry the `__Host-`
/// prefix (only this exact host, path `/`, never set over http by someone else); a local
/// http demo keeps plain names, or the browser would drop them.
#[derive(Debug, Clone, Copy)]
struct CookieMode {
    secure: bool,
}

impl CookieMode {
    fn of(s: &AppState, peer: Option<std::net::IpAddr>, headers: &HeaderMap) -> Self {
        CookieMode {
            secure: s.site.is_https(peer, headers),
        }
    }

    fn name(self, base: &str) -> String {
        if self.secure {
            format!("__Host-{base}")
        } else {
            base.to_owned()
        }
    }

    fn value(self, headers: &HeaderMap, base: &str) -> Option<String> {
        let name = self.name(base);
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(cookie::Cookie::split_parse_encoded)
            .filter_map(Result::ok)
            .find(|c| c.name() == name)
            .map(|c| c.value().to_owned())
    }

    /// A session cookie (gone when the browser closes: office computers are shared), or
    /// with `max_age` to clear one.
    fn set(self, base: &str, value: &str, max_age_secs: Option<i64>) -> HeaderValue {
        let mut c = cookie::Cookie::build((self.name(base), value.to_owned()))
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(cookie::SameSite::Strict)
            .build();
        if let Some(secs) = max_age_secs {
            c.set_max_age(cookie::time::Duration::seconds(secs));
        }
        HeaderValue::from_str(&c.encoded().to_string()).unwrap_or(HeaderValue::from_static(""))
    }

    fn session(self, t: &Tokens) -> [HeaderValue; 2] {
        [
            self.set(ACCESS_COOKIE, &t.access_token, None),
            self.set(REFRESH_COOKIE, &t.refresh_token, None),
        ]
    }
}

fn peer_of(req_ext: &axum::http::Extensions) -> Option<std::net::IpAddr> {
    req_ext
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip())
}

/// Forms are accepted only from this site's own pages: with `SameSite=Strict` cookies a
/// cross-site form carries no session anyway, and a foreign `Origin` is refused outright.
/// With a public URL the origin must be exactly it; otherwise its host must be the `Host`.
fn same_origin(s: &AppState, headers: &HeaderMap) -> bool {
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if let Some(u) = &s.site.public_url {
        return origin.eq_ignore_ascii_case(u.origin());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host))
}

/// Pages a board member may open.
fn board_may_open(path: &str) -> bool {
    matches!(
        path,
        "/rapporter/bestyrelse" | "/rapporter/bestyrelse/udskrift" | "/log-ud" | "/"
    )
}

async fn session(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    if req.method() != Method::GET
        && req.method() != Method::HEAD
        && !same_origin(&s, req.headers())
    {
        return WebError::Forbidden.into_response();
    }
    let headers = req.headers().clone();
    let mode = CookieMode::of(&s, peer_of(req.extensions()), &headers);
    let mut renewed: Option<Tokens> = None;
    let mut principal = None;
    if let Some(t) = mode.value(&headers, ACCESS_COOKIE) {
        match s.auth.principal(&t).await {
            Ok(v) => principal = Some(v.principal),
            Err(AuthError::Storage(e)) => return WebError::from(e).into_response(),
            Err(_) => {}
        }
    }
    if principal.is_none()
        && let Some(r) = mode.value(&headers, REFRESH_COOKIE)
    {
        match s.auth.refresh(&r, None).await {
            Ok(tokens) => match s.auth.principal(&tokens.access_token).await {
                Ok(v) => {
                    principal = Some(v.principal);
                    renewed = Some(tokens);
                }
                Err(AuthError::Storage(e)) => return WebError::from(e).into_response(),
                Err(_) => {}
            },
            Err(AuthError::Storage(e)) => return WebError::from(e).into_response(),
            Err(_) => {}
        }
    }
    let Some(principal) = principal else {
        let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
        let next_page = if req.method() == Method::GET {
            path
        } else {
            "/"
        };
        return Redirect::to(&format!("/log-ind?naeste={}", fmt::url_encode(next_page)))
            .into_response();
    };
    let path = req.uri().path().to_owned();
    let name = match s.storage.user(&principal.user_id).await {
        Ok(u) => u.map(|u| u.display_name).unwrap_or_default(),
        Err(e) => return WebError::from(e).into_response(),
    };
    match principal.role {
        AppRole::Central => {}
        AppRole::Board if board_may_open(&path) => {
            if path == "/" {
                return Redirect::to("/rapporter/bestyrelse").into_response();
            }
        }
        AppRole::Volunteer | AppRole::Outreach if path != "/log-ud" => {
            // Their work is in the app: the front page leads to the page saying so, and
            // any staff page answers with it (refused, but with the way forward).
            if path == "/" {
                return Redirect::to(phone::PATH).into_response();
            }
            let status = if path == phone::PATH && req.method() == Method::GET {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            let relay = s.site.origin_for(peer_of(req.extensions()), &headers);
            let mut resp = phone::page(principal.role, &name, &relay, status);
            if let Some(t) = renewed {
                for c in mode.session(&t) {
                    resp.headers_mut().append(header::SET_COOKIE, c);
                }
            }
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return resp;
        }
        AppRole::Volunteer | AppRole::Outreach => {}
        _ => return WebError::Forbidden.into_response(),
    }
    req.extensions_mut().insert(Viewer {
        principal,
        name,
        clock: s.clock.clone(),
    });
    let mut resp = next.run(req).await;
    if let Some(t) = renewed {
        for c in mode.session(&t) {
            resp.headers_mut().append(header::SET_COOKIE, c);
        }
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[derive(Deserialize)]
struct NextQuery {
    naeste: Option<String>,
    fejl: Option<String>,
    /// What just happened (a password chosen).
    besked: Option<String>,
    /// The tenant whose identity provider to offer.
    lejer: Option<String>,
}

/// Where to go after signing in: only a path on this site. One leading `/` not followed by
/// `/` or `\` (browsers read `\` as `/`, so `/\host` is `//host`), printable ASCII only
/// (browsers drop tabs and newlines, so `/<tab>/host` is `//host` too; CR/LF would break the
/// header). Anything else goes to the front page.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.chars().all(|c| c.is_ascii_graphic() && c != '\\')
                && n.parse::<axum::http::uri::PathAndQuery>().is_ok() =>
        {
            n.into()
        }
        _ => "/".into(),
    }
}

async fn login_form(State(s): State<AppState>, Query(q): Query<NextQuery>) -> Response {
    let next = safe_next(q.naeste.as_deref());
    let error = match q.fejl.as_deref() {
        Some("forkert") => Some("Forkert brugernavn eller adgangskode."),
        Some("laast") => Some("For mange forsøg. Vent et øjeblik, og prøv igen."),
        Some("spaerret") => Some("Brugeren er spærret."),
        _ => None,
    };
    let notice = match q.besked.as_deref() {
        Some("aktiveret") => Some(
            "Din adgangskode er gemt, og din bruger er aktiveret. Log ind med dit brugernavn og din nye adgangskode.",
        ),
        Some("ny-adgangskode") => {
            Some("Din nye adgangskode er gemt. Du er logget ud alle andre steder.")
        }
        _ => None,
    };
    // The tenant's identity provider, when the link names the tenant (`?lejer=…`).
    let tenant = q.lejer.as_deref().and_then(|t| t.parse().ok());
    let oidc = match &tenant {
        Some(t) => match crate::admin::provider(s.storage.as_ref(), &s.vault, t).await {
            Ok(p) => p.map(|p| (t.clone(), p.label)),
            Err(e) => return WebError::from(e).into_response(),
        },
        None => None,
    };
    bare(
        "Log ind",
        html! {
            main id="indhold" class="log-ind" {
                h1 { "Nabo" }
                p class="undertitel" { "Boligsocialt arbejde – gennemgang og rapporter" }
                @if let Some(n) = notice { p class="besked" role="status" { (n) } }
                @if let Some(e) = error { p class="fejlbesked" role="alert" { (e) } }
                @if let Some((t, label)) = &oidc {
                    p { a class="knap" id="oidc" href={"/oidc/" (t) "/start?naeste=" (fmt::url_encode(&next))} { "Log ind med " (label) } }
                    p class="undertitel" { "Eller med brugernavn og adgangskode:" }
                }
                form method="post" action="/log-ind" {
                    input type="hidden" name="naeste" value=(next);
                    label for="brugernavn" { "Brugernavn" }
                    input id="brugernavn" name="brugernavn" autocomplete="username" required autofocus;
                    label for="adgangskode" { "Adgangskode" }
                    input id="adgangskode" name="adgangskode" type="password" autocomplete="current-password" required;
                    button type="submit" { "Log ind" }
                }
                p class="undertitel" { a href=(privacy::PATH) { "Om databeskyttelse" } }
            }
        },
    )
    .into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    brugernavn: String,
    adgangskode: String,
    naeste: Option<String>,
}

async fn login(
    State(s): State<AppState>,
    ClientAddr(client): ClientAddr,
    req_parts: RequestInfo,
    Form(f): Form<LoginForm>,
) -> Response {
    let RequestInfo { headers, peer } = req_parts;
    if !same_origin(&s, &headers) {
        return WebError::Forbidden.into_response();
    }
    let next = safe_next(f.naeste.as_deref());
    match s.auth.login(&f.brugernavn, &f.adgangskode, &client).await {
        Ok(tokens) => {
            let mut resp = Redirect::to(&next).into_response();
            for c in CookieMode::of(&s, peer, &headers).session(&tokens) {
                resp.headers_mut().append(header::SET_COOKIE, c);
            }
            resp
        }
        Err(e) => {
            let code = match e {
                AuthError::Storage(e) => return WebError::from(e).into_response(),
                AuthError::RateLimited => "laast",
                AuthError::Revoked => "spaerret",
                _ => "forkert",
            };
            Redirect::to(&format!(
                "/log-ind?fejl={code}&naeste={}",
                fmt::url_encode(&next)
            ))
            .into_response()
        }
    }
}

/// The headers and the peer of a request (for the cookie mode, the origin check, the
/// site's address).
#[derive(Debug)]
pub struct RequestInfo {
    /// The request's headers.
    pub headers: HeaderMap,
    /// The peer's address, if the request came over a socket.
    pub peer: Option<std::net::IpAddr>,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for RequestInfo {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(RequestInfo {
            headers: parts.headers.clone(),
            peer: peer_of(&parts.extensions),
        })
    }
}

async fn logout(State(s): State<AppState>, req_parts: RequestInfo) -> Response {
    let RequestInfo { headers, peer } = req_parts;
    let mode = CookieMode::of(&s, peer, &headers);
    if let Some(r) = mode.value(&headers, REFRESH_COOKIE)
        && let Err(AuthError::Storage(e)) = s.auth.logout(&r).await
    {
        return WebError::from(e).into_response();
    }
    let mut resp = Redirect::to("/log-ind").into_response();
    for name in [ACCESS_COOKIE, REFRESH_COOKIE] {
        resp.headers_mut()
            .append(header::SET_COOKIE, mode.set(name, "", Some(0)));
    }
    resp
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("nabo.css"),
    )
        .into_response()
}

// Layout ---------------------------------------------------------------------------------------

/// Which part of the site a page belongs to (highlighted in the navigation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Records,
    Review,
    Admin,
    People,
    Reports,
    Cooperation,
}

fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="da" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Nabo" }
                link rel="stylesheet" href="/nabo.css";
            }
            body {
                a class="spring" href="#indhold" { "Spring til indhold" }
                (body)
            }
        }
    }
}

/// A signed-in page with the navigation.
pub fn page(viewer: &Viewer, nav: Nav, title: &str, body: Markup) -> Response {
    let items: &[(Nav, &str, &str)] = if viewer.is_central() {
        &[
            (Nav::Overview, "/oversigt", "Oversigt"),
            (Nav::Records, "/aktiviteter", "Aktiviteter"),
            (Nav::Review, "/gennemgang", "Gennemgang"),
            (Nav::Admin, "/administration", "Administration"),
            (Nav::People, "/personer", "Personer"),
            (Nav::Cooperation, "/netvaerk", "Samarbejde"),
            (Nav::Reports, "/rapporter", "Rapporter"),
        ]
    } else {
        &[(Nav::Reports, "/rapporter/bestyrelse", "Bestyrelsen")]
    };
    bare(
        title,
        html! {
            header class="top" {
                a class="logo" href="/" { "Nabo" }
                nav aria-label="Hovedmenu" {
                    ul {
                        @for (n, href, label) in items {
                            li { a href=(href) aria-current=[(*n == nav).then_some("page")] { (label) } }
                        }
                    }
                }
                form method="post" action="/log-ud" class="log-ud" {
                    span class="bruger" { (viewer.name) }
                    button type="submit" { "Log ud" }
                }
            }
            main id="indhold" {
                h1 { (title) }
                (body)
            }
            footer class="bund" { a href=(privacy::PATH) { "Om databeskyttelse" } }
        },
    )
    .into_response()
}

/// A page that accepted a form: back to where it came from (303, so reload does not repost).
pub fn back_to(path: &str) -> Response {
    Redirect::to(&safe_next(Some(path))).into_response()
}

/// Answers a table export (`?eksport=csv|xlsx&tabel=<slug>`) if one is asked for.
pub fn export(
    q: &table::ExportQuery,
    tables: &[&table::Table],
    file_stem: &str,
) -> Option<WebResult> {
    let format = q.eksport.as_deref()?;
    let slug = q.tabel.as_deref().unwrap_or_default();
    let Some(t) = tables.iter().find(|t| t.slug == slug) else {
        return Some(Err(WebError::NotFound));
    };
    let name = format!("{file_stem}-{}", t.slug);
    Some(match format {
        "csv" => Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.csv\""),
                ),
            ],
            Body::from(t.csv()),
        )
            .into_response()),
        "xlsx" => match t.xlsx() {
            Ok(bytes) => Ok((
                [
                    (
                        header::CONTENT_TYPE,
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                            .to_owned(),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}.xlsx\""),
                    ),
                ],
                Body::from(bytes),
            )
                .into_response()),
            Err(e) => {
                tracing::error!(error = %e, "xlsx export failed");
                Err(WebError::Internal)
            }
        },
        _ => Err(WebError::BadRequest(
            "Eksport findes som csv eller xlsx.".into(),
        )),
    })
}
