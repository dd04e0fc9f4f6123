//! The set-up wizard: a message-driven ratatui app (model, messages, update, view) whose
//! network work runs in background tasks that report back as messages.

pub mod dataset;
pub mod focus;
pub mod keys;
pub mod model;
pub mod msg;
pub mod pane;
pub mod theme;
pub mod update;
pub mod view;
pub mod widgets;

pub use model::{Init, Model};
pub use msg::{Cmd, Msg};
pub use update::update;
pub use view::view;
