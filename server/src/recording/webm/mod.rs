//! WebM: the EBML reader/writer, the finalizer that makes live recordings seekable, and the
//! verifier that checks its output.

pub mod ebml;
pub mod finalize;
pub mod verify;

pub use finalize::{finalize, FinalizeError, Summary};
pub use verify::{verify, Verified};
