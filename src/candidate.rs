//! The `data` of an `ice` frame: one ICE candidate, as the browser's `RTCIceCandidate.toJSON()`
//! writes it.

use serde::{Deserialize, Serialize};

/// An ICE candidate from the other side. Only its shape is checked; the browser judges the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    /// The `candidate:` line (empty for an end-of-candidates marker).
    pub candidate: String,
    /// The media section it belongs to, by `mid`.
    #[serde(default)]
    pub sdp_mid: Option<String>,
    /// The media section it belongs to, by index.
    #[serde(default, rename = "sdpMLineIndex")]
    pub sdp_m_line_index: Option<u16>,
    /// The ICE ufrag it was gathered for (tells candidates of an ICE restart apart).
    #[serde(default)]
    pub username_fragment: Option<String>,
}

impl Candidate {
    /// Reads the `data` of an `ice` frame.
    ///
    /// # Errors
    /// When it is not an object with a string `candidate`.
    pub fn parse(data: &str) -> Result<Candidate, serde_json::Error> {
        serde_json::from_str(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_chromium_writes() {
        let c = Candidate::parse(
            r#"{"candidate":"candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"abcd"}"#,
        )
        .unwrap();
        assert_eq!(c.sdp_mid.as_deref(), Some("0"));
        assert_eq!(c.sdp_m_line_index, Some(0));
        assert_eq!(c.username_fragment.as_deref(), Some("abcd"));
        let back: Candidate = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn optional_fields_may_be_missing_or_null() {
        let c = Candidate::parse(r#"{"candidate":"","sdpMid":null}"#).unwrap();
        assert_eq!(c.sdp_mid, None);
        assert!(Candidate::parse(r#"{"sdpMid":"0"}"#).is_err());
        assert!(Candidate::parse(r#"{"candidate":"x","sdpMLineIndex":-1}"#).is_err());
    }
}
