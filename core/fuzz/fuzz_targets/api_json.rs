//! The JSON bodies of the relay's REST API (server/src/api.rs), sent through the whole
//! application (routing, body limit, extractor, handler, SQLite storage with the demo
//! tenant). Input: a route byte, a caller byte, then the body, in which `@register@`,
//! `@user@` and the like stand for ids of this run. An answer is never a server error (5xx)
//! and nothing panics.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use nabo_fuzz::http::Relay;

/// Every route of api.rs that reads a JSON body.
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/enrol"),
    ("POST", "/api/v1/enrolments"),
    ("PUT", "/api/v1/users/@user@/scopes"),
    ("PUT", "/api/v1/documents/@register@/subject-keys"),
];

fn relay() -> &'static Relay {
    static RELAY: OnceLock<Relay> = OnceLock::new();
    RELAY.get_or_init(Relay::start)
}

fuzz_target!(
    init: {
        nabo_fuzz::report_uncaught_panics();
        relay();
    },
    |data: &[u8]| {
        let [route, caller, body @ ..] = data else {
            return;
        };
        let r = relay();
        let (method, path) = ROUTES[usize::from(*route) % ROUTES.len()];
        let body = match std::str::from_utf8(body) {
            Ok(text) => r.fill(text).into_bytes(),
            Err(_) => body.to_vec(),
        };
        let token = if caller & 1 == 0 { &r.central } else { &r.volunteer };
        let mut headers = vec![("authorization", format!("Bearer {token}"))];
        if caller & 2 == 0 {
            headers.push(("content-type", "application/json".into()));
        }
        let a = r.request(method, &r.fill(path), &headers, body);
        assert!(
            a.status < 500,
            "{method} {path} answered {}: {}",
            a.status,
            String::from_utf8_lossy(&a.body)
        );
    }
);
