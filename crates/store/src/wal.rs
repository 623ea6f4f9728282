//! The write-ahead log: every accepted batch is a checksummed record here, fsync'd (with group
//! commit across concurrent writers) before it is acknowledged.
//!
//! `<data>/wal/` holds files named by the sequence number of their first record
//! (`00000000000000000042.wal`). Each file starts with [`MAGIC`]; each record is
//!
//! ```text
//! length: u32 LE | crc32c(seq ‖ payload): u32 LE | seq: u64 LE | payload: length - 8 bytes
//! ```
//!
//! Every [`Store::open`](crate::Store::open) starts a new file, and a flush starts a new file
//! before it writes segments; files are deleted once the segments holding their records are
//! durable. Reading stops at the first record that is short or fails its checksum: that is a
//! write torn by a crash, and was never acknowledged, since acknowledgement waits for the fsync
//! of the whole record.
//!
//! The newest file done with is kept as [`SPARE`], and the next new file is that file renamed
//! and written over from its start: its pages are in memory already and its blocks on disk, so
//! writing and syncing the log costs less than with a new file. What remains of its older
//! records after the new ones is recognised by their sequence numbers (older than the file's
//! first) and ignored.

use crate::error::StoreError;
use bytes::Bytes;
use std::fs::{File, OpenOptions};
use std::io::{IoSlice, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// The first bytes of every log file (format version 1).
pub const MAGIC: &[u8; 8] = b"SAKWAL01";

/// The first bytes of a reused log file (see [`SPARE`]): what follows its records is what remains
/// of older ones, not a torn write.
pub const REUSED_MAGIC: &[u8; 8] = b"SAKWALR1";

/// The largest record accepted when reading; anything larger is a torn or corrupt length.
const MAX_RECORD: usize = 1 << 30;

/// The name of the log file kept for reuse (see the module documentation).
pub const SPARE: &str = "spare";

/// A file done with larger than this is deleted rather than kept as the spare.
const MAX_SPARE: u64 = 1 << 30;

/// The write side of the log.
#[derive(Debug)]
pub(crate) struct Wal {
    dir: PathBuf,
    fsync: bool,
    inner: Mutex<WalInner>,
    synced_cond: Condvar,
    /// Every record with a sequence number up to this one is durable.
    synced: AtomicU64,
}

#[derive(Debug)]
struct WalInner {
    file: Arc<File>,
    /// The current file is a reused one ([`SPARE`]), and the bytes written to it so far.
    reused: bool,
    written: u64,
    /// Records appended but not yet written: each one's header and payload.
    pending: Vec<([u8; HEADER], Vec<Bytes>)>,
    /// The sequence number of the last appended record.
    last_seq: u64,
    /// True while a writer (the group-commit leader) writes and syncs outside the lock.
    syncing: bool,
    /// Set when a write or an fsync failed: nothing after it may be acknowledged.
    failed: Option<String>,
}

/// One record read back from the log.
#[derive(Debug)]
pub(crate) struct WalRecord {
    pub seq: u64,
    pub payload: Bytes,
}

/// What reading the log found.
#[derive(Debug, Default)]
pub(crate) struct WalContents {
    /// The valid records, in log order.
    pub records: Vec<WalRecord>,
    /// Bytes ignored at the ends of files (torn writes), per file.
    pub torn: Vec<(PathBuf, u64)>,
}

impl Wal {
    /// Starts a new log file whose first record will be `next_seq`.
    pub fn create(dir: &Path, next_seq: u64, fsync: bool) -> Result<Wal, StoreError> {
        let (file, reused) = new_file(dir, next_seq)?;
        Ok(Wal {
            dir: dir.to_path_buf(),
            fsync,
            inner: Mutex::new(WalInner {
                file: Arc::new(file),
                reused,
                written: MAGIC.len() as u64,
                pending: Vec::new(),
                last_seq: next_seq.saturating_sub(1),
                syncing: false,
                failed: None,
            }),
            synced_cond: Condvar::new(),
            synced: AtomicU64::new(next_seq.saturating_sub(1)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, WalInner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every record up to this sequence number is durable.
    pub fn synced_seq(&self) -> u64 {
        self.synced.load(Ordering::Acquire)
    }

    /// Queues a record whose payload is the concatenation of `payload`'s parts (written where
    /// they are, not copied together). Callers append in sequence order (the store's state lock
    /// orders them); the record is durable once [`Wal::wait_durable`] returns.
    pub fn append(&self, seq: u64, payload: Vec<Bytes>) -> Result<(), StoreError> {
        let header = record_header(seq, &payload)?;
        let mut inner = self.lock();
        if let Some(failed) = &inner.failed {
            return Err(StoreError::WalFailed(failed.clone()));
        }
        inner.pending.push((header, payload));
        inner.last_seq = seq;
        Ok(())
    }

    /// Waits until record `seq` is durable. The first waiter to find no write in progress becomes
    /// the leader: it writes and fsyncs everything queued so far (its own record and those of
    /// every concurrent writer) in one go.
    pub fn wait_durable(&self, seq: u64) -> Result<(), StoreError> {
        let mut inner = self.lock();
        loop {
            if let Some(failed) = &inner.failed {
                return Err(StoreError::WalFailed(failed.clone()));
            }
            if self.synced_seq() >= seq {
                return Ok(());
            }
            if inner.syncing {
                inner = self.synced_cond.wait(inner).unwrap_or_else(|poisoned| poisoned.into_inner());
                continue;
            }
            inner.syncing = true;
            let bytes = std::mem::take(&mut inner.pending);
            let target = inner.last_seq;
            let file = inner.file.clone();
            drop(inner);
            let result = write_and_sync(&file, &bytes, self.fsync);
            inner = self.lock();
            inner.syncing = false;
            match result {
                Ok(()) => {
                    inner.written += record_bytes(&bytes);
                    self.synced.store(target, Ordering::Release);
                }
                Err(e) => inner.failed = Some(e.to_string()),
            }
            self.synced_cond.notify_all();
        }
    }

    /// Makes everything queued durable and starts a new file for records from `next_seq` on.
    /// Returns the sequence number of the last record in the older files.
    pub fn rotate(&self, next_seq: u64) -> Result<u64, StoreError> {
        let mut inner = self.lock();
        while inner.syncing {
            inner = self.synced_cond.wait(inner).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        if let Some(failed) = &inner.failed {
            return Err(StoreError::WalFailed(failed.clone()));
        }
        let bytes = std::mem::take(&mut inner.pending);
        let target = inner.last_seq;
        if let Err(e) = write_and_sync(&inner.file, &bytes, true) {
            inner.failed = Some(e.to_string());
            self.synced_cond.notify_all();
            return Err(StoreError::WalFailed(e.to_string()));
        }
        inner.written += record_bytes(&bytes);
        self.synced.store(target, Ordering::Release);
        self.synced_cond.notify_all();
        let (file, reused) = new_file(&self.dir, next_seq)?;
        inner.file = Arc::new(file);
        inner.reused = reused;
        inner.written = MAGIC.len() as u64;
        Ok(target)
    }

    /// Leaves the log as small as it can be when the store closes: the spare is deleted, and a
    /// reused current file is cut after its records. Best effort: what it leaves is read the
    /// same way.
    pub fn tidy(&self) {
        let inner = self.lock();
        if inner.syncing || !inner.pending.is_empty() || inner.failed.is_some() {
            return;
        }
        if inner.reused {
            let _ = inner.file.set_len(inner.written);
        }
        let _ = std::fs::remove_file(self.dir.join(SPARE));
    }

    /// Deletes the files older than the current one (their records are in durable segments),
    /// keeping the newest of them as the [`SPARE`] when there is none.
    pub fn remove_before(&self, first_seq: u64) -> Result<(), StoreError> {
        let spare = self.dir.join(SPARE);
        let mut have_spare = spare.exists();
        for (seq, path) in list_files(&self.dir)?.into_iter().rev() {
            if seq >= first_seq {
                continue;
            }
            let small = std::fs::metadata(&path).is_ok_and(|m| m.len() <= MAX_SPARE);
            if !have_spare && small {
                std::fs::rename(&path, &spare).map_err(StoreError::io(format!(
                    "renaming {} to {}",
                    path.display(),
                    spare.display()
                )))?;
                have_spare = true;
            } else {
                std::fs::remove_file(&path).map_err(StoreError::io(format!("removing {}", path.display())))?;
            }
        }
        sync_dir(&self.dir)
    }
}

/// Writes the records (headers and payloads, without copying them together) and fsyncs.
fn write_and_sync(file: &File, records: &[([u8; HEADER], Vec<Bytes>)], fsync: bool) -> std::io::Result<()> {
    /// At most this many slices per call (Linux refuses more than 1024).
    const SLICES: usize = 1024;
    let mut slices: Vec<IoSlice> = records
        .iter()
        .flat_map(|(h, parts)| std::iter::once(IoSlice::new(h)).chain(parts.iter().map(|p| IoSlice::new(p))))
        .collect();
    let mut slices = &mut slices[..];
    let mut writer: &File = file;
    while !slices.is_empty() {
        let some = slices.len().min(SLICES);
        match writer.write_vectored(&slices[..some]) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if fsync {
        file.sync_data()?;
    }
    Ok(())
}

fn file_name(first_seq: u64) -> String {
    format!("{first_seq:020}.wal")
}

/// The bytes queued records take in a file.
fn record_bytes(records: &[([u8; HEADER], Vec<Bytes>)]) -> u64 {
    records.iter().map(|(_, parts)| (HEADER + parts.iter().map(Bytes::len).sum::<usize>()) as u64).sum()
}

/// A new log file for records from `first_seq` on, and whether it is reused: the [`SPARE`]
/// renamed, written over from its start, when there is one; else a new file.
fn new_file(dir: &Path, first_seq: u64) -> Result<(File, bool), StoreError> {
    let path = dir.join(file_name(first_seq));
    let context = || format!("creating the write-ahead log {}", path.display());
    let spare = dir.join(SPARE);
    let reused = spare.exists() && std::fs::rename(&spare, &path).is_ok();
    let mut file =
        OpenOptions::new().create(true).truncate(!reused).write(true).open(&path).map_err(StoreError::io(context()))?;
    file.write_all(if reused { REUSED_MAGIC } else { MAGIC }).map_err(StoreError::io(context()))?;
    file.sync_all().map_err(StoreError::io(context()))?;
    sync_dir(dir)?;
    Ok((file, reused))
}

/// Fsyncs a directory, so that files created, renamed or removed in it stay so after a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(StoreError::io(format!("syncing the folder {}", dir.display())))
}

/// The log files of `dir` with their first sequence numbers, oldest first.
pub(crate) fn list_files(dir: &Path) -> Result<Vec<(u64, PathBuf)>, StoreError> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(StoreError::io(format!("listing {}", dir.display())))?;
    for entry in entries {
        let entry = entry.map_err(StoreError::io(format!("listing {}", dir.display())))?;
        let path = entry.path();
        let seq = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".wal"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(seq) = seq {
            files.push((seq, path));
        }
    }
    files.sort();
    Ok(files)
}

/// The bytes of a record before its payload: length, checksum, sequence number.
const HEADER: usize = 16;

fn record_header(seq: u64, payload: &[Bytes]) -> Result<[u8; HEADER], StoreError> {
    let len = payload.iter().map(Bytes::len).sum::<usize>() + 8;
    if len > MAX_RECORD {
        return Err(StoreError::Internal(format!("a write-ahead log record of {len} bytes is too large")));
    }
    let seq_bytes = seq.to_le_bytes();
    let crc = payload.iter().fold(crc32c_update(!0, &seq_bytes), |crc, part| crc32c_update(crc, part)) ^ !0;
    let mut header = [0u8; HEADER];
    header[..4].copy_from_slice(&(len as u32).to_le_bytes());
    header[4..8].copy_from_slice(&crc.to_le_bytes());
    header[8..].copy_from_slice(&seq_bytes);
    Ok(header)
}

#[cfg(test)]
fn encode_record(out: &mut Vec<u8>, seq: u64, payload: &[u8]) -> Result<(), StoreError> {
    out.extend_from_slice(&record_header(seq, &[Bytes::copy_from_slice(payload)])?);
    out.extend_from_slice(payload);
    Ok(())
}

/// Reads every valid record of every file in `dir`, oldest first. A file's records end at its
/// first torn or corrupt record.
///
/// # Errors
/// When a file cannot be read or does not start with [`MAGIC`] (a foreign file).
pub(crate) fn read_all(dir: &Path) -> Result<WalContents, StoreError> {
    let mut contents = WalContents::default();
    for (first_seq, path) in list_files(dir)? {
        let bytes = Bytes::from(std::fs::read(&path).map_err(StoreError::io(format!("reading {}", path.display())))?);
        if bytes.len() < MAGIC.len() {
            // created but never written: a crash right after creating the file
            continue;
        }
        let reused = &bytes[..MAGIC.len()] == REUSED_MAGIC;
        if &bytes[..MAGIC.len()] != MAGIC && !reused {
            return Err(StoreError::Corrupt { path, message: "not a Saker write-ahead log file".to_string() });
        }
        let (records, end) = decode_records(&bytes.slice(MAGIC.len()..), first_seq);
        contents.records.extend(records);
        let ignored = (bytes.len() - MAGIC.len() - end) as u64;
        // what follows the records of a reused file is what remains of its older ones
        if ignored > 0 && !reused {
            contents.torn.push((path, ignored));
        }
    }
    Ok(contents)
}

/// Decodes the records of a file whose first record is `first_seq`, until the first invalid one
/// (short, failing its checksum, or older than the records before it: one of the older records of
/// a reused file); returns them (their payloads are slices of `all`) and the number of bytes they
/// used.
fn decode_records(all: &Bytes, first_seq: u64) -> (Vec<WalRecord>, usize) {
    let mut records: Vec<WalRecord> = Vec::new();
    let mut used = 0;
    let mut bytes = &all[..];
    while let Some(header) = bytes.get(..8) {
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if !(8..=MAX_RECORD).contains(&len) {
            break;
        }
        let Some(body) = bytes.get(8..8 + len) else { break };
        if crc32c_update(!0, body) ^ !0 != crc {
            break;
        }
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&body[..8]);
        let seq = u64::from_le_bytes(seq);
        let expected = records.last().map_or(first_seq, |r| r.seq + 1);
        if seq < expected {
            break;
        }
        records.push(WalRecord { seq, payload: all.slice(used + 16..used + 8 + len) });
        used += 8 + len;
        bytes = &bytes[8 + len..];
    }
    (records, used)
}

/// Continues a CRC-32C (Castagnoli) over `bytes` (start with `!0`, finish with `^ !0`); the
/// `crc32c` crate uses the processor's CRC instructions where it has them.
pub(crate) fn crc32c_update(crc: u32, bytes: &[u8]) -> u32 {
    !crc32c::crc32c_append(!crc, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_known_values() {
        // RFC 3720 B.4 test vectors
        assert_eq!(crc32c_update(!0, &[0u8; 32]) ^ !0, 0x8A91_36AA);
        assert_eq!(crc32c_update(!0, &[0xffu8; 32]) ^ !0, 0x62A8_AB43);
        assert_eq!(crc32c_update(!0, b"123456789") ^ !0, 0xE306_9283);
        let incremental = crc32c_update(crc32c_update(!0, b"1234"), b"56789") ^ !0;
        assert_eq!(incremental, 0xE306_9283);
    }

    #[test]
    fn torn_and_corrupt_tails_end_the_records() {
        let mut bytes = Vec::new();
        encode_record(&mut bytes, 1, b"one").expect("encode");
        encode_record(&mut bytes, 2, b"two").expect("encode");
        let whole = bytes.len();
        encode_record(&mut bytes, 3, b"three").expect("encode");
        // every truncation of the third record keeps exactly the first two
        for cut in whole..bytes.len() {
            let (records, used) = decode_records(&Bytes::copy_from_slice(&bytes[..cut]), 1);
            assert_eq!(records.len(), 2, "cut at {cut}");
            assert_eq!(used, whole);
        }
        let (records, _) = decode_records(&Bytes::from(bytes.clone()), 1);
        assert_eq!(records.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
        // a flipped bit in the second record ends the log after the first
        let mut corrupt = bytes.clone();
        corrupt[whole - 1] ^= 1;
        let (records, _) = decode_records(&Bytes::from(corrupt), 1);
        assert_eq!(records.len(), 1);
        // an absurd length is not trusted
        let mut huge = bytes[..whole].to_vec();
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        huge.extend_from_slice(&[0; 12]);
        assert_eq!(decode_records(&Bytes::from(huge), 1).0.len(), 2);
    }

    #[test]
    fn a_reused_file_keeps_only_its_new_records() {
        let dir = tempfile::tempdir().expect("tempdir");
        let record = |wal: &Wal, seq: u64, len: usize| {
            wal.append(seq, vec![Bytes::from(vec![b'a' + (seq % 26) as u8; len])]).expect("append");
            wal.wait_durable(seq).expect("durable");
        };
        let wal = Wal::create(dir.path(), 1, true).expect("create");
        for seq in 1..=20 {
            record(&wal, seq, 100);
        }
        assert_eq!(wal.rotate(21).expect("rotate"), 20);
        record(&wal, 21, 10);
        // the first file is done with: kept as the spare, not listed
        wal.remove_before(21).expect("remove");
        assert!(dir.path().join(SPARE).exists());
        assert_eq!(list_files(dir.path()).expect("list").len(), 1);
        // the next file is the spare written over: its first record is shorter than the old ones,
        // the second as long, so one old record starts right after the new ones
        assert_eq!(wal.rotate(22).expect("rotate"), 21);
        assert!(!dir.path().join(SPARE).exists());
        record(&wal, 22, 50);
        record(&wal, 23, 100 - 50 - HEADER);
        let contents = read_all(dir.path()).expect("read");
        let seqs: Vec<u64> = contents.records.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, vec![21, 22, 23]);
        assert!(contents.torn.is_empty(), "{:?}", contents.torn);
        // a torn record in a reused file ends its records too
        let path = dir.path().join(file_name(22));
        assert!(path.exists());
        let mut bytes = std::fs::read(&path).expect("read");
        let at = MAGIC.len() + HEADER + 50 + 4;
        bytes[at] ^= 0xff;
        std::fs::write(&path, &bytes).expect("write");
        let seqs: Vec<u64> = read_all(dir.path()).expect("read").records.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, vec![21, 22]);
        // closing cuts a reused current file after its records and drops the spare
        wal.rotate(24).expect("rotate");
        wal.remove_before(24).expect("remove");
        wal.rotate(25).expect("rotate");
        record(&wal, 25, 10);
        wal.remove_before(25).expect("remove");
        assert!(dir.path().join(SPARE).exists());
        wal.tidy();
        assert!(!dir.path().join(SPARE).exists());
        let current = dir.path().join(file_name(25));
        assert_eq!(std::fs::metadata(&current).expect("file").len(), (MAGIC.len() + HEADER + 10) as u64);
        let contents = read_all(dir.path()).expect("read");
        assert_eq!(contents.records.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![25]);
        assert!(contents.torn.is_empty());
    }

    #[test]
    fn group_commit_and_rotation() {
        let dir = tempfile::tempdir().expect("tempdir");
        let wal = Arc::new(Wal::create(dir.path(), 1, true).expect("create"));
        let lock = Arc::new(Mutex::new(1u64));
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let wal = wal.clone();
                let lock = lock.clone();
                std::thread::spawn(move || {
                    for k in 0..20 {
                        let seq = {
                            let mut next = lock.lock().expect("lock");
                            let seq = *next;
                            *next += 1;
                            wal.append(seq, vec![Bytes::from(format!("{i}-{k}"))]).expect("append");
                            seq
                        };
                        wal.wait_durable(seq).expect("durable");
                        assert!(wal.synced_seq() >= seq);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        assert_eq!(wal.synced_seq(), 160);
        // a payload of many parts (more than one write takes) is one record
        let parts: Vec<Bytes> = (0..3000).map(|i| Bytes::from(format!("{i},"))).collect();
        wal.append(161, parts.clone()).expect("append");
        assert_eq!(wal.rotate(162).expect("rotate"), 161);
        let contents = read_all(dir.path()).expect("read");
        let seqs: Vec<u64> = contents.records.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, (1..=161).collect::<Vec<_>>());
        assert!(contents.torn.is_empty());
        assert_eq!(contents.records.last().map(|r| r.payload.to_vec()), Some(parts.concat()));
        wal.remove_before(162).expect("remove");
        assert_eq!(list_files(dir.path()).expect("list").len(), 1);
        assert!(read_all(dir.path()).expect("read").records.is_empty());
    }
}
