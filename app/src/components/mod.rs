//! The call's building blocks. Each reads [`crate::state::CallUi`] from context and asks for
//! changes through [`crate::actions`].

mod call_view;
mod chat;
mod controls;
mod lobby;
mod stage;
mod tile;
mod video;

#[cfg(feature = "hydrate")]
pub use call_view::lazy_call_layer;
#[cfg(not(feature = "hydrate"))]
pub use call_view::CallLayer;
pub use lobby::Lobby;
#[cfg(feature = "hydrate")]
pub use video::StreamSource;
