//! Which source each sent track is, announced by the sender inside every offer and answer.
//!
//! A connection carries one transceiver per source (microphone, camera, screen, the screen's
//! audio). Kinds alone cannot tell a camera from a screen, so the `data` of `offer`/`answer` is
//! `{"type","sdp","sources":{"<mid>":"<source>"}}`: each transceiver `mid` that sends now, with
//! its source. A receiver files each incoming track by its transceiver's `mid`. A client that
//! sends no map (the original `{"type","sdp"}`) is read as "first audio is the microphone, first
//! video the camera"; names this version does not know are ignored, so new sources can be added
//! without breaking older clients.

use std::collections::BTreeMap;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::client::RelayKind;

/// Most `mid → source` entries read from one description: a call has at most four sources, so
/// anything beyond this is junk and is ignored rather than stored.
pub const MAX_SOURCES: usize = 16;

/// Longest `mid` kept; browsers use short numbers.
pub const MAX_MID_LEN: usize = 32;

/// What a track is, as the sender says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// The person's microphone.
    Microphone,
    /// The person's camera.
    Camera,
    /// A shared screen, window or tab.
    Screen,
    /// The audio of a shared tab or of the system, when the browser offers it.
    ScreenAudio,
}

impl Source {
    /// Every source, in a fixed order.
    pub const ALL: [Source; 4] = [
        Source::Microphone,
        Source::Camera,
        Source::Screen,
        Source::ScreenAudio,
    ];

    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Microphone => "microphone",
            Source::Camera => "camera",
            Source::Screen => "screen",
            Source::ScreenAudio => "screen-audio",
        }
    }

    /// The source for a wire name; `None` for names this version does not know.
    pub fn from_wire(name: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Part of a screen share (shown on the stage), not of the person's own tile.
    pub fn is_screen(self) -> bool {
        matches!(self, Source::Screen | Source::ScreenAudio)
    }

    /// Whether the track is audio (`true`) or video.
    pub fn is_audio(self) -> bool {
        matches!(self, Source::Microphone | Source::ScreenAudio)
    }
}

/// A description's `mid → source` map: bounded, and blind to names it does not know.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Sources(BTreeMap<String, Source>);

impl Sources {
    /// An empty map (a plain client's description).
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that transceiver `mid` sends `source`.
    pub fn insert(&mut self, mid: &str, source: Source) {
        if mid.len() <= MAX_MID_LEN && self.0.len() < MAX_SOURCES {
            self.0.insert(mid.to_owned(), source);
        }
    }

    /// The source transceiver `mid` sends, if announced.
    pub fn get(&self, mid: &str) -> Option<Source> {
        self.0.get(mid).copied()
    }

    /// No source was announced: read the description the original way (by kind).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The announced `(mid, source)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Source)> {
        self.0.iter().map(|(mid, source)| (mid.as_str(), *source))
    }
}

impl<'de> Deserialize<'de> for Sources {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Lenient;
        impl<'de> Visitor<'de> for Lenient {
            type Value = Sources;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of mid to source name")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Sources, A::Error> {
                let mut sources = Sources::new();
                while let Some(mid) = map.next_key::<String>()? {
                    // A value of any shape is read; only known names are kept.
                    match map.next_value::<NameOrOther>()? {
                        NameOrOther::Name(name) => {
                            if let Some(source) = Source::from_wire(&name) {
                                sources.insert(&mid, source);
                            }
                        }
                        NameOrOther::Other(IgnoredAny) => {}
                    }
                }
                Ok(sources)
            }
        }
        deserializer.deserialize_map(Lenient)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NameOrOther {
    Name(String),
    Other(IgnoredAny),
}

/// `offer` or `answer`: the `type` of a description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SdpType {
    /// An offer.
    Offer,
    /// An answer.
    Answer,
}

/// The `data` of an `offer` or `answer` frame: the browser's session description and the
/// sender's source map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Description {
    /// Offer or answer.
    #[serde(rename = "type")]
    pub kind: SdpType,
    /// The SDP text, as the browser made it.
    pub sdp: String,
    /// Which source each sending transceiver carries.
    pub sources: Sources,
}

#[derive(Deserialize)]
struct RawDescription {
    #[serde(rename = "type", default)]
    kind: Option<SdpType>,
    sdp: String,
    #[serde(default)]
    sources: Option<Sources>,
}

