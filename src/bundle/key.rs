//! The appliance's Ed25519 signing key, in minisign's formats (so the office can also check a
//! bundle with the standard `minisign` tool). Made at first start; the secret key file is
//! readable by the service user only.

use crate::error::{Error, Result};
use minisign::{KeyPair, PublicKey, PublicKeyBox, SecretKey, SecretKeyBox};
use sha2::{Digest, Sha256};
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

    /// A minisign signature of `bytes` with a trusted comment — the one way the appliance signs
    /// anything (the bundle's SHA256SUMS, the handover and wipe records), so `minisign -Vm`
    /// checks each the same way.
    pub fn sign(&self, bytes: &[u8], trusted: &str) -> Result<String> {
        Ok(minisign::sign(
            Some(&self.pk),
            &self.sk,
            std::io::Cursor::new(bytes),
            Some(trusted),
            Some("signature from pingshen appliance key"),
        )
        .map_err(Error::internal)?
        .into_string())
    }
}

pub fn key_id(pk: &PublicKey) -> String {
    let bytes = pk.to_bytes();
    // Layout: 2 bytes algorithm, 8 bytes key number, 32 bytes key.
    let mut num = [0u8; 8];
    num.copy_from_slice(&bytes[2..10]);
    format!("{:016X}", u64::from_le_bytes(num))
}

/// SHA-256 of the public key, in groups of four for reading aloud or comparing on paper.
pub fn fingerprint(pk: &PublicKey) -> String {
    let h = hex::encode(Sha256::digest(pk.to_bytes()));
    h.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

fn paths(data_dir: &Path) -> (PathBuf, PathBuf) {
    (data_dir.join(SECRET_FILE), data_dir.join(PUBLIC_FILE))
}

pub fn load(data_dir: &Path) -> Result<Option<Key>> {
    let (skp, pkp) = paths(data_dir);
    if !skp.exists() {
        return Ok(None);
    }
    let sk_text = std::fs::read_to_string(&skp)?;
    let sk = SecretKeyBox::from_string(&sk_text)
        .and_then(SecretKey::from_unencrypted_box)
        .map_err(|e| Error::internal(format!("secret key {}: {e}", skp.display())))?;
    let pk_text = std::fs::read_to_string(&pkp)?;
    let pk = PublicKeyBox::from_string(&pk_text)
        .and_then(|b| b.into_public_key())
        .map_err(|e| Error::internal(format!("public key {}: {e}", pkp.display())))?;
    Ok(Some(Key { sk, pk }))
}

/// Loads the key, making it first if there is none. Returns (key, made now).
pub fn load_or_create(data_dir: &Path) -> Result<(Key, bool)> {
    if let Some(k) = load(data_dir)? {
        return Ok((k, false));
    }
    std::fs::create_dir_all(data_dir)?;
    let kp = KeyPair::generate_unencrypted_keypair().map_err(Error::internal)?;
    let (skp, pkp) = paths(data_dir);
    let sk_box = kp.sk.to_box(Some("pingshen appliance secret key")).map_err(Error::internal)?;
    write_private(&skp, sk_box.to_string().as_bytes())?;
    let pk_box = kp.pk.to_box().map_err(Error::internal)?;
    std::fs::write(&pkp, pk_box.to_string())?;
    log::info!("appliance signing key created: {}", key_id(&kp.pk));
    Ok((Key { sk: kp.sk, pk: kp.pk }, true))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// A public key given on the command line: the base64 string itself, or a file holding it
/// (a minisign `.pub` file or just the key).
pub fn parse_public(arg: &str) -> std::result::Result<PublicKey, String> {
    let text = if Path::new(arg).is_file() {
        std::fs::read_to_string(arg).map_err(|e| format!("cannot read {arg}: {e}"))?
    } else {
        arg.to_string()
    };
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("untrusted comment:"))
        .ok_or("empty public key")?;
    PublicKey::from_base64(line).map_err(|e| format!("not a minisign public key: {e}"))
}
