//! Finalizing one stored recording: chunks → seekable WebM in a scratch file → verified →
//! published. The chunks are never changed, so this can run again at any time.

use std::fmt;
use std::io::{BufWriter, Seek, SeekFrom};

use super::store::{Key, Storage};
use super::webm::{self, FinalizeError, Summary};

/// Why a recording has no (new) file.
#[derive(Debug)]
pub enum Error {
    /// The chunks hold no playable media.
    Finalize(FinalizeError),
    /// The output failed verification: not published.
    Verify(String),
    /// Storage failed.
    Io(std::io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Finalize(e) => write!(f, "finalize: {e}"),
            Error::Verify(e) => write!(f, "verify: {e}"),
            Error::Io(e) => write!(f, "storage: {e}"),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

/// Finalizes chunks `0..count` of `key` and publishes the file once it verifies.
///
/// # Errors
/// [`Error`]; the scratch file is removed and any earlier file stays.
pub fn run(storage: &dyn Storage, key: &Key, count: u64) -> Result<Summary, Error> {
    let input = storage.read_chunks(key, count)?;
    let (file, scratch) = storage.scratch(key)?;
    let result = (|| {
        let mut out = BufWriter::with_capacity(256 * 1024, file);
        let summary = webm::finalize(input, &mut out).map_err(Error::Finalize)?;
        let mut file = out.into_inner().map_err(|e| Error::Io(e.into_error()))?;
        file.seek(SeekFrom::Start(0))?;
        let reader = std::io::BufReader::with_capacity(256 * 1024, &file);
        let verified = webm::verify(reader, summary.bytes).map_err(Error::Verify)?;
        if verified.blocks != summary.blocks {
            return Err(Error::Verify(format!(
                "wrote {} blocks, read back {}",
                summary.blocks, verified.blocks
            )));
        }
        storage.publish_final(key, &scratch)?;
        Ok(summary)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&scratch);
    }
    result
}
