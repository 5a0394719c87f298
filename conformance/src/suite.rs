//! The suite a run uses: the features and the requirement index compiled into the
//! binary (so `oauth2-conformance` works from any directory, with no checkout), or a
//! folder given with `--features` (for people writing features).
//!
//! cucumber reads features from files, so the embedded suite is written to a private
//! temporary folder for the run and deleted afterwards. Either way the run records the
//! suite's [digest](Suite::digest): a short hash of every file's path and content, the
//! same for the embedded copy and for a folder with the same files, so two results
//! with the same digest ran the same suite.

use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use sha2::{Digest as _, Sha256};

/// The repository's `features/` folder as it was when the binary was built.
static FEATURES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../features");

/// Where a run's features come from.
#[derive(Debug)]
pub enum Suite {
    /// The features compiled into the binary, written out to a temporary folder.
    Embedded {
        /// The folder holding them; removed when the suite is dropped.
        dir: tempfile::TempDir,
        /// Their digest.
        digest: String,
    },
    /// A features folder on disk.
    Folder {
        /// The folder.
        path: PathBuf,
        /// Its digest.
        digest: String,
    },
}

/// Every file of the embedded suite: its path relative to `features/` (with `/`) and
/// its content, sorted by path.
fn embedded_files() -> Vec<(String, &'static [u8])> {
    fn walk(dir: &Dir<'static>, out: &mut Vec<(String, &'static [u8])>) {
        for f in dir.files() {
            out.push((slashed(f.path()), f.contents()));
        }
        for d in dir.dirs() {
            walk(d, out);
        }
    }
    let mut out = Vec::new();
    walk(&FEATURES, &mut out);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn slashed(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// The digest of a suite given as sorted `(path, content)` pairs: the first 12 hex
/// digits of SHA-256 over each path and content, length-prefixed.
fn digest_of<'a>(files: impl Iterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut h = Sha256::new();
    for (path, content) in files {
        h.update((path.len() as u64).to_be_bytes());
        h.update(path.as_bytes());
        h.update((content.len() as u64).to_be_bytes());
        h.update(content);
    }
    h.finalize()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The digest of the features compiled into this binary.
pub fn embedded_digest() -> String {
    let files = embedded_files();
    digest_of(files.iter().map(|(p, c)| (p.as_str(), *c)))
}

/// The digest of a features folder (every file under it, as for the embedded copy).
pub fn folder_digest(root: &Path) -> std::io::Result<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
        for e in std::fs::read_dir(dir)? {
            let p = e?.path();
            if p.is_dir() {
                walk(root, &p, out)?;
            } else {
                let rel = p.strip_prefix(root).unwrap_or(&p);
                out.push((slashed(rel), std::fs::read(&p)?));
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(root, root, &mut files)?;
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(digest_of(
        files.iter().map(|(p, c)| (p.as_str(), c.as_slice())),
    ))
}

impl Suite {
    /// The embedded features, written to a fresh temporary folder.
    pub fn embedded() -> std::io::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("oauth2-conformance-features-")
            .tempdir()?;
        for (path, content) in embedded_files() {
            let to = dir.path().join(&path);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(to, content)?;
        }
        Ok(Self::Embedded {
            dir,
            digest: embedded_digest(),
        })
    }

    /// A features folder on disk; an error when it is not a readable folder.
    pub fn folder(path: &Path) -> std::io::Result<Self> {
        if !path.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("no features folder at {}", path.display()),
            ));
        }
        Ok(Self::Folder {
            path: path.to_owned(),
            digest: folder_digest(path)?,
        })
    }

    /// The folder cucumber reads.
    pub fn path(&self) -> &Path {
        match self {
            Self::Embedded { dir, .. } => dir.path(),
            Self::Folder { path, .. } => path,
        }
    }

    /// The suite's digest.
    pub fn digest(&self) -> &str {
        match self {
            Self::Embedded { digest, .. } | Self::Folder { digest, .. } => digest,
        }
    }

    /// Where the features come from, for a report: `embedded` or the folder.
    pub fn source(&self) -> String {
        match self {
            Self::Embedded { .. } => "embedded".to_owned(),
            Self::Folder { path, .. } => path.display().to_string(),
        }
    }
}

/// The text `--version` prints: the suite's version and the embedded features' digest.
pub fn version_text() -> String {
    format!(
        "{} (features {})",
        env!("CARGO_PKG_VERSION"),
        embedded_digest()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded copy holds the requirement index and the features, and writing it
    /// out gives a folder with the same digest.
    #[test]
    fn embedded_copy_round_trips() {
        let files = embedded_files();
        assert!(files.iter().any(|(p, _)| p == "requirements.tsv"));
        assert!(
            files
                .iter()
                .filter(|(p, _)| p.ends_with(".feature"))
                .count()
                > 10
        );
        // Built from the checkout's features, the embedded copy has their digest.
        let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../features");
        assert_eq!(folder_digest(&checkout).unwrap(), embedded_digest());
        let suite = Suite::embedded().unwrap();
        assert!(suite.path().join("requirements.tsv").is_file());
        assert_eq!(folder_digest(suite.path()).unwrap(), suite.digest());
        assert_eq!(suite.digest().len(), 12);
        let dir = suite.path().to_owned();
        drop(suite);
        assert!(!dir.exists(), "the temporary copy is removed");
    }

    /// The digest changes with any byte of any file, and with a file's name.
    #[test]
    fn digest_sees_every_change() {
        let a = digest_of([("a.feature", &b"x"[..]), ("b.tsv", b"y")].into_iter());
        let b = digest_of([("a.feature", &b"x"[..]), ("b.tsv", b"z")].into_iter());
        let c = digest_of([("c.feature", &b"x"[..]), ("b.tsv", b"y")].into_iter());
        let d = digest_of([("a.featur", &b"ex"[..]), ("b.tsv", b"y")].into_iter());
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d, "path and content are delimited");
    }
}
