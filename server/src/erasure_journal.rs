//! The erasure journal (ADR 0032): every erasure is also appended, durably, to a small file
//! beside the database, so that a database restored from a backup taken *before* the
//! erasure cannot serve the person again. At start-up, before the relay listens, every
//! journalled subject the database does not list as erased is erased again: the restored
//! key destroyed, the subject put back on the erased list, the registers marked.
//!
//! The journal holds ids and codes only (tenant, random subject ids, erasure id, reason,
//! time): no names, nothing a backup would need to protect. It is append-only JSON lines,
//! each written and synced to disk before the erasure touches the database; a torn last
//! line (a crash mid-write) is ignored. Keep it out of the database's backups and restore
//! procedure: it is what outlives them.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One erasure as journalled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Tenant.
    pub tenant: String,
    /// The subject staff named.
    pub subject: String,
    /// Every subject erased with it (the person's merge group).
    pub subjects: Vec<String>,
    /// The erasure's id (as in `erasures`).
    pub erasure_id: String,
    /// Reason code.
    pub reason: String,
    /// Who erased (login id, or `system:…`).
    pub user_id: String,
    /// When (ms since the epoch).
    pub at: i64,
}

/// The journal file.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    write: std::sync::Mutex<()>,
}

impl Journal {
    /// The journal at `path` (created at the first append).
    pub fn new(path: PathBuf) -> Self {
        Journal {
            path,
            write: std::sync::Mutex::new(()),
        }
    }

    /// Where the journal of a relay keeping its data in `data_dir` lives.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Journal::new(data_dir.join("erasures.journal"))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends an entry and syncs it (and, the first time, the directory) to disk.
    pub fn append(&self, e: &Entry) -> std::io::Result<()> {
        let _g = self
            .write
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut line = serde_json::to_vec(e).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let new = !self.path.exists();
        if !new {
            // A line torn by a crash belonged to an erasure that never ran (the journal is
            // written first): cut it off so it cannot spoil the line after it.
            let bytes = std::fs::read(&self.path)?;
            if bytes.last().is_some_and(|b| *b != b'\n') {
                let keep = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&self.path)?
                    .set_len(keep as u64)?;
            }
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        f.write_all(&line)?;
        f.sync_all()?;
        if new && let Some(dir) = self.path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }

    /// Every entry, oldest first; a torn last line is left out. No file: none.
    pub fn read(&self) -> std::io::Result<Vec<Entry>> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
        let mut out = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if line.is_empty() {
                continue;
            }
            match serde_json::from_slice::<Entry>(line) {
                Ok(e) => out.push(e),
                // The last line may be torn by a crash; anything else is damage to report.
                Err(_) if i + 1 == lines.len() => {}
                Err(e) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("{}: line {}: {e}", self.path.display(), i + 1),
                    ));
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn entry(n: u8) -> Entry {
        Entry {
            tenant: "t".into(),
            subject: format!("p-{n}"),
            subjects: vec![format!("p-{n}")],
            erasure_id: format!("e-{n}"),
            reason: "request".into(),
            user_id: "u".into(),
            at: i64::from(n),
        }
    }

    #[test]
    fn entries_read_back_in_order_and_a_torn_last_line_is_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::in_data_dir(dir.path());
        assert!(j.read().unwrap().is_empty());
        j.append(&entry(1)).unwrap();
        j.append(&entry(2)).unwrap();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(j.path())
            .unwrap();
        f.write_all(br#"{"tenant":"t","subj"#).unwrap();
        assert_eq!(j.read().unwrap(), vec![entry(1), entry(2)]);
        // The next append cuts the torn line off.
        j.append(&entry(3)).unwrap();
        assert_eq!(j.read().unwrap(), vec![entry(1), entry(2), entry(3)]);
        // Damage before the end is reported, never skipped.
        let mut bytes = std::fs::read(j.path()).unwrap();
        bytes[3] = b'#';
        std::fs::write(j.path(), bytes).unwrap();
        assert!(j.read().is_err());
    }
}
