//! The form bodies and query strings of the review pages (server/src/web/), sent through the
//! whole application as central staff signed in with the session cookie. Input: a route
//! byte, then the urlencoded body (or query), in which `@register@`, `@activity@`, `@user@`
//! and the like stand for ids of this run. An answer is never a server error (5xx) and
//! nothing panics.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use nabo_fuzz::http::Relay;

/// Every form the pages post (all but `/log-ud`, which has no fields and would end the
/// session), then pages that read a query string.
const POSTS: &[&str] = &[
    "/log-ind",
    "/gennemgang",
    "/dubletter/deltagere",
    "/dubletter/moeder",
    "/konflikter/fremmoede",
    "/administration/invitation",
    "/administration/enheder/spaer",
    "/administration/omraader",
    "/administration/programmer",
    "/administration/aktiviteter",
    "/administration/forandringsteori",
    "/rapporter/maalopfyldelse",
    "/rapporter/maaling",
    "/administration/roller",
    "/administration/placering",
    "/administration/organisationer",
    "/administration/omraader/a-vestparken",
    "/administration/programmer/p-helhedsplan",
    "/administration/aktiviteter/act-lektiecafe",
    "/administration/aktiviteter/act-lektiecafe/serier",
    "/administration/omraader/a-engtoften/arkiver",
    "/dubletter/deltagere/fortryd",
    "/dubletter/deltagere/godkend",
];
const GETS: &[&str] = &[
    "/log-ind",
    "/oversigt",
    "/aktiviteter",
    "/rapporter",
    "/rapporter/maalopfyldelse",
    "/rapporter/maalgrupper",
    "/rapporter/bestyrelse",
];

fn relay() -> &'static Relay {
    static RELAY: OnceLock<Relay> = OnceLock::new();
    RELAY.get_or_init(Relay::start)
}

/// Bytes as a query string a client could send: what a URI may not hold is %-escaped.
fn query(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fuzz_target!(
    init: {
        nabo_fuzz::report_uncaught_panics();
        relay();
    },
    |data: &[u8]| {
        let [route, body @ ..] = data else {
            return;
        };
        let r = relay();
        let body = match std::str::from_utf8(body) {
            Ok(text) => r.fill(text).into_bytes(),
            Err(_) => body.to_vec(),
        };
        let cookie = ("cookie", format!("nabo_adgang={}", r.central));
        let i = usize::from(*route) % (POSTS.len() + GETS.len());
        let (method, path, a) = if let Some(path) = POSTS.get(i) {
            let headers = [
                cookie,
                ("content-type", "application/x-www-form-urlencoded".into()),
            ];
            ("POST", path.to_string(), r.request("POST", path, &headers, body))
        } else {
            let path = format!("{}?{}", GETS[i - POSTS.len()], query(&body));
            let a = r.request("GET", &path, &[cookie], Vec::new());
            ("GET", path, a)
        };
        assert!(
            a.status < 500,
            "{method} {path} answered {}: {}",
            a.status,
            String::from_utf8_lossy(&a.body)
        );
    }
);
