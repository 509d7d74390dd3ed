//! Bytes from outside — sync messages, documents, change bundles, backups — checked before
//! Automerge decodes them.
//!
//! Automerge's binary format is columnar: a column holds run-length encoded values, and a run
//! of a few bytes can declare billions of values. Automerge 0.12 (with hexane) materialises
//! some columns while parsing: a 170-byte change bundle made its delta decoder allocate 4 GiB
//! (found by fuzzing, `core/tests/fixtures/fuzz/oom-*`), and DEFLATE-compressed columns and
//! chunks are inflated without a limit. An allocation failure aborts the process — no
//! `catch_unwind` helps — so a peer could take the relay down with one message.
//!
//! [`check`] walks the chunks of an input the way Automerge will parse them (chunk headers,
//! the column metadata of document, change, compressed-change and bundle chunks) and adds up,
//! without decoding any values, how many values each column declares and how many bytes the
//! compressed parts inflate to. Both must stay within a [`Budget`]: proportional to the size
//! of a peer's message and capped, absolute for a stored document (ADR 0016 has the figures
//! and why). Only then does Automerge see the bytes. Every path
//! that decodes bytes from outside goes through here: [`sync_message`] (relay and phones),
//! [`crate::document::load_automerge`] (documents from storage, backups, the phone's store),
//! and [`crate::document::NaboDoc::apply_incremental`] (changes and bundles).

use std::io::Read;

use automerge::sync::Message;

use crate::error::{Error, Result};

/// How much decoding an input may cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Column values declared, summed over every column of every chunk.
    pub values: u64,
    /// Bytes produced by inflating compressed columns and chunks.
    pub inflated: u64,
}

/// Values a byte of a peer's message may declare. Nabo's documents and changes declare a few
/// values per byte (measured in `core/tests/untrusted.rs`); 64 leaves room for clients that
/// write long runs of repeated values.
pub const PEER_VALUES_PER_BYTE: u64 = 64;
/// Values any peer's message may declare regardless of its size.
pub const PEER_VALUES_FLOOR: u64 = 1 << 16;
/// Values one peer's message may declare at most, whatever its size: about 1.4 million
/// operations, 40 times a term register. Automerge spends roughly 8–10 bytes of memory per
/// declared value while decoding, so one message costs at most ~170 MB.
pub const PEER_VALUES_MAX: u64 = 1 << 24;
/// Bytes a byte of a peer's message may inflate to (DEFLATE reaches ~1032:1; a saved Nabo
/// register inflates ~14×).
pub const PEER_INFLATE_PER_BYTE: u64 = 64;
/// Inflated bytes any peer's message may produce regardless of its size.
pub const PEER_INFLATE_FLOOR: u64 = 1 << 16;
/// Inflated bytes one peer's message may produce at most.
pub const PEER_INFLATE_MAX: u64 = 128 << 20;
/// Values a stored document (the relay's store, a backup, the phone's store) may declare:
/// four times what a peer's message may, so a document that grew from many messages
/// still loads.
pub const STORED_VALUES_MAX: u64 = 1 << 26;
/// Inflated bytes a stored document may produce.
pub const STORED_INFLATE_MAX: u64 = 512 << 20;

impl Budget {
    /// The budget for a peer's message of `len` bytes: proportional to its size, capped.
    pub fn peer(len: usize) -> Self {
        let len = len as u64;
        Budget {
            values: PEER_VALUES_FLOOR
                .saturating_add(len.saturating_mul(PEER_VALUES_PER_BYTE))
                .min(PEER_VALUES_MAX),
            inflated: PEER_INFLATE_FLOOR
                .saturating_add(len.saturating_mul(PEER_INFLATE_PER_BYTE))
                .min(PEER_INFLATE_MAX),
        }
    }

    /// The budget for a stored document. A saved document compresses well (long runs, then
    /// DEFLATE), so its bound is absolute rather than proportional to its size.
    pub const STORED: Budget = Budget {
        values: STORED_VALUES_MAX,
        inflated: STORED_INFLATE_MAX,
    };
}

/// What an input declares (from [`check`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Chunks.
    pub chunks: u64,
    /// Column values declared.
    pub values: u64,
    /// Bytes inflated from compressed columns and chunks.
    pub inflated: u64,
}

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const HASH_LEN: usize = 32;
/// A column's specification: the low three bits are its type, bit 3 says it is DEFLATEd.
const DEFLATE_BIT: u64 = 0b1000;

fn corrupt(what: &str) -> Error {
    Error::Corrupt(format!("malformed {what}"))
}

