//! Key rings kept outside the database: the access-token signing keys and the key-encryption
//! key (KEK) that wraps subject keys (ADR 0014).
//!
//! A key ring is text, one key per line, `id:base64url-key`, the **first key active** (it
//! signs or wraps) and every key readable (it verifies or unwraps). `#` starts a comment.
//!
//! ```text
//! # Nabo key ring. The first key is active; older keys stay readable until retired.
//! k20261203-9f2a:q8m3…
//! k20260901-11c0:Zx0p…
//! ```
//!
//! It comes from a file (`--key-file`, `NABO_JWT_KEY_FILE`) or, for the KEK, from the
//! environment (`NABO_KEK`, the same text). A running relay re-reads a file when it changes
//! (checked at most once a second, and at once when it meets a key id it does not know), so
//! a rotation on one node reaches the others without a restart.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;

/// Why a key ring could not be read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read or written.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// A line is not `id:base64url-key`.
    #[error("key ring line {line}: {reason}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// What is wrong (never the key).
        reason: &'static str,
    },
    /// No key at all.
    #[error("the key ring is empty")]
    Empty,
}

/// Keys by id; the first is active.
#[derive(Clone, PartialEq, Eq)]
pub struct Keyring {
    keys: Vec<(String, Vec<u8>)>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("ids", &self.ids().collect::<Vec<_>>())
            .finish()
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 40
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A new key id: the date and a random suffix (`k20261203-9f2a`).
fn new_id() -> String {
    let r: [u8; 2] = nabo_core::entropy::bytes();
    format!(
        "k{}-{}",
        chrono::Utc::now().format("%Y%m%d"),
        hex::encode(r)
    )
}

impl Keyring {
    /// A ring with one fresh random 32-byte key.
    pub fn generate() -> Self {
        Keyring { keys: Vec::new() }.with_new_active()
    }

    /// A ring of one key (a legacy raw key file).
    pub fn single(id: &str, key: Vec<u8>) -> Self {
        Keyring {
            keys: vec![(id.to_owned(), key)],
        }
    }

    /// Parses the text form. Every key must be at least `min_len` bytes (and, with
    /// `exact`, exactly that long).
    pub fn parse(text: &str, min_len: usize, exact: bool) -> Result<Self, KeyError> {
        let mut keys: Vec<(String, Vec<u8>)> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let bad = |reason| KeyError::Malformed {
                line: i + 1,
                reason,
            };
            let (id, key) = line.split_once(':').ok_or(bad("expected id:key"))?;
            if !valid_id(id) {
                return Err(bad("the id must be 1–40 letters, digits, '-' or '_'"));
            }
            let key = b64()
                .decode(key.trim())
                .map_err(|_| bad("the key is not base64url"))?;
            if key.len() < min_len || (exact && key.len() != min_len) {
                return Err(bad("the key has the wrong length"));
            }
            if keys.iter().any(|(k, _)| k == id) {
                return Err(bad("the id appears twice"));
            }
            keys.push((id.to_owned(), key));
        }
        if keys.is_empty() {
            return Err(KeyError::Empty);
        }
        Ok(Keyring { keys })
    }

    /// The text form (what [`Keyring::parse`] reads).
    pub fn to_text(&self) -> String {
        let mut s = String::from(
            "# Nabo key ring. The first key is active; the others stay readable until retired.\n",
        );
        for (id, key) in &self.keys {
            s.push_str(id);
            s.push(':');
            s.push_str(&b64().encode(key));
            s.push('\n');
        }
        s
    }

    /// The active key.
    pub fn active(&self) -> (&str, &[u8]) {
        // A ring is never empty (parse and generate make sure).
        self.keys
            .first()
            .map_or(("", &[][..]), |(id, k)| (id.as_str(), k.as_slice()))
    }

    /// A key by id.
    pub fn get(&self, id: &str) -> Option<&[u8]> {
        self.keys
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, v)| v.as_slice())
    }

    /// The ids, active first.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(id, _)| id.as_str())
    }

    /// Every key, active first.
    pub fn keys(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.keys.iter().map(|(id, k)| (id.as_str(), k.as_slice()))
    }

    /// This ring with a fresh 32-byte key in front (active); the others stay readable.
    pub fn with_new_active(&self) -> Self {
        let mut id = new_id();
        while self.get(&id).is_some() {
            id = new_id();
        }
        let key: [u8; 32] = nabo_core::entropy::bytes();
        let mut keys = vec![(id, key.to_vec())];
        keys.extend(self.keys.iter().cloned());
        Keyring { keys }
    }

    /// This ring with only the active key and the keys `keep` says to keep.
    pub fn retain(&self, keep: impl Fn(&str) -> bool) -> Self {
        let keys = self
            .keys
            .iter()
            .enumerate()
            .filter(|(i, (id, _))| *i == 0 || keep(id))
            .map(|(_, k)| k.clone())
            .collect();
        Keyring { keys }
    }
}

