//! Pages for signing in other than with a password (ADR 0017), open without a session:
//! activating a new login from its one-time link, choosing a new password from a reset link,
//! and signing in with the organisation's identity provider (OpenID Connect).
//!
//! The OIDC sign-in starts at `/oidc/{tenant}/start` (the button on `/log-ind?lejer=…` and on
//! the activation page) and comes back to `/oidc/callback`. The request's `state` is stored
//! hashed and taken once; a cookie (`SameSite=Lax`, so it comes back with the provider's
//! redirect) binds it to the browser that started it. The callback answers with a page that
//! moves on by itself (`<meta http-equiv="refresh">`): a redirect straight after the
//! provider's would be part of a cross-site navigation, and browsers would not send the
//! `SameSite=Strict` session cookies with it.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{Markup, PreEscaped, html};
use nabo_core::ids::TenantId;
use nabo_core::model::{AppRole, By};
use serde::Deserialize;

use super::{CookieMode, RequestInfo, bare, fmt, safe_next, same_origin};
use crate::admin::provider;
use crate::api::AppState;
use crate::auth::{hash_secret, random_token};
use crate::people::{self, Docs, LinkProblem, People, PeopleError, Refusal};
use crate::storage::{LinkPurpose, OidcRequestRow, UserRow, now_ms};

const BINDING_COOKIE: &str = "nabo_oidc";
/// An authorization request must come back within 10 minutes.
const REQUEST_TTL_MS: i64 = 10 * 60 * 1000;

/// The routes (outside the signed-in part).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/aktiver", get(activate_form).post(activate))
        .route("/ny-adgangskode", get(reset_form).post(reset))
        .route("/oidc/{tenant}/start", get(oidc_start))
        .route("/oidc/callback", get(oidc_callback))
}

fn message_page(status: StatusCode, title: &str, text: &str) -> Response {
    (
        status,
        bare(
            title,
            html! {
                main id="indhold" class="log-ind" {
                    h1 { (title) }
                    p role="alert" { (text) }
                    p { a href="/log-ind" { "Til log ind" } }
                }
            },
        ),
    )
        .into_response()
}

fn problem_page(p: LinkProblem) -> Response {
    let status = match p {
        LinkProblem::Unknown => StatusCode::NOT_FOUND,
        LinkProblem::Used | LinkProblem::Expired => StatusCode::GONE,
    };
    message_page(status, "Linket virker ikke", p.da())
}

#[derive(Deserialize)]
struct CodeQuery {
    kode: Option<String>,
}

fn password_form(
    action: &str,
    code: &str,
    user: &UserRow,
    error: Option<&Refusal>,
    oidc: Option<(&TenantId, &str)>,
    intro: Markup,
) -> Markup {
    let err = |field: &str| error.filter(|e| e.field == field);
    bare(
        "Vælg adgangskode",
        html! {
            main id="indhold" class="log-ind" {
                h1 { "Vælg adgangskode" }
                (intro)
                p { "Dit brugernavn er " strong { code { (user.username) } } "." }
                @if let Some(e) = error { p class="fejlbesked" role="alert" { "Ikke gemt: " (e.message) } }
                form method="post" action=(action) {
                    input type="hidden" name="kode" value=(code);
                    input type="hidden" name="brugernavn" value=(user.username) autocomplete="username";
                    label for="adgangskode" { "Ny adgangskode" }
                    input id="adgangskode" name="adgangskode" type="password" autocomplete="new-password" required minlength=(crate::auth::policy::MIN_CHARS) maxlength=(crate::auth::policy::MAX_CHARS) aria-invalid=[err("password").map(|_| "true")] aria-describedby="regler";
                    p id="regler" class="note" { "Mindst " (crate::auth::policy::MIN_CHARS) " tegn. Alle tegn er tilladt, også mellemrum – brug gerne en sætning eller tre-fire ord. Kendte, lækkede adgangskoder afvises." }
                    label for="gentag" { "Gentag adgangskoden" }
                    input id="gentag" name="gentag" type="password" autocomplete="new-password" required aria-invalid=[err("password_repeat").map(|_| "true")];
                    button type="submit" { "Gem adgangskode" }
                }
                @if let Some((tenant, label)) = oidc {
                    p { "Eller brug din organisations login:" }
                    p { a class="knap" href={"/oidc/" (tenant) "/start?kode=" (fmt::url_encode(code))} { "Log ind med " (label) } }
                }
            }
        },
    )
}

