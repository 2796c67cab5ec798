//! Small helpers every layer needs: random tokens (ballot ids, session ids, seeds) and SHA-256
//! in hex. At the bottom of the crate so that no domain module imports another for them.

use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// 32 random bytes from the OS, hex: one syscall per token (a venue submits 500 at once).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 in hex of everything `r` yields, streamed (a bundle, a spooled upload), with its size.
pub fn sha256_reader(mut r: impl std::io::Read) -> std::io::Result<(u64, String)> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            return Ok((size, hex::encode(h.finalize())));
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
}
