//! The HTTP API for tenants and people (ADR 0017).
//!
//! - **The operator's admin API** (`/api/v1/admin/…`): creating tenants and configuring their
//!   identity provider, for whoever runs the installation. Authenticated with the operator's
//!   credential (`--operator-token-file` or `NABO_OPERATOR_TOKEN`), not with a user's token;
//!   without one configured the admin API does not exist (404). Failures are counted per
//!   client address like logins.
//! - **People, for central staff** (`/api/v1/users…`): create a staff login or a volunteer,
//!   re-enable, send a password-reset link. (Disabling is `POST /api/v1/users/{id}/revoke`.)
//! - **Activation** (`/api/v1/auth/activate`): a one-time link's code and a new password.
//!
//! Refusals are 400 with `field`, a stable `reason` and a Danish `message`.

use std::collections::BTreeMap;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::{StatusCode, request::Parts};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use nabo_core::ids::TenantId;
use nabo_core::model::{AppRole, By, VolunteerSource};
use serde::{Deserialize, Serialize};

use crate::api::{AppError, AppState, Caller, require_central};
use crate::http::ClientAddr;
use crate::people::{self, Docs, People, PeopleError};
use crate::storage::{LinkPurpose, OidcConfigRow, Scopes, Storage};
use crate::vault::Vault;

/// What a tenant's OIDC client secret is wrapped as (associated data).
pub const OIDC_SECRET: &str = "oidc-client-secret";

/// The operator's credential (never printed).
#[derive(Clone, PartialEq, Eq)]
pub struct OperatorToken(pub String);

impl std::fmt::Debug for OperatorToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OperatorToken(…)")
    }
}

impl From<PeopleError> for AppError {
    fn from(e: PeopleError) -> Self {
        match e {
            PeopleError::Refused(r) => AppError::Invalid {
                field: r.field.to_owned(),
                reason: r.reason,
                message: r.message,
            },
            PeopleError::NotFound => AppError::NotFound,
            PeopleError::Storage(s) => s.into(),
            PeopleError::Internal(m) => {
                tracing::error!(error = %m, "people operation failed");
                AppError::Unavailable
            }
        }
    }
}

/// The routes (merged in [`crate::app`]).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/api/v1/admin/tenants",
            get(list_tenants).post(create_tenant),
        )
        .route("/api/v1/admin/tenants/{id}/oidc", put(put_oidc))
        .route("/api/v1/users", post(create_user))
        .route("/api/v1/users/{id}/enable", post(enable_user))
        .route("/api/v1/users/{id}/password-reset", post(reset_password))
        .route("/api/v1/auth/activate", post(activate))
        .with_state(state)
}

/// The caller of the admin API: presented the operator's credential.
#[derive(Debug)]
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, AppError> {
        let Some(expected) = s.operator_token.as_deref() else {
            return Err(AppError::NotFound);
        };
        let presented = crate::api::bearer(parts).unwrap_or_default();
        let Ok(ClientAddr(client)) = ClientAddr::from_request_parts(parts, s).await;
        s.auth.operator(&presented, &expected.0, &client).await?;
        Ok(Operator)
    }
}

/// The site's address for links made by an API call.
fn origin(s: &AppState, parts: &crate::web::RequestInfo) -> String {
    s.site.origin_for(parts.peer, &parts.headers)
}

/// The operations as the running relay does them (documents through the hub).
pub fn ops(s: &AppState, by: By, sender: crate::relay::Sender) -> People<'_> {
    People {
        storage: s.storage.as_ref(),
        vault: &s.vault,
        docs: Docs::Relay(&s.hub, sender),
        by,
        at: s.clock.now(),
    }
}

#[derive(Deserialize)]
struct TenantInput {
    name: String,
    #[serde(default)]
    id: Option<String>,
    admin_email: String,
    #[serde(default)]
    admin_name: Option<String>,
    #[serde(default)]
    admin_username: Option<String>,
}

/// A created login and its activation link.
#[derive(Serialize, Debug)]
pub struct CreatedOutput {
    /// Tenant.
    pub tenant: String,
    /// The login.
    pub user_id: String,
    /// Its login name.
    pub username: String,
    /// The one-time activation link (also mailed when an outbox is configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation_url: Option<String>,
    /// When the link stops working (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Whether it was mailed.
    pub mailed: bool,
}

