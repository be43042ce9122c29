//! Opaque JSON payloads that the server relays without looking inside.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A JSON value kept as the sender wrote it: relaying an SDP never parses or re-encodes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// Wraps already-valid JSON text.
    ///
    /// # Errors
    /// When `text` is not valid JSON.
    pub fn from_text(text: String) -> Result<Self, serde_json::Error> {
        RawValue::from_string(text).map(RawJson)
    }

    /// Encodes a value.
    pub fn from_value(value: &serde_json::Value) -> Self {
        // A `Value` always encodes to valid JSON.
        RawJson(
            serde_json::value::to_raw_value(value).unwrap_or_else(|_| RawValue::NULL.to_owned()),
        )
    }

    /// Decodes into a typed value.
    ///
    /// # Errors
    /// When the JSON does not have that shape.
    pub fn parse<T: for<'de> Deserialize<'de>>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }
}

impl From<Box<RawValue>> for RawJson {
    fn from(raw: Box<RawValue>) -> Self {
        RawJson(raw)
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}
