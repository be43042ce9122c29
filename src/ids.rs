//! Room and peer ids: newtypes that can only hold a valid id.
//!
//! Ids arrive in URLs and frames from untrusted clients; parsing them once into these types means
//! nothing downstream has to re-check them, and logs and metrics never carry junk.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::limits::MAX_ID_LEN;

/// The `from` of frames the server itself originates (`welcome`, `new-peer`, `peer-left`, `error`).
pub const SERVER_SENDER: &str = "server";

/// Why a string is not a valid id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdError {
    /// The id is empty.
    Empty,
    /// The id is longer than [`MAX_ID_LEN`] bytes.
    TooLong,
    /// The id holds a character outside `A-Z a-z 0-9 _ -`.
    BadChar,
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdError::Empty => write!(f, "must not be empty"),
            IdError::TooLong => write!(f, "must be at most {MAX_ID_LEN} characters"),
            IdError::BadChar => write!(f, "may only contain A-Z, a-z, 0-9, '_' and '-'"),
        }
    }
}

impl std::error::Error for IdError {}

/// Checks the id rules of PROTOCOL.md: 1–64 characters of `A-Z a-z 0-9 _ -`.
fn validate(s: &str) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty);
    }
    if s.len() > MAX_ID_LEN {
        return Err(IdError::TooLong);
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(IdError::BadChar);
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses an untrusted string.
            ///
            /// # Errors
            /// [`IdError`] when the string breaks the id rules.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                validate(s)?;
                Ok(Self(s.to_owned()))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                validate(&s).map_err(serde::de::Error::custom)?;
                Ok(Self(s))
            }
        }
    };
}

id_type!(
    /// A room's id, as in `/room/{id}` and `/ws/{room}/{peer}`.
    RoomId
);
id_type!(
    /// A peer's id within a room, chosen by the client and unique in that room.
    PeerId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_charset() {
        assert!(RoomId::parse("room-1").is_ok());
        assert!(PeerId::parse("A_z-09").is_ok());
        assert!(RoomId::parse(&"x".repeat(64)).is_ok());
    }

    #[test]
    fn rejects_bad_ids() {
        assert_eq!(RoomId::parse(""), Err(IdError::Empty));
        assert_eq!(RoomId::parse(&"x".repeat(65)), Err(IdError::TooLong));
        for bad in ["a b", "a/b", "ä", "<script>", "a.b", "a%20"] {
            assert_eq!(PeerId::parse(bad), Err(IdError::BadChar), "{bad}");
        }
    }

    #[test]
    fn deserialize_validates() {
        assert!(serde_json::from_str::<PeerId>("\"ok\"").is_ok());
        assert!(serde_json::from_str::<PeerId>("\"not ok\"").is_err());
        assert!(serde_json::from_str::<PeerId>("3").is_err());
    }
}