/// Writes a key ring atomically (a temporary file renamed over the old one), readable by the
/// owner only.
pub fn write(path: &Path, ring: &Keyring) -> Result<(), KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension(format!("tmp-{}", nabo_core::entropy::uuid().simple()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let written = (|| {
        use std::io::Write;
        let mut f = opts.open(&tmp)?;
        f.write_all(ring.to_text().as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(io)
}

/// Where a key ring comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A file; `create`: generate one if it does not exist (the demo, tests).
    File {
        /// The file.
        path: PathBuf,
        /// Generate it when missing.
        create: bool,
    },
    /// The key ring's text itself (from an environment variable).
    Inline(String),
}

struct Loaded {
    ring: Arc<Keyring>,
    modified: Option<SystemTime>,
    checked: Instant,
}

/// A key ring that follows its file.
pub struct LiveKeyring {
    source: KeySource,
    min_len: usize,
    exact: bool,
    state: RwLock<Loaded>,
}

impl std::fmt::Debug for LiveKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveKeyring")
            .field("source", &self.source_name())
            .finish()
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// How often a running relay looks at the key file.
const RECHECK: Duration = Duration::from_secs(1);

impl LiveKeyring {
    /// Opens a key ring whose keys are at least `min_len` bytes (exactly, with `exact`).
    pub fn open(source: KeySource, min_len: usize, exact: bool) -> Result<Self, KeyError> {
        let (ring, modified) = Self::read(&source, min_len, exact)?;
        Ok(LiveKeyring {
            source,
            min_len,
            exact,
            state: RwLock::new(Loaded {
                ring: Arc::new(ring),
                modified,
                checked: Instant::now(),
            }),
        })
    }

    fn read(
        source: &KeySource,
        min_len: usize,
        exact: bool,
    ) -> Result<(Keyring, Option<SystemTime>), KeyError> {
        match source {
            KeySource::Inline(text) => Ok((Keyring::parse(text, min_len, exact)?, None)),
            KeySource::File { path, create } => {
                let io = |source| KeyError::Io {
                    path: path.clone(),
                    source,
                };
                match std::fs::read_to_string(path) {
                    Ok(text) => Ok((Keyring::parse(&text, min_len, exact)?, modified(path))),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound && *create => {
                        let ring = Keyring::generate();
                        write(path, &ring)?;
                        Ok((ring, modified(path)))
                    }
                    Err(e) => Err(io(e)),
                }
            }
        }
    }

    /// Where the keys come from, for messages (never the keys).
    pub fn source_name(&self) -> String {
        match &self.source {
            KeySource::File { path, .. } => path.display().to_string(),
            KeySource::Inline(_) => "the environment".into(),
        }
    }

    /// The file, if the ring lives in one.
    pub fn path(&self) -> Option<&Path> {
        match &self.source {
            KeySource::File { path, .. } => Some(path),
            KeySource::Inline(_) => None,
        }
    }

    /// The current ring; the file is re-read if it changed (looked at once a second).
    pub fn current(&self) -> Arc<Keyring> {
        let due = self
            .state
            .read()
            .map(|s| s.checked.elapsed() >= RECHECK)
            .unwrap_or(false);
        if due {
            self.reload(false);
        }
        self.state
            .read()
            .map(|s| s.ring.clone())
            .unwrap_or_else(|p| p.into_inner().ring.clone())
    }

    /// A key by id, re-reading the file once if the id is unknown (another node rotated).
    pub fn key(&self, id: &str) -> Option<Vec<u8>> {
        if let Some(k) = self.current().get(id) {
            return Some(k.to_vec());
        }
        self.reload(true);
        self.current().get(id).map(<[u8]>::to_vec)
    }

    /// Re-reads the file if it changed (or, with `force`, whenever at least a second passed
    /// since the last look). A file that does not read keeps the keys in use.
    pub fn reload(&self, force: bool) {
        let KeySource::File { path, .. } = &self.source else {
            return;
        };
        let Ok(mut s) = self.state.write() else {
            return;
        };
        if force && s.checked.elapsed() < RECHECK {
            return;
        }
        s.checked = Instant::now();
        let m = modified(path);
        if m.is_some() && m == s.modified && !force {
            return;
        }
        match std::fs::read_to_string(path)
            .map_err(|source| KeyError::Io {
                path: path.clone(),
                source,
            })
            .and_then(|t| Keyring::parse(&t, self.min_len, self.exact))
        {
            Ok(ring) => {
                if *s.ring != ring {
                    tracing::info!(file = %path.display(), keys = ring.keys.len(), "key ring reloaded");
                }
                s.ring = Arc::new(ring);
                s.modified = m;
            }
            Err(e) => {
                tracing::error!(error = %e, "key ring changed but does not read; keeping the keys in use")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_round_trips_and_names_bad_lines_without_keys() {
        let ring = Keyring::generate().with_new_active();
        let text = ring.to_text();
        assert_eq!(Keyring::parse(&text, 32, true).unwrap(), ring);
        assert_eq!(ring.ids().count(), 2);
        let err = Keyring::parse("a:b:c", 32, true).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
        let err = Keyring::parse("k1:AAAA", 32, true).unwrap_err().to_string();
        assert_eq!(err, "key ring line 1: the key has the wrong length");
        assert!(matches!(
            Keyring::parse("# only a comment\n", 32, true),
            Err(KeyError::Empty)
        ));
        let twice = format!("{}{}", ring.to_text(), ring.to_text());
        assert!(Keyring::parse(&twice, 32, true).is_err());
    }

    #[test]
    fn rotation_keeps_old_keys_readable_and_retire_keeps_the_active_one() {
        let old = Keyring::generate();
        let (old_id, old_key) = old.active();
        let new = old.with_new_active();
        assert_ne!(new.active().0, old_id);
        assert_eq!(new.get(old_id), Some(old_key));
        let retired = new.retain(|_| false);
        assert_eq!(retired.ids().collect::<Vec<_>>(), vec![new.active().0]);
    }

    #[test]
    fn a_live_ring_follows_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.keys");
        let live = LiveKeyring::open(
            KeySource::File {
                path: path.clone(),
                create: true,
            },
            32,
            true,
        )
        .unwrap();
        let first = live.current().active().0.to_owned();
        let rotated = live.current().with_new_active();
        write(&path, &rotated).unwrap();
        // An unknown id makes it look at the file at once (after the once-a-second pause).
        std::thread::sleep(RECHECK);
        let new_id = rotated.active().0;
        assert!(live.key(new_id).is_some());
        assert_eq!(live.current().active().0, new_id);
        assert!(live.key(&first).is_some());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
