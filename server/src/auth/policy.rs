//! The rules for a new password (ADR 0017), after NIST SP 800-63B-4 §3.1.1.2 and the Danish
//! Agency for Digital Government's advice on passwords: long, any characters, checked against
//! passwords known from breaches, no composition rules, no forced periodic change.
//!
//! - **At least 15 characters** ([`MIN_CHARS`]): a Nabo password is a single-factor
//!   authenticator, for which SP 800-63B-4 requires 15 (8 only as part of multi-factor
//!   sign-in). A passphrase of three or four words is easy to type and to remember.
//! - **At most 256 characters** ([`MAX_CHARS`]; NIST: allow at least 64).
//! - **Any characters**: spaces and every Unicode character; each code point counts as one
//!   character after NFKC normalisation, and the normalised form is what is hashed (so the
//!   same password typed on another keyboard still works).
//! - **Not a known password**: not in the bundled list of passwords from breaches
//!   (`server/data/common-passwords.txt.gz`, SecLists, see its README), compared case-blind.
//! - **Not the user's own name or login name**, and not one character or two repeated
//!   ("aaaaaaaaaaaaaaa", "abababababababab").
//! - **No composition rules** (no "one digit and one symbol"), no hints, no periodic change:
//!   a password is changed when the user wants to or it may be compromised (a reset link).
//!
//! Every refusal names the field and the reason in Danish (the pages and the API show it).

use std::io::Read;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

/// Fewest characters.
pub const MIN_CHARS: usize = 15;
/// Most characters.
pub const MAX_CHARS: usize = 256;

/// Why a password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Weak {
    /// Shorter than [`MIN_CHARS`].
    #[error("shorter than {MIN_CHARS} characters")]
    TooShort {
        /// Its length in characters.
        chars: usize,
    },
    /// Longer than [`MAX_CHARS`].
    #[error("longer than {MAX_CHARS} characters")]
    TooLong,
    /// In the list of known passwords.
    #[error("a known password from breaches")]
    Common,
    /// The user's name or login name.
    #[error("contains the user's name or login name")]
    Personal,
    /// One or two characters repeated.
    #[error("too repetitive")]
    Repetitive,
}

impl Weak {
    /// A stable reason code (API).
    pub fn code(&self) -> &'static str {
        match self {
            Weak::TooShort { .. } => "too-short",
            Weak::TooLong => "too-long",
            Weak::Common => "breached",
            Weak::Personal => "personal",
            Weak::Repetitive => "repetitive",
        }
    }

    /// The reason in Danish, for the page and the API.
    pub fn da(&self) -> String {
        match self {
            Weak::TooShort { chars } => format!(
                "Adgangskoden skal have mindst {MIN_CHARS} tegn (den har {chars}). Brug gerne en sætning eller tre-fire ord."
            ),
            Weak::TooLong => format!("Adgangskoden må højst have {MAX_CHARS} tegn."),
            Weak::Common => {
                "Adgangskoden findes på listen over kendte, lækkede adgangskoder. Vælg en anden."
                    .into()
            }
            Weak::Personal => "Adgangskoden må ikke indeholde dit navn eller brugernavn.".into(),
            Weak::Repetitive => "Adgangskoden er for ensformig (et eller to tegn gentaget).".into(),
        }
    }
}

/// The known passwords, lower-case and sorted (loaded once).
fn known() -> &'static [String] {
    static LIST: OnceLock<Vec<String>> = OnceLock::new();
    LIST.get_or_init(|| {
        let gz: &[u8] = include_bytes!("../../data/common-passwords.txt.gz");
        let mut text = String::new();
        if flate2::read::GzDecoder::new(gz)
            .read_to_string(&mut text)
            .is_err()
        {
            // The file is part of the build; a damaged copy must not make every password
            // acceptable silently.
            panic!("server/data/common-passwords.txt.gz does not decompress");
        }
        let mut v: Vec<String> = text.lines().map(str::to_owned).collect();
        v.sort_unstable();
        v
    })
}