/// Checks that decoding `bytes` (one or more Automerge chunks: a saved document, changes,
/// compressed changes, bundles, as `load` and `load_incremental` take them) stays within
/// `budget`. Malformed framing is refused as [`Error::Corrupt`], declared sizes over the
/// budget as [`Error::TooLarge`]. Decodes no values and allocates only for inflating
/// compressed parts (within the budget).
pub fn check(bytes: &[u8], budget: Budget) -> Result<Footprint> {
    let mut walk = Walk {
        budget,
        seen: Footprint::default(),
    };
    let mut input = Reader(bytes);
    while !input.0.is_empty() {
        walk.chunk(&mut input)?;
    }
    Ok(walk.seen)
}

/// Decodes an automerge sync message from a peer and checks the changes it carries against
/// [`Budget::peer`] of the message's size (see [`check`]). Never panics.
pub fn sync_message(bytes: &[u8]) -> Result<Message> {
    let msg = crate::document::guarded(|| Message::decode(bytes))?
        .map_err(|e| Error::Corrupt(format!("sync message: {e}")))?;
    // Automerge applies the changes as one buffer (`load_incremental` of them joined); the
    // budget is that of the whole message.
    let mut walk = Walk {
        budget: Budget::peer(bytes.len()),
        seen: Footprint::default(),
    };
    for chunk in msg.changes.iter() {
        let mut input = Reader(chunk);
        while !input.0.is_empty() {
            walk.chunk(&mut input)?;
        }
    }
    Ok(msg)
}

/// A cursor over bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8]> {
        let n = usize::try_from(n).map_err(|_| corrupt(what))?;
        if n > self.0.len() {
            return Err(corrupt(what));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn uleb(&mut self, what: &str) -> Result<u64> {
        leb128::read::unsigned(&mut self.0).map_err(|_| corrupt(what))
    }

    fn sleb(&mut self, what: &str) -> Result<i64> {
        leb128::read::signed(&mut self.0).map_err(|_| corrupt(what))
    }

    /// `count` (LEB128) items of `f`.
    fn many(&mut self, what: &str, mut f: impl FnMut(&mut Self) -> Result<()>) -> Result<()> {
        let n = self.uleb(what)?;
        for _ in 0..n {
            // Each item takes at least one byte: a count larger than the input fails here
            // rather than looping.
            if self.0.is_empty() {
                return Err(corrupt(what));
            }
            f(self)?;
        }
        Ok(())
    }

    /// A length-prefixed byte string.
    fn bytes(&mut self, what: &str) -> Result<&'a [u8]> {
        let n = self.uleb(what)?;
        self.take(n, what)
    }

    fn hashes(&mut self, what: &str) -> Result<()> {
        self.many(what, |r| r.take(HASH_LEN as u64, what).map(|_| ()))
    }

    fn actors(&mut self, what: &str) -> Result<()> {
        self.many(what, |r| r.bytes(what).map(|_| ()))
    }

    /// Column metadata: (specification, length) pairs.
    fn columns(&mut self, what: &str) -> Result<Vec<(u64, u64)>> {
        let mut cols = Vec::new();
        self.many(what, |r| {
            let spec = r.uleb(what)?;
            let len = r.uleb(what)?;
            cols.push((spec, len));
            Ok(())
        })?;
        Ok(cols)
    }
}

struct Walk {
    budget: Budget,
    seen: Footprint,
}

impl Walk {
    fn chunk(&mut self, input: &mut Reader<'_>) -> Result<()> {
        if input.take(4, "chunk header")? != MAGIC {
            return Err(corrupt("chunk header (magic bytes)"));
        }
        input.take(4, "chunk header")?; // checksum: Automerge verifies it
        let kind = input.take(1, "chunk header")?[0];
        let body = input.bytes("chunk length")?;
        self.seen.chunks += 1;
        let mut body = Reader(body);
        match kind {
            0 => self.document(&mut body),
            1 => self.change(&mut body),
            2 => {
                let inflated = self.inflate(body.0)?;
                self.change(&mut Reader(&inflated))
            }
            3 => self.bundle(&mut body),
            _ => Err(corrupt("chunk (unknown type)")),
        }
    }

    fn document(&mut self, r: &mut Reader<'_>) -> Result<()> {
        r.actors("document actors")?;
        r.hashes("document heads")?;
        let changes = r.columns("document change columns")?;
        let ops = r.columns("document op columns")?;
        self.column_data(r, &changes)?;
        self.column_data(r, &ops)
        // What follows (the heads' indices) is a list of small numbers Automerge reads as is.
    }

