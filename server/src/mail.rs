//! Outgoing mail (ADR 0017): activation and password-reset links. The relay writes each
//! message as an RFC 5322 file into an outbox directory (`--mail-outbox DIR`), maildir style
//! (`tmp/` then renamed into `new/`, so a reader never sees half a file), readable only by
//! the relay's user. The installation's mail agent picks them up from there (e.g. a
//! `sendmail`/`msmtp` loop, or a systemd path unit), and the tests read them. Without an
//! outbox nothing is sent: the pages and the command line show the link to the person who
//! created it, who hands it over.
//!
//! The message holds a one-time link, so the log never does: only "a message was queued".

use std::io::Write;
use std::path::{Path, PathBuf};

/// Where messages go.
#[derive(Debug, Clone, Default)]
pub struct Outbox {
    dir: Option<PathBuf>,
    from: String,
}

/// A message to send.
#[derive(Debug, Clone)]
pub struct Message {
    /// The recipient's address.
    pub to: String,
    /// Subject (Danish, any characters).
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// RFC 2047 encoded-word for a header with non-ASCII text.
fn encode_header(text: &str) -> String {
    if text.is_ascii() && !text.contains(['\r', '\n']) {
        return text.to_owned();
    }
    use base64::Engine;
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    format!(
        "=?utf-8?B?{}?=",
        base64::engine::general_purpose::STANDARD.encode(clean.as_bytes())
    )
}

/// Whether `addr` is a plausible single mailbox (no header injection, one `@`).
pub fn valid_address(addr: &str) -> bool {
    let Some((local, domain)) = addr.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && addr.len() <= 254
        && !domain.contains('@')
        && addr
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | ',' | ';' | '"' | '\\'))
}

impl Outbox {
    /// An outbox in `dir` (created 0700 on first use), sending as `from`.
    pub fn new(dir: Option<PathBuf>, from: impl Into<String>) -> Self {
        Outbox {
            dir,
            from: from.into(),
        }
    }

    /// Whether messages are delivered at all.
    pub fn is_configured(&self) -> bool {
        self.dir.is_some()
    }

    /// The directory new messages appear in (`<outbox>/new`).
    pub fn new_dir(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join("new"))
    }

    fn prepare(dir: &Path) -> std::io::Result<()> {
        for sub in ["tmp", "new"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }

    /// Queues a message. Returns false (and does nothing) without an outbox.
    pub async fn send(&self, m: &Message) -> std::io::Result<bool> {
        let Some(dir) = self.dir.clone() else {
            return Ok(false);
        };
        if !valid_address(&m.to) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a mail address",
            ));
        }
        let id = nabo_core::entropy::uuid().simple().to_string();
        let domain = self
            .from
            .rsplit_once('@')
            .map_or("nabo.invalid", |(_, d)| d);
        let text = format!(
            "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{id}@{domain}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n\r\n{body}\r\n",
            from = self.from,
            to = m.to,
            subject = encode_header(&m.subject),
            date = chrono::Utc::now().to_rfc2822(),
            body = m.body.replace("\r\n", "\n").replace('\n', "\r\n"),
        );
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            Self::prepare(&dir)?;
            let name = format!("{}.{id}.eml", chrono::Utc::now().timestamp_millis());
            let tmp = dir.join("tmp").join(&name);
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, dir.join("new").join(&name))?;
            Ok(())
        })
        .await
        .map_err(std::io::Error::other)??;
        tracing::info!("a message was queued in the mail outbox");
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_cannot_inject_headers() {
        assert!(valid_address("mette@vestbyen.dk"));
        assert!(!valid_address("mette@vestbyen.dk\r\nBcc: x@y.dk"));
        assert!(!valid_address("a@b@c.dk"));
        assert!(!valid_address("mette"));
        assert!(!valid_address("Mette <mette@vestbyen.dk>"));
    }

    #[tokio::test]
    async fn a_message_lands_whole_in_new() {
        let dir = tempfile::tempdir().unwrap();
        let out = Outbox::new(Some(dir.path().join("out")), "nabo@vestbyen.dk");
        let sent = out
            .send(&Message {
                to: "mette@vestbyen.dk".into(),
                subject: "Velkommen til Nabo – aktivér din bruger".into(),
                body: "Linje 1\nLinje 2".into(),
            })
            .await
            .unwrap();
        assert!(sent);
        let files: Vec<_> = std::fs::read_dir(out.new_dir().unwrap()).unwrap().collect();
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
        assert!(text.contains("To: mette@vestbyen.dk\r\n"));
        assert!(text.contains("Subject: =?utf-8?B?"));
        assert!(text.ends_with("Linje 1\r\nLinje 2\r\n"));
        assert!(
            !Outbox::default()
                .send(&Message {
                    to: "a@b.dk".into(),
                    subject: String::new(),
                    body: String::new()
                })
                .await
                .unwrap()
        );
    }
}