async fn list_tenants(
    State(s): State<AppState>,
    _: Operator,
) -> Result<Json<Vec<String>>, AppError> {
    Ok(Json(
        s.storage
            .tenants()
            .await?
            .into_iter()
            .map(|t| t.to_string())
            .collect(),
    ))
}

async fn create_tenant(
    State(s): State<AppState>,
    _: Operator,
    info: crate::web::RequestInfo,
    Json(i): Json<TenantInput>,
) -> Result<(StatusCode, Json<CreatedOutput>), AppError> {
    let p = ops(&s, By::System, crate::relay::Sender::system("operator"));
    let (tenant, created) = people::create_tenant(
        &p,
        people::NewTenant {
            id: i.id,
            name: i.name,
            admin: people::NewStaff {
                name: i.admin_name.unwrap_or_default(),
                title: "Administrator".into(),
                email: i.admin_email,
                username: i.admin_username.unwrap_or_default(),
                ..Default::default()
            },
        },
    )
    .await?;
    let out = activation(&s, &p, &created, None, &origin(&s, &info)).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedOutput {
            tenant: tenant.to_string(),
            ..out
        }),
    ))
}

/// Issues the activation link of a new login.
async fn activation(
    s: &AppState,
    p: &People<'_>,
    created: &people::Created,
    by: Option<&str>,
    origin: &str,
) -> Result<CreatedOutput, PeopleError> {
    let user = s
        .storage
        .user(&created.user_id)
        .await?
        .ok_or(PeopleError::NotFound)?;
    let link = people::issue_link(p, &s.mail, &user, LinkPurpose::Activate, by, origin).await?;
    Ok(CreatedOutput {
        tenant: user.tenant.to_string(),
        user_id: user.id,
        username: user.username,
        activation_url: Some(link.url),
        expires_at: Some(link.expires_at),
        mailed: link.mailed,
    })
}

/// A tenant's identity provider, as given by the operator.
#[derive(Deserialize, Debug, Default)]
pub struct OidcInput {
    /// Issuer URL (https; http only on loopback).
    pub issuer: String,
    /// Nabo's client id at the provider.
    pub client_id: String,
    /// Nabo's client secret at the provider.
    pub client_secret: String,
    /// Scopes besides `openid` (default `profile email`).
    #[serde(default)]
    pub scopes: Option<String>,
    /// The claim holding groups (default `groups`).
    #[serde(default)]
    pub groups_claim: Option<String>,
    /// Group → role (`central`, `outreach`, `board`).
    #[serde(default)]
    pub groups: BTreeMap<String, String>,
    /// The button's text after "Log ind med" (default "organisationens login").
    #[serde(default)]
    pub label: Option<String>,
}

fn refused(field: &'static str, reason: &'static str, message: &str) -> PeopleError {
    PeopleError::Refused(people::Refusal {
        field,
        reason,
        message: message.to_owned(),
    })
}

/// Sets a tenant's identity provider (the command line and the admin API).
pub async fn configure_oidc(
    storage: &dyn Storage,
    vault: &Vault,
    tenant: &TenantId,
    i: OidcInput,
) -> Result<(), PeopleError> {
    if !storage.tenant_exists(tenant).await? {
        return Err(PeopleError::NotFound);
    }
    let issuer = i.issuer.trim().to_owned();
    if crate::oidc::allowed_url(&issuer).is_err() || issuer.len() > 500 {
        return Err(refused(
            "issuer",
            "malformed",
            "Udsteder skal være en https-adresse (http kun til denne maskine).",
        ));
    }
    let client_id = i.client_id.trim().to_owned();
    if client_id.is_empty() || client_id.len() > 200 {
        return Err(refused("client_id", "missing", "Klient-id mangler."));
    }
    if i.client_secret.is_empty() || i.client_secret.len() > 1000 {
        return Err(refused(
            "client_secret",
            "missing",
            "Klienthemmelighed mangler.",
        ));
    }
    let mut groups = BTreeMap::new();
    for (g, r) in i.groups {
        match r.parse::<AppRole>() {
            Ok(role @ (AppRole::Central | AppRole::Outreach | AppRole::Board)) => {
                groups.insert(g, role.code().to_owned());
            }
            _ => {
                return Err(refused(
                    "groups",
                    "unknown-role",
                    "En gruppe kan give rollen central, outreach eller board.",
                ));
            }
        }
    }
    let scopes = i.scopes.unwrap_or_else(|| "profile email".into());
    if scopes.len() > 500 || !scopes.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        return Err(refused("scopes", "malformed", "Scopes er ugyldige."));
    }
    storage
        .put_oidc_config(&OidcConfigRow {
            tenant: tenant.clone(),
            issuer,
            client_id,
            secret: vault.wrap_secret(tenant, OIDC_SECRET, i.client_secret.as_bytes()),
            scopes,
            groups_claim: i.groups_claim.unwrap_or_else(|| "groups".into()),
            groups: serde_json::to_string(&groups).unwrap_or_default(),
            label: i
                .label
                .filter(|l| !l.trim().is_empty())
                .unwrap_or_else(|| "organisationens login".into()),
        })
        .await?;
    Ok(())
}

