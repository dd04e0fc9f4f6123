//! Where everything is on screen: computed with the frame, kept in the model once drawn, so a
//! mouse click is matched against what the person actually saw.

use ratatui::layout::{Position, Rect};
use ratatui::text::Line;

use crate::tui::field::{Field, Step};

/// Where everything is on screen for the model's current state and size.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layout {
    pub steps: Vec<(Rect, Step)>,
    pub fields: Vec<(Field, Rect)>,
    pub infos: Vec<(Rect, Vec<Line<'static>>)>,
    pub labels: Vec<(Rect, Field, String)>,
    pub form: Rect,
    pub pane: Option<Rect>,
    /// Sample index and the screen rows it covers in the pane.
    pub samples: Vec<(usize, u16, u16)>,
    pub help_bar: Rect,
    pub notice: Rect,
}

impl Layout {
    pub fn rect_of(&self, field: Field) -> Option<Rect> {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, r)| *r)
    }

    pub fn field_at(&self, at: Position) -> Option<Field> {
        if let Some((field, _)) = self.fields.iter().find(|(_, r)| r.contains(at)) {
            return Some(*field);
        }
        // A click on a label focuses its field too.
        self.labels
            .iter()
            .find(|(r, _, _)| r.contains(at))
            .map(|(_, f, _)| *f)
    }

    pub fn sample_at(&self, y: u16) -> Option<usize> {
        self.samples
            .iter()
            .find(|(_, a, b)| y >= *a && y < *b)
            .map(|(i, _, _)| *i)
    }
}
