//! The log file, rotated by size: `pingshen.log` grows to `log_max_mb`, then becomes
//! `pingshen.log.1` (the older ones shift up to `log_keep`, the oldest is dropped) and a new
//! one starts. A flood of requests costs at most (log_keep + 1) × log_max_mb of disk, which
//! sits beside the database: a full disk would stop vote writes.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct RotatingFile {
    path: PathBuf,
    max_bytes: u64,
    keep: usize,
    file: File,
    written: u64,
    /// The line being written: the logger writes a line in a dozen pieces (time, level,
    /// target, message); it goes to the file in one write, and rotation falls between lines.
    pending: Vec<u8>,
}

/// A line longer than this (no newline yet) is written out as it is.
const PENDING_MAX: usize = 64 * 1024;

fn numbered(path: &Path, n: usize) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

impl RotatingFile {
    pub fn open(path: &Path, max_bytes: u64, keep: usize) -> std::io::Result<RotatingFile> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let written = file.metadata()?.len();
        Ok(RotatingFile {
            path: path.to_path_buf(),
            max_bytes: max_bytes.max(4096),
            keep,
            file,
            written,
            pending: Vec::new(),
        })
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        self.file.flush()?;
        if self.keep == 0 {
            self.file.set_len(0)?;
        } else {
            for n in (1..self.keep).rev() {
                let from = numbered(&self.path, n);
                if from.exists() {
                    std::fs::rename(&from, numbered(&self.path, n + 1))?;
                }
            }
            std::fs::rename(&self.path, numbered(&self.path, 1))?;
        }
        self.file = OpenOptions::new().create(true).append(true).open(&self.path)?;
        self.written = 0;
        Ok(())
    }
}

impl RotatingFile {
    /// Writes out the first `n` pending bytes, rotating first if they would not fit.
    fn emit(&mut self, n: usize) -> std::io::Result<()> {
        if self.written > 0 && self.written + n as u64 > self.max_bytes {
            self.rotate()?;
        }
        let result = self.file.write_all(&self.pending[..n]);
        // Dropped even on failure (disk full): a log must not grow in memory instead.
        self.pending.drain(..n);
        result?;
        self.written += n as u64;
        Ok(())
    }
}

impl Write for RotatingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if let Some(end) = memchr::memrchr(b'\n', &self.pending) {
            self.emit(end + 1)?;
        }
        if self.pending.len() > PENDING_MAX {
            self.emit(self.pending.len())?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            self.emit(self.pending.len())?;
        }
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_rotates_by_size_and_keeps_a_bounded_count() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pingshen.log");
        let mut f = RotatingFile::open(&path, 10_000, 2).unwrap();
        let line = [b'x'; 99];
        for _ in 0..1_000 {
            f.write_all(&line).unwrap();
            f.write_all(b"\n").unwrap();
        }
        f.flush().unwrap();
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        assert!(size(&path) <= 10_000 && size(&numbered(&path, 1)) <= 10_000 && size(&numbered(&path, 2)) <= 10_000);
        assert!(size(&numbered(&path, 1)) > 9_000, "rotated when full");
        assert!(!numbered(&path, 3).exists(), "only log_keep old files");
        for p in [path.clone(), numbered(&path, 1), numbered(&path, 2)] {
            let text = std::fs::read(&p).unwrap();
            assert!(text.len() % 100 == 0 && text.ends_with(b"\n"), "{}: whole lines only", p.display());
        }
    }

    /// The logger writes a line in pieces: the file gets it in one write, and nothing is held
    /// back once the line is complete.
    #[test]
    fn a_line_written_in_pieces_reaches_the_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pingshen.log");
        let mut f = RotatingFile::open(&path, 1 << 20, 1).unwrap();
        for piece in ["08:00:00 ", "[INFO] ", "pingshen: ", "GET /"] {
            f.write_all(piece.as_bytes()).unwrap();
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "", "an unfinished line waits");
        f.write_all(b" 200\nnext").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "08:00:00 [INFO] pingshen: GET / 200\n");
        f.flush().unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().ends_with("next"));
    }
}