/// A tenant's provider with its secret unwrapped, if it has one.
pub async fn provider(
    storage: &dyn Storage,
    vault: &Vault,
    tenant: &TenantId,
) -> Result<Option<crate::oidc::Provider>, PeopleError> {
    let Some(c) = storage.oidc_config(tenant).await? else {
        return Ok(None);
    };
    let secret = vault.unwrap_secret(tenant, OIDC_SECRET, &c.secret)?;
    let groups: BTreeMap<String, String> = serde_json::from_str(&c.groups).unwrap_or_default();
    Ok(Some(crate::oidc::Provider {
        issuer: c.issuer,
        client_id: c.client_id,
        client_secret: String::from_utf8_lossy(&secret).into_owned(),
        scopes: c.scopes.split_whitespace().map(str::to_owned).collect(),
        groups_claim: c.groups_claim,
        groups: groups
            .into_iter()
            .filter_map(|(g, r)| r.parse().ok().map(|r| (g, r)))
            .collect(),
        label: c.label,
    }))
}

async fn put_oidc(
    State(s): State<AppState>,
    _: Operator,
    Path(id): Path<String>,
    Json(i): Json<OidcInput>,
) -> Result<StatusCode, AppError> {
    let tenant: TenantId = id.parse().map_err(|_| AppError::NotFound)?;
    let issuer = i.issuer.clone();
    configure_oidc(s.storage.as_ref(), &s.vault, &tenant, i).await?;
    s.oidc.forget(&issuer);
    Ok(StatusCode::NO_CONTENT)
}

/// The author of a change made by a signed-in staff member.
pub fn by_of(p: &crate::acl::Principal) -> By {
    p.staff_id
        .as_deref()
        .and_then(|s| s.parse().ok())
        .map_or(By::System, By::Staff)
}

#[derive(Deserialize)]
struct UserInput {
    /// `staff` or `volunteer`.
    kind: String,
    name: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    areas: Vec<String>,
    #[serde(default)]
    activities: Vec<String>,
    #[serde(default)]
    programmes: Vec<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    resident: bool,
    #[serde(default)]
    volunteer_role: Option<String>,
}