/// How many known passwords are bundled.
pub fn known_count() -> usize {
    known().len()
}

/// The form a password is hashed and checked in: NFKC-normalised.
pub fn normalise(password: &str) -> String {
    password.nfkc().collect()
}

/// Checks a new password for a user called `name` with login `username` (either may be
/// empty). Returns the normalised password to hash.
pub fn check(password: &str, username: &str, name: &str) -> Result<String, Weak> {
    let p = normalise(password);
    let chars = p.chars().count();
    if chars < MIN_CHARS {
        return Err(Weak::TooShort { chars });
    }
    if chars > MAX_CHARS {
        return Err(Weak::TooLong);
    }
    let lower = p.to_lowercase();
    if known().binary_search(&lower).is_ok() {
        return Err(Weak::Common);
    }
    let mut distinct: Vec<char> = lower.chars().filter(|c| !c.is_whitespace()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() <= 2 {
        return Err(Weak::Repetitive);
    }
    let personal: Vec<String> = std::iter::once(username.to_lowercase())
        .chain(name.split_whitespace().map(str::to_lowercase))
        .filter(|w| w.chars().count() >= 4)
        .collect();
    // Refused when the password is little more than the name: once every occurrence of the
    // name's parts (and the spaces and punctuation between them) is taken away, less than
    // half of it is left.
    let mut rest = lower.clone();
    for w in &personal {
        rest = rest.replace(w.as_str(), "");
    }
    if rest.len() != lower.len() {
        let left = rest.chars().filter(|c| c.is_alphanumeric()).count();
        if left * 2 < chars {
            return Err(Weak::Personal);
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_counts_characters_not_bytes() {
        assert_eq!(check("kort", "", ""), Err(Weak::TooShort { chars: 4 }));
        // 15 characters, 20 bytes.
        let p = "æøåæøå kage 123";
        assert_eq!(p.chars().count(), 15);
        assert!(p.len() > 15);
        assert!(check(p, "", "").is_ok());
        assert_eq!(
            check("æøåæøå kage 12", "", ""),
            Err(Weak::TooShort { chars: 14 })
        );
        assert_eq!(check(&"ab1".repeat(86), "", ""), Err(Weak::TooLong));
        assert!(check(&"kaffe og kage ".repeat(18), "", "").is_ok());
    }

    #[test]
    fn any_characters_no_composition_rules() {
        // Only lower-case letters and spaces: fine when long and not known.
        assert!(check("cykel gennem skoven om morgenen", "", "").is_ok());
        assert!(check("🚲🌲🌅🚲🌲🌅 på vej hjem", "", "").is_ok());
    }

    #[test]
    fn known_passwords_are_refused_case_blind() {
        assert!(known_count() > 40_000);
        assert_eq!(check("1234567890123456", "", ""), Err(Weak::Common));
        assert_eq!(check("PasswordPassword", "", ""), Err(Weak::Common));
        assert_eq!(check("qwertyuiopasdfghjkl", "", ""), Err(Weak::Common));
    }

    #[test]
    fn repetitive_and_personal_passwords_are_refused() {
        assert_eq!(check("ææææææææææææææææ", "", ""), Err(Weak::Repetitive));
        assert_eq!(check("æø æø æø æø æø æø æø", "", ""), Err(Weak::Repetitive));
        assert_eq!(
            check("mette.sorensen1!", "mette.sorensen", "Mette Sørensen"),
            Err(Weak::Personal)
        );
        assert_eq!(
            check("Sørensen Sørensen", "ms", "Mette Sørensen"),
            Err(Weak::Personal)
        );
        // A name inside a long passphrase is fine.
        assert!(check("mette cykler til lektiecaféen", "mette", "Mette Sørensen").is_ok());
    }

    #[test]
    fn the_normalised_form_is_what_is_hashed() {
        // "ﬁ" (U+FB01) is "fi" after NFKC.
        let a = check("ﬁre engines at night", "", "").unwrap();
        let b = check("fire engines at night", "", "").unwrap();
        assert_eq!(a, b);
    }
}
