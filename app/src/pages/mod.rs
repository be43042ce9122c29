//! One module per page.

mod check;
mod home;
mod not_found;
mod recordings;
mod room;

pub use check::CheckPage;
pub use home::HomePage;
pub use not_found::NotFound;
pub use recordings::RecordingsPage;
pub use room::RoomPage;
