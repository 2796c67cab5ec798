//! The appliance's Ed25519 signing key, in minisign's formats (so the office can also check a
//! bundle with the standard `minisign` tool). Made at first start; the secret key file is
//! readable by the service user only.

use crate::error::Result;
use minisign::{PublicKey, SecretKey};
use std::path::{Path, PathBuf};

pub use crate::store::{KEY_PUBLIC_FILE as PUBLIC_FILE, KEY_SECRET_FILE as SECRET_FILE};

pub struct Key {
    pub sk: SecretKey,
    pub pk: PublicKey,
}

impl Key {
    /// minisign's key id: the 8-byte key number, printed as 16 hex digits.
    pub fn id(&self) -> String {
        key_id(&self.pk)
    }
    /// The base64 public key, as `minisign -P` takes it.
    pub fn public_base64(&self) -> String {
        self.pk.to_base64()
    }
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.pk)
    }

    /// A minisign signature of `bytes` with a trusted comment: the bundle's SHA256SUMS, the
    /// handover and wipe records (`sign::Keys::sign`, the one signing path).
    pub fn sign(&self, bytes: &[u8], trusted: &str) -> Result<String> {
        let keys = crate::sign::Keys { sk: self.sk.clone(), pk: self.pk.clone() };
        keys.sign(bytes, trusted, "signature from pingshen appliance key")
    }
}

pub use crate::sign::{fingerprint, key_id, parse_public};

fn paths(data_dir: &Path) -> (PathBuf, PathBuf) {
    (data_dir.join(SECRET_FILE), data_dir.join(PUBLIC_FILE))
}

pub fn load(data_dir: &Path) -> Result<Option<Key>> {
    let (skp, pkp) = paths(data_dir);
    Ok(crate::sign::load(&skp, &pkp)?.map(|k| Key { sk: k.sk, pk: k.pk }))
}

/// Loads the key, making it first if there is none. Returns (key, made now).
pub fn load_or_create(data_dir: &Path) -> Result<(Key, bool)> {
    if let Some(k) = load(data_dir)? {
        return Ok((k, false));
    }
    std::fs::create_dir_all(data_dir)?;
    let (skp, pkp) = paths(data_dir);
    let k = crate::sign::create(&skp, &pkp, "pingshen appliance secret key")?;
    log::info!("appliance signing key created: {}", key_id(&k.pk));
    Ok((Key { sk: k.sk, pk: k.pk }, true))
}
