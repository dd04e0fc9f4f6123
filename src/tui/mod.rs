//! The set-up wizard: a message-driven ratatui app (model, messages, update, view) whose
//! network work runs in background tasks that report back as messages.

pub mod theme;
pub mod widgets;