async fn create_user(
    State(s): State<AppState>,
    Caller(p): Caller,
    info: crate::web::RequestInfo,
    Json(i): Json<UserInput>,
) -> Result<(StatusCode, Json<CreatedOutput>), AppError> {
    require_central(&p)?;
    let o = ops(&s, by_of(&p), crate::relay::Sender::of(&p));
    let out = match i.kind.as_str() {
        "staff" => {
            let role = match i.role.as_deref().map(str::parse::<AppRole>) {
                None => None,
                Some(Ok(r)) => Some(r),
                Some(Err(_)) => {
                    return Err(refused("role", "unknown", "Rollen findes ikke.").into());
                }
            };
            let created = people::create_staff(
                &o,
                &p.tenant,
                people::NewStaff {
                    name: i.name,
                    title: i.title,
                    role,
                    username: i.username,
                    email: i.email,
                    phone: i.phone,
                    scopes: Scopes {
                        areas: i.areas,
                        activities: i.activities,
                        programmes: i.programmes,
                    },
                    ..Default::default()
                },
            )
            .await?;
            activation(&s, &o, &created, Some(&p.user_id), &origin(&s, &info)).await?
        }
        "volunteer" => {
            let cat = nabo_core::catalogue::Catalogue::builtin().map_err(|e| {
                tracing::error!(error = %e, "catalogue");
                AppError::Unavailable
            })?;
            let source = i
                .source
                .as_deref()
                .unwrap_or("resident")
                .parse::<VolunteerSource>()
                .map_err(|_| refused("source", "unknown", "Ukendt type frivillig."))?;
            let activities = i
                .activities
                .iter()
                .map(|a| a.parse())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| refused("activities", "unknown", "En aktivitet findes ikke."))?;
            let role = i
                .volunteer_role
                .as_deref()
                .unwrap_or("lektiehjaelper")
                .parse()
                .map_err(|_| refused("volunteer_role", "unknown", "Ukendt rolle."))?;
            let created = people::create_volunteer(
                &o,
                &p.tenant,
                cat,
                people::NewVolunteer {
                    name: i.name,
                    email: i.email,
                    phone: i.phone,
                    source,
                    resident: i.resident,
                    activities,
                    role,
                    username: None,
                    user_id: None,
                    volunteer_id: None,
                },
            )
            .await?;
            CreatedOutput {
                tenant: p.tenant.to_string(),
                user_id: created.user_id,
                username: created.username,
                activation_url: None,
                expires_at: None,
                mailed: false,
            }
        }
        _ => {
            return Err(refused(
                "kind",
                "unknown",
                "Vælg medarbejder (staff) eller frivillig (volunteer).",
            )
            .into());
        }
    };
    Ok((StatusCode::CREATED, Json(out)))
}

async fn enable_user(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    require_central(&p)?;
    let u = people::tenant_user(s.storage.as_ref(), &p.tenant, &id).await?;
    people::reopen_login(&s, &p, &u).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
struct LinkOutput {
    /// Shown only when it was not mailed (someone must hand it over).
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    expires_at: i64,
    mailed: bool,
}

async fn reset_password(
    State(s): State<AppState>,
    Caller(p): Caller,
    info: crate::web::RequestInfo,
    Path(id): Path<String>,
) -> Result<Json<LinkOutput>, AppError> {
    require_central(&p)?;
    let u = people::tenant_user(s.storage.as_ref(), &p.tenant, &id).await?;
    let o = ops(&s, by_of(&p), crate::relay::Sender::of(&p));
    let link = people::issue_link(
        &o,
        &s.mail,
        &u,
        LinkPurpose::Reset,
        Some(&p.user_id),
        &origin(&s, &info),
    )
    .await?;
    Ok(Json(LinkOutput {
        url: (!link.mailed).then_some(link.url),
        expires_at: link.expires_at,
        mailed: link.mailed,
    }))
}

#[derive(Deserialize)]
struct ActivateInput {
    code: String,
    password: String,
    password_repeat: String,
    /// `activate` (default) or `reset`.
    #[serde(default)]
    purpose: Option<String>,
}

async fn activate(
    State(s): State<AppState>,
    Json(i): Json<ActivateInput>,
) -> Result<StatusCode, AppError> {
    let purpose = match i.purpose.as_deref() {
        None | Some("activate") => LinkPurpose::Activate,
        Some("reset") => LinkPurpose::Reset,
        Some(_) => return Err(refused("purpose", "unknown", "Ukendt formål.").into()),
    };
    if i.code.len() > 200 || i.password.len() > 4096 || i.password_repeat.len() > 4096 {
        return Err(refused("password", "too-long", "For langt input.").into());
    }
    match people::redeem_with_password(
        s.storage.as_ref(),
        s.auth.passwords(),
        &i.code,
        purpose,
        &i.password,
        &i.password_repeat,
    )
    .await?
    {
        Ok(_) => Ok(StatusCode::NO_CONTENT),
        Err(problem) => Err(AppError::Invalid {
            field: "code".into(),
            reason: problem.code(),
            message: problem.da().into(),
        }),
    }
}