impl Description {
    /// Reads the `data` of a relayed `offer` or `answer` frame of `relay` kind. A missing `type`
    /// (the original design's examples) is taken from the frame; a missing map is empty.
    ///
    /// # Errors
    /// When `data` is not an object with a string `sdp`, its `type` is not `offer`/`answer`, or
    /// the frame is an `ice`.
    pub fn parse(data: &str, relay: RelayKind) -> Result<Description, serde_json::Error> {
        use serde::de::Error;
        let expected = match relay {
            RelayKind::Offer => SdpType::Offer,
            RelayKind::Answer => SdpType::Answer,
            RelayKind::Ice => return Err(serde_json::Error::custom("an ice frame has no sdp")),
        };
        let raw: RawDescription = serde_json::from_str(data)?;
        if raw.kind.is_some_and(|k| k != expected) {
            return Err(serde_json::Error::custom(
                "`type` differs from the frame's type",
            ));
        }
        Ok(Description {
            kind: expected,
            sdp: raw.sdp,
            sources: raw.sources.unwrap_or_default(),
        })
    }

    /// The JSON text to send as `data`.
    pub fn to_json(&self) -> String {
        // A struct of strings always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The frame kind that carries this description.
    pub fn relay_kind(&self) -> RelayKind {
        match self.kind {
            SdpType::Offer => RelayKind::Offer,
            SdpType::Answer => RelayKind::Answer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_its_source_map() {
        let mut sources = Sources::new();
        sources.insert("0", Source::Microphone);
        sources.insert("1", Source::Camera);
        sources.insert("3", Source::Screen);
        let d = Description {
            kind: SdpType::Offer,
            sdp: "v=0\r\n".into(),
            sources,
        };
        let text = d.to_json();
        assert_eq!(
            text,
            r#"{"type":"offer","sdp":"v=0\r\n","sources":{"0":"microphone","1":"camera","3":"screen"}}"#
        );
        assert_eq!(Description::parse(&text, RelayKind::Offer).unwrap(), d);
    }

    #[test]
    fn a_plain_clients_description_has_an_empty_map() {
        let d = Description::parse(r#"{"type":"answer","sdp":"x"}"#, RelayKind::Answer).unwrap();
        assert!(d.sources.is_empty());
        // The original design's example has no `type` at all.
        let d = Description::parse(r#"{"sdp":"test"}"#, RelayKind::Offer).unwrap();
        assert_eq!(d.kind, SdpType::Offer);
    }

    #[test]
    fn unknown_names_and_shapes_are_ignored() {
        let d = Description::parse(
            r#"{"type":"offer","sdp":"x","sources":{"0":"microphone","1":"hologram","2":7,"3":{"a":[1]},"4":"screen-audio"}}"#,
            RelayKind::Offer,
        )
        .unwrap();
        let kept: Vec<_> = d.sources.iter().collect();
        assert_eq!(
            kept,
            vec![("0", Source::Microphone), ("4", Source::ScreenAudio)]
        );
    }

    #[test]
    fn the_map_is_bounded() {
        let entries: Vec<String> = (0..1000).map(|i| format!(r#""{i}":"camera""#)).collect();
        let long_mid = "m".repeat(MAX_MID_LEN + 1);
        let text = format!(
            r#"{{"type":"offer","sdp":"x","sources":{{"{long_mid}":"screen",{}}}}}"#,
            entries.join(",")
        );
        let d = Description::parse(&text, RelayKind::Offer).unwrap();
        assert_eq!(d.sources.iter().count(), MAX_SOURCES);
        assert_eq!(d.sources.get(&long_mid), None);
    }

    #[test]
    fn refuses_what_cannot_be_a_description() {
        assert!(Description::parse(r#"{"type":"offer"}"#, RelayKind::Offer).is_err());
        assert!(Description::parse(r#"{"type":"answer","sdp":"x"}"#, RelayKind::Offer).is_err());
        assert!(Description::parse(r#"{"type":"rollback","sdp":"x"}"#, RelayKind::Offer).is_err());
        assert!(Description::parse(r#"{"sdp":"x"}"#, RelayKind::Ice).is_err());
        assert!(Description::parse("[1]", RelayKind::Offer).is_err());
        assert!(Description::parse(r#"{"sdp":"x","sources":[1]}"#, RelayKind::Offer).is_err());
    }

    #[test]
    fn wire_names_match_serde() {
        for s in Source::ALL {
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
            assert_eq!(Source::from_wire(s.as_str()), Some(s));
        }
        assert!(Source::Screen.is_screen() && Source::ScreenAudio.is_audio());
        assert!(!Source::Camera.is_screen() && !Source::Camera.is_audio());
    }
}