    fn change(&mut self, r: &mut Reader<'_>) -> Result<()> {
        r.hashes("change dependencies")?;
        r.bytes("change actor")?;
        r.uleb("change sequence number")?;
        r.uleb("change start op")?;
        r.sleb("change time")?;
        r.bytes("change message")?;
        r.actors("change actors")?;
        let ops = r.columns("change op columns")?;
        self.column_data(r, &ops)
    }

    fn bundle(&mut self, r: &mut Reader<'_>) -> Result<()> {
        r.hashes("bundle dependencies")?;
        r.actors("bundle actors")?;
        let changes = r.columns("bundle change columns")?;
        self.column_data(r, &changes)?;
        let ops = r.columns("bundle op columns")?;
        self.column_data(r, &ops)
    }

    fn column_data(&mut self, r: &mut Reader<'_>, cols: &[(u64, u64)]) -> Result<()> {
        for &(spec, len) in cols {
            let data = r.take(len, "column data")?;
            if spec & DEFLATE_BIT != 0 {
                let inflated = self.inflate(data)?;
                self.column(spec, &inflated)?;
            } else {
                self.column(spec, data)?;
            }
        }
        Ok(())
    }

    fn inflate(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        let left = self.budget.inflated.saturating_sub(self.seen.inflated);
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(data)
            .take(left.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|_| corrupt("compressed data"))?;
        self.seen.inflated += out.len() as u64;
        if self.seen.inflated > self.budget.inflated {
            return Err(Error::TooLarge(format!(
                "compressed data inflates to more than {} bytes",
                self.budget.inflated
            )));
        }
        Ok(out)
    }

    fn values(&mut self, n: u64) -> Result<()> {
        self.seen.values = self.seen.values.saturating_add(n);
        if self.seen.values > self.budget.values {
            return Err(Error::TooLarge(format!(
                "columns declare more than {} values",
                self.budget.values
            )));
        }
        Ok(())
    }

    /// Counts the values one column declares without decoding them. Only the declared counts
    /// matter here: malformed values inside a column (a truncated literal run, an overlong
    /// number) end the count, and Automerge reports them when it decodes the column.
    fn column(&mut self, spec: u64, data: &[u8]) -> Result<()> {
        let mut r = Reader(data);
        let counted = match spec & 0b111 {
            // Group cardinality, actor, integer and value metadata: RLE of unsigned LEB128.
            0 | 1 | 2 | 6 => self.rle(&mut r, |r| r.uleb("").map(|_| ())),
            // Delta: RLE of the signed differences.
            3 => self.rle(&mut r, |r| r.sleb("").map(|_| ())),
            // Boolean: alternating run lengths, starting with false.
            4 => self.booleans(&mut r),
            // String: RLE of length-prefixed UTF-8.
            5 => self.rle(&mut r, |r| r.bytes("").map(|_| ())),
            // Raw values: their lengths come from the value-metadata column, counted above.
            _ => Ok(Ok(())),
        };
        // The outer error is the budget's; the inner one a malformed column.
        counted.map(|_| ())
    }

    fn booleans(&mut self, r: &mut Reader<'_>) -> Result<Result<()>> {
        while !r.0.is_empty() {
            let n = match r.uleb("") {
                Ok(n) => n,
                Err(e) => return Ok(Err(e)),
            };
            self.values(n)?;
        }
        Ok(Ok(()))
    }

    /// A run-length encoded column: a signed count n, then one value repeated n times
    /// (n > 0), -n literal values (n < 0), or an unsigned count of nulls (n = 0).
    fn rle(
        &mut self,
        r: &mut Reader<'_>,
        mut value: impl FnMut(&mut Reader<'_>) -> Result<()>,
    ) -> Result<Result<()>> {
        while !r.0.is_empty() {
            let n = match r.sleb("") {
                Ok(n) => n,
                Err(e) => return Ok(Err(e)),
            };
            let run = match n {
                0 => match r.uleb("") {
                    Ok(nulls) => {
                        self.values(nulls)?;
                        Ok(())
                    }
                    Err(e) => Err(e),
                },
                n if n > 0 => {
                    self.values(n.unsigned_abs())?;
                    value(r)
                }
                n => {
                    let n = n.unsigned_abs();
                    self.values(n)?;
                    (0..n).try_for_each(|_| value(r))
                }
            };
            if let Err(e) = run {
                return Ok(Err(e));
            }
        }
        Ok(Ok(()))
    }
}