async fn link_form(
    s: &AppState,
    code: &str,
    purpose: LinkPurpose,
    error: Option<&Refusal>,
) -> Result<Response, super::WebError> {
    let user = match people::check_link(s.storage.as_ref(), code, purpose).await? {
        Ok(u) => u,
        Err(p) => return Ok(problem_page(p)),
    };
    let (action, intro, oidc) = match purpose {
        LinkPurpose::Activate => {
            let label = provider(s.storage.as_ref(), &s.vault, &user.tenant)
                .await?
                .map(|p| p.label);
            (
                "/aktiver",
                html! { p { "Velkommen til Nabo, " (user.display_name) "." } },
                label,
            )
        }
        LinkPurpose::Reset => (
            "/ny-adgangskode",
            html! { p { "Vælg en ny adgangskode. Du bliver logget ud alle andre steder." } },
            None,
        ),
    };
    let body = password_form(
        action,
        code,
        &user,
        error,
        oidc.as_deref().map(|l| (&user.tenant, l)),
        intro,
    );
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// `GET /aktiver?kode=…`: looking at the page does not spend the link (mail scanners open
/// links); choosing a password does.
async fn activate_form(State(s): State<AppState>, Query(q): Query<CodeQuery>) -> Response {
    let code = q.kode.unwrap_or_default();
    link_form(&s, &code, LinkPurpose::Activate, None)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// `GET /ny-adgangskode?kode=…`.
async fn reset_form(State(s): State<AppState>, Query(q): Query<CodeQuery>) -> Response {
    let code = q.kode.unwrap_or_default();
    link_form(&s, &code, LinkPurpose::Reset, None)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

#[derive(Deserialize)]
struct PasswordForm {
    kode: String,
    adgangskode: String,
    gentag: String,
}

async fn set_password(
    s: &AppState,
    info: &RequestInfo,
    f: PasswordForm,
    purpose: LinkPurpose,
) -> Response {
    if !same_origin(s, &info.headers) {
        return super::WebError::Forbidden.into_response();
    }
    match people::redeem_with_password(
        s.storage.as_ref(),
        s.auth.passwords(),
        &f.kode,
        purpose,
        &f.adgangskode,
        &f.gentag,
    )
    .await
    {
        Ok(Ok(_)) => Redirect::to(match purpose {
            LinkPurpose::Activate => "/log-ind?besked=aktiveret",
            LinkPurpose::Reset => "/log-ind?besked=ny-adgangskode",
        })
        .into_response(),
        Ok(Err(p)) => problem_page(p),
        Err(PeopleError::Refused(r)) => link_form(s, &f.kode, purpose, Some(&r))
            .await
            .unwrap_or_else(IntoResponse::into_response),
        Err(e) => super::WebError::from(e).into_response(),
    }
}

/// `POST /aktiver`.
async fn activate(
    State(s): State<AppState>,
    info: RequestInfo,
    axum::extract::Form(f): axum::extract::Form<PasswordForm>,
) -> Response {
    set_password(&s, &info, f, LinkPurpose::Activate).await
}

/// `POST /ny-adgangskode`.
async fn reset(
    State(s): State<AppState>,
    info: RequestInfo,
    axum::extract::Form(f): axum::extract::Form<PasswordForm>,
) -> Response {
    set_password(&s, &info, f, LinkPurpose::Reset).await
}

/// The binding cookie: `SameSite=Lax` so that it comes back with the provider's redirect.
fn binding_cookie(mode: CookieMode, value: &str, max_age: i64) -> HeaderValue {
    let c = cookie::Cookie::build((mode.name(BINDING_COOKIE), value.to_owned()))
        .path("/")
        .http_only(true)
        .secure(mode.secure)
        .same_site(cookie::SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(max_age))
        .build();
    HeaderValue::from_str(&c.encoded().to_string()).unwrap_or(HeaderValue::from_static(""))
}

fn callback_url(s: &AppState, info: &RequestInfo) -> String {
    format!(
        "{}/oidc/callback",
        s.site.origin_for(info.peer, &info.headers)
    )
}

#[derive(Deserialize)]
struct StartQuery {
    naeste: Option<String>,
    kode: Option<String>,
}

/// `GET /oidc/{tenant}/start`: off to the provider.
async fn oidc_start(
    State(s): State<AppState>,
    Path(tenant): Path<String>,
    Query(q): Query<StartQuery>,
    info: RequestInfo,
) -> Response {
    match start(&s, &tenant, q, &info).await {
        Ok(r) => r,
        Err(r) => r,
    }
}

fn unavailable() -> Response {
    super::WebError::Unavailable.into_response()
}

async fn start(
    s: &AppState,
    tenant: &str,
    q: StartQuery,
    info: &RequestInfo,
) -> Result<Response, Response> {
    let not_configured = || {
        message_page(
            StatusCode::NOT_FOUND,
            "Ikke sat op",
            "Organisationens login er ikke sat op i Nabo. Log ind med brugernavn og adgangskode.",
        )
    };
    let tenant: TenantId = tenant.parse().map_err(|_| not_configured())?;
    let p = provider(s.storage.as_ref(), &s.vault, &tenant)
        .await
        .map_err(|e| super::WebError::from(e).into_response())?
        .ok_or_else(not_configured)?;
    let link_hash = match q.kode.as_deref() {
        None => None,
        Some(code) => {
            match people::check_link(s.storage.as_ref(), code, LinkPurpose::Activate)
                .await
                .map_err(|_| unavailable())?
            {
                Ok(u) if u.tenant == tenant => Some(hash_secret(code)),
                Ok(_) => return Err(problem_page(LinkProblem::Unknown)),
                Err(problem) => return Err(problem_page(problem)),
            }
        }
    };
    let begun = s
        .oidc
        .begin(&p, &callback_url(s, info))
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "the identity provider cannot be used");
            message_page(
                StatusCode::BAD_GATEWAY,
                "Organisationens login svarer ikke",
                "Nabo kan ikke nå organisationens login lige nu. Prøv igen om lidt, eller log ind med brugernavn og adgangskode.",
            )
        })?;
    let binding = random_token();
    s.storage
        .insert_oidc_request(
            &hash_secret(&begun.state),
            &OidcRequestRow {
                tenant,
                browser_hash: hash_secret(&binding),
                nonce: begun.nonce,
                pkce_verifier: begun.pkce_verifier,
                link_hash,
                next_path: safe_next(q.naeste.as_deref()),
                expires_at: now_ms() + REQUEST_TTL_MS,
            },
        )
        .await
        .map_err(|e| super::WebError::from(e).into_response())?;
    let mode = CookieMode::of(s, info.peer, &info.headers);
    let mut r = Redirect::to(&begun.url).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        binding_cookie(mode, &binding, REQUEST_TTL_MS / 1000),
    );
    Ok(r)
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /oidc/callback`.
async fn oidc_callback(
    State(s): State<AppState>,
    Query(q): Query<CallbackQuery>,
    info: RequestInfo,
) -> Response {
    let mode = CookieMode::of(&s, info.peer, &info.headers);
    let mut r = match callback(&s, q, &info, mode).await {
        Ok(r) => r,
        Err(r) => r,
    };
    r.headers_mut()
        .append(header::SET_COOKIE, binding_cookie(mode, "", 0));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn refused_sign_in(text: &str) -> Response {
    message_page(StatusCode::FORBIDDEN, "Du blev ikke logget ind", text)
}

async fn callback(
    s: &AppState,
    q: CallbackQuery,
    info: &RequestInfo,
    mode: CookieMode,
) -> Result<Response, Response> {
    let invalid = || {
        message_page(
            StatusCode::BAD_REQUEST,
            "Login-forsøget er ugyldigt",
            "Login-forsøget er ukendt, udløbet eller allerede brugt. Start forfra fra log ind-siden.",
        )
    };
    let state = q.state.as_deref().ok_or_else(invalid)?;
    // Taken once, atomically: a replayed state finds nothing.
    let req = s
        .storage
        .take_oidc_request(&hash_secret(state), now_ms())
        .await
        .map_err(|e| super::WebError::from(e).into_response())?
        .ok_or_else(|| {
            tracing::warn!("OIDC callback with an unknown, expired or used state");
            invalid()
        })?;
    let binding = mode
        .value(&info.headers, BINDING_COOKIE)
        .unwrap_or_default();
    if hash_secret(&binding) != req.browser_hash {
        tracing::warn!("OIDC callback in another browser than the one that started it");
        return Err(message_page(
            StatusCode::BAD_REQUEST,
            "Login-forsøget er ugyldigt",
            "Login blev startet i en anden browser. Start forfra fra log ind-siden.",
        ));
    }
    if q.error.is_some() {
        return Err(refused_sign_in(
            "Organisationens login afviste at logge dig ind.",
        ));
    }
    let code = q.code.as_deref().ok_or_else(invalid)?;
    let p = provider(s.storage.as_ref(), &s.vault, &req.tenant)
        .await
        .map_err(|e| super::WebError::from(e).into_response())?
        .ok_or_else(invalid)?;
    let identity = s
        .oidc
        .finish(
            &p,
            &callback_url(s, info),
            code,
            &req.nonce,
            &req.pkce_verifier,
        )
        .await
        .map_err(|e| {
            tracing::warn!(reason = e.code(), error = %e, "OIDC sign-in refused");
            s.hub
                .metrics
                .auth_failures
                .with_label_values(&["oidc"])
                .inc();
            refused_sign_in(&format!(
                "Svaret fra organisationens login kunne ikke godkendes. Prøv igen; sker det igen, så kontakt din administrator og oplys fejlkoden {}.",
                e.code()
            ))
        })?;
    let user = resolve(s, &req, &p, &identity).await?;
    let tokens = match s.auth.session_for(&user).await {
        Ok(t) => t,
        Err(crate::auth::AuthError::Revoked) => {
            return Err(refused_sign_in("Brugeren er spærret i Nabo."));
        }
        Err(e) => return Err(super::WebError::from(e).into_response()),
    };
    let next = req.next_path;
    let mut r = bare(
        "Logger ind",
        html! {
            (PreEscaped(format!(r#"<meta http-equiv="refresh" content="0;url={}">"#, maud::html!((next)).into_string())))
            main id="indhold" class="log-ind" {
                h1 { "Du er logget ind" }
                p { a id="fortsaet" href=(next) { "Fortsæt" } }
            }
        },
    )
    .into_response();
    for c in mode.session(&tokens) {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(r)
}

/// Which Nabo login an identity at the provider is.
async fn resolve(
    s: &AppState,
    req: &OidcRequestRow,
    p: &crate::oidc::Provider,
    identity: &crate::oidc::Identity,
) -> Result<UserRow, Response> {
    let store = |e: crate::storage::StorageError| super::WebError::from(e).into_response();
    let key = identity.key();
    let mut user = if let Some(link) = &req.link_hash {
        // An activation link redeemed by signing in: the identity becomes this login's.
        let row = s
            .storage
            .link(link, LinkPurpose::Activate)
            .await
            .map_err(store)?
            .ok_or_else(|| problem_page(LinkProblem::Unknown))?;
        let u = s
            .storage
            .user(&row.user_id)
            .await
            .map_err(store)?
            .filter(|u| u.tenant == req.tenant)
            .ok_or_else(|| problem_page(LinkProblem::Unknown))?;
        match s.storage.link_identity(&key, &u.id, &req.tenant).await {
            Ok(()) => {}
            Err(crate::storage::StorageError::Conflict) => {
                return Err(refused_sign_in(
                    "Din konto hos organisationens login er allerede knyttet til en anden bruger i Nabo.",
                ));
            }
            Err(e) => return Err(store(e)),
        }
        if s.storage
            .redeem_link(link, LinkPurpose::Activate, now_ms())
            .await
            .map_err(store)?
            .is_none()
        {
            return Err(problem_page(LinkProblem::Used));
        }
        u
    } else if let Some(id) = s.storage.identity_user(&key).await.map_err(store)? {
        s.storage
            .user(&id)
            .await
            .map_err(store)?
            .filter(|u| u.tenant == req.tenant)
            .ok_or_else(|| refused_sign_in("Brugeren findes ikke i denne organisation."))?
    } else if let Some(role) = p.role_for(&identity.groups) {
        // New: the groups give a role, so the login is made now.
        let ops = People {
            storage: s.storage.as_ref(),
            vault: &s.vault,
            docs: Docs::Relay(&s.hub, crate::relay::Sender::system("oidc")),
            by: By::System,
            at: s.clock.now(),
        };
        let created = people::create_staff(
            &ops,
            &req.tenant,
            people::NewStaff {
                name: identity
                    .name
                    .clone()
                    .unwrap_or_else(|| "Ny medarbejder".into()),
                role: Some(role),
                email: identity.email.clone().unwrap_or_default(),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| match e {
            PeopleError::Refused(r) => refused_sign_in(&r.message),
            other => super::WebError::from(other).into_response(),
        })?;
        s.storage
            .link_identity(&key, &created.user_id, &req.tenant)
            .await
            .map_err(store)?;
        tracing::info!(tenant = %req.tenant, "a login was made at its first sign-in through the identity provider");
        s.storage
            .user(&created.user_id)
            .await
            .map_err(store)?
            .ok_or_else(unavailable)?
    } else {
        return Err(refused_sign_in(
            "Din bruger hos organisationens login har ikke adgang til Nabo. Bed en administrator i Nabo om en invitation.",
        ));
    };
    if user.disabled {
        return Err(refused_sign_in("Brugeren er spærret i Nabo."));
    }
    // When groups decide roles, they decide them at every sign-in.
    if !p.groups.is_empty() && user.role != AppRole::Volunteer {
        match p.role_for(&identity.groups) {
            Some(role) if role != user.role => {
                s.storage.set_role(&user.id, role).await.map_err(store)?;
                s.hub.reevaluate_user(&user.id);
                user.role = role;
            }
            Some(_) => {}
            None => {
                return Err(refused_sign_in(
                    "Du er ikke længere i en gruppe hos organisationens login, der giver adgang til Nabo.",
                ));
            }
        }
    }
    Ok(user)
}
