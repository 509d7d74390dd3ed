//! Volunteers and outreach workers sign in with the same accounts as staff, but their work
//! is on the phone: on the web they get one Danish page that says so, with a link and a QR
//! code that open the Nabo app pointed at this relay — never "Ingen adgang" with a link that
//! is refused too. Their only other page is signing out.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{PreEscaped, html};
use nabo_core::model::AppRole;

use super::{WebError, bare, fmt};

/// The phone users' page.
pub const PATH: &str = "/brug-appen";

/// The link that opens the app on this relay (the app's own scheme, as in the enrolment
/// code's QR code).
pub fn app_link(relay: &str) -> String {
    format!("nabo://aabn?relay={}", fmt::url_encode(relay))
}

/// A QR code as inline SVG (the enrolment code and the app link).
pub fn qr_svg(payload: &str) -> Result<String, WebError> {
    qrcode::QrCode::new(payload.as_bytes())
        .map(|q| {
            q.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(220, 220)
                .build()
        })
        .map_err(|_| WebError::Internal)
}

/// The page for a phone user: `status` 200 on its own path, 403 on a staff page.
pub fn page(role: AppRole, name: &str, relay: &str, status: StatusCode) -> Response {
    let link = app_link(relay);
    let svg = match qr_svg(&link) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let (who, what) = match role {
        AppRole::Outreach => (
            "lokal medarbejder",
            "opsøgende kontakter, henvisninger, fremmøde og vagter",
        ),
        _ => ("frivillig", "fremmøde, dine vagter og dine timer"),
    };
    let body = bare(
        "Brug Nabo-appen",
        html! {
            header class="top" {
                span class="logo" { "Nabo" }
                form method="post" action="/log-ud" class="log-ud" {
                    span class="bruger" { (name) }
                    button type="submit" { "Log ud" }
                }
            }
            main id="indhold" class="brug-appen" {
                h1 { "Brug Nabo-appen på din telefon" }
                p { "Du er logget ind som " (who) ". Som " (who) " registrerer du " (what)
                    " i Nabo-appen – også uden net. Hjemmesiden her er kontorets: gennemgang, administration og rapporter." }
                p { a class="knap" id="aabn-appen" href=(link) { "Åbn Nabo-appen" } }
                figure class="qr" {
                    (PreEscaped(svg))
                    figcaption { "Sidder du ved en computer? Scan koden med telefonens kamera, så åbner appen." }
                }
                p { "Har du ikke appen endnu, eller er din telefon ikke tilmeldt, så bed din koordinator om en engangskode. Koden scanner du i appen." }
                p { "Relæets adresse: " code id="relae" { (relay) } }
            }
        },
    );
    (status, body).into_response()
}
