//! minisign keys and signatures, for every signer in the chain: the appliance (its bundle and
//! records, `bundle::key`) and the title office (the packages it issues, `office`). minisign's
//! formats throughout, so standard tools check every link: `minisign -Vm FILE -P KEY`.

use crate::error::{Error, Result};
use minisign::{KeyPair, PublicKey, PublicKeyBox, SecretKey, SecretKeyBox, SignatureBox};
use sha2::{Digest, Sha256};
use std::path::Path;

/// A key pair as loaded from its two files.
pub struct Keys {
    pub sk: SecretKey,
    pub pk: PublicKey,
}

impl Keys {
    /// A minisign signature of `bytes` with a trusted comment — the one way anything here is
    /// signed, so `minisign -Vm` checks each the same way.
    pub fn sign(&self, bytes: &[u8], trusted: &str, untrusted: &str) -> Result<String> {
        Ok(minisign::sign(Some(&self.pk), &self.sk, std::io::Cursor::new(bytes), Some(trusted), Some(untrusted))
            .map_err(Error::internal)?
            .into_string())
    }
}

/// minisign's key id: the 8-byte key number, printed as 16 hex digits.
pub fn key_id(pk: &PublicKey) -> String {
    let bytes = pk.to_bytes();
    // Layout: 2 bytes algorithm, 8 bytes key number, 32 bytes key.
    let mut num = [0u8; 8];
    num.copy_from_slice(&bytes[2..10]);
    format!("{:016X}", u64::from_le_bytes(num))
}

/// The key id a signature names (which key made it, before checking it).
pub fn signature_key_id(sig: &SignatureBox) -> String {
    let mut num = [0u8; 8];
    num.copy_from_slice(&sig.keynum()[..8]);
    format!("{:016X}", u64::from_le_bytes(num))
}

/// SHA-256 of the public key, in groups of four for reading aloud or comparing on paper.
pub fn fingerprint(pk: &PublicKey) -> String {
    let h = hex::encode(Sha256::digest(pk.to_bytes()));
    h.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

/// Loads a key pair from its secret and public key files; `None` when the secret key file is
/// not there.
pub fn load(secret: &Path, public: &Path) -> Result<Option<Keys>> {
    if !secret.exists() {
        return Ok(None);
    }
    let sk_text = std::fs::read_to_string(secret)?;
    let sk = SecretKeyBox::from_string(&sk_text)
        .and_then(SecretKey::from_unencrypted_box)
        .map_err(|e| Error::internal(format!("secret key {}: {e}", secret.display())))?;
    let pk_text = std::fs::read_to_string(public)?;
    let pk = PublicKeyBox::from_string(&pk_text)
        .and_then(|b| b.into_public_key())
        .map_err(|e| Error::internal(format!("public key {}: {e}", public.display())))?;
    Ok(Some(Keys { sk, pk }))
}

/// Makes a new key pair and writes it: the secret key readable by its owner only (0600, never
/// over an existing file), the public key beside it.
pub fn create(secret: &Path, public: &Path, comment: &str) -> Result<Keys> {
    let kp = KeyPair::generate_unencrypted_keypair().map_err(Error::internal)?;
    let sk_box = kp.sk.to_box(Some(comment)).map_err(Error::internal)?;
    write_private(secret, sk_box.to_string().as_bytes())?;
    let pk_box = kp.pk.to_box().map_err(Error::internal)?;
    std::fs::write(public, pk_box.to_string())?;
    Ok(Keys { sk: kp.sk, pk: kp.pk })
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

/// A public key given on the command line or in the config: the base64 string itself, or a
/// file holding it (a minisign `.pub` file or just the key).
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

/// Why a detached signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Not a minisign signature at all.
    Unreadable(String),
    /// Made by another key (its id).
    OtherKey(String),
    /// The right key, but the bytes are not the ones it signed.
    Altered,
}

/// Checks a detached minisign signature of `data` against `pk`; returns its trusted comment.
pub fn verify_detached(
    pk: &PublicKey,
    sig_text: &str,
    data: impl std::io::Read + std::io::Seek,
) -> std::result::Result<String, Refused> {
    let sig = SignatureBox::from_string(sig_text).map_err(|e| Refused::Unreadable(e.to_string()))?;
    let by = signature_key_id(&sig);
    if by != key_id(pk) {
        return Err(Refused::OtherKey(by));
    }
    minisign::verify(pk, &sig, data, true, false, false).map_err(|_| Refused::Altered)?;
    sig.trusted_comment().map_err(|e| Refused::Unreadable(e.to_string()))
}
