//! One module per page.

mod home;
mod not_found;
mod recordings;
mod room;

pub use home::HomePage;
pub use not_found::NotFound;
pub use recordings::RecordingsPage;
pub use room::RoomPage;
