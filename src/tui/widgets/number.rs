//! A whole-number field with a range: digits are typed into a text field, and the value is
//! either a number within the range or a message saying what would be right.

use std::ops::RangeInclusive;

use crossterm::event::KeyEvent;

use super::{Hint, Outcome, TextInput, hint};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberInput {
    input: TextInput,
    range: RangeInclusive<u64>,
    /// What the number counts, for the error ("requests per minute").
    unit: &'static str,
}

impl NumberInput {
    pub fn new(value: u64, range: RangeInclusive<u64>, unit: &'static str) -> Self {
        Self {
            input: TextInput::new(value.to_string()),
            range,
            unit,
        }
    }

    pub fn set(&mut self, value: u64) {
        self.input.set_value(value.to_string());
    }

    pub fn range(&self) -> &RangeInclusive<u64> {
        &self.range
    }

    /// The number typed, or why it cannot be used.
    pub fn value(&self) -> Result<u64, String> {
        let text = self.input.value().trim();
        let (low, high) = (*self.range.start(), *self.range.end());
        let expected = format!(
            "expected a whole number of {} from {low} to {high}",
            self.unit
        );
        match text.parse::<u64>() {
            Ok(n) if self.range.contains(&n) => Ok(n),
            Ok(n) => Err(format!("{n} is out of range: {expected}")),
            Err(_) if text.is_empty() => Err(expected),
            Err(_) => Err(format!("{text:?} is not a number: {expected}")),
        }
    }

    pub fn text_input(&self) -> &TextInput {
        &self.input
    }

    pub fn text_input_mut(&mut self) -> &mut TextInput {
        &mut self.input
    }

    /// Up and Down step the number within its range; other keys edit the text.
    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        use crossterm::event::KeyCode;
        let step = match key.code {
            KeyCode::Up => Some(1i64),
            KeyCode::Down => Some(-1i64),
            _ => None,
        };
        if let Some(step) = step
            && let Ok(current) = self.value()
        {
            let next = current
                .saturating_add_signed(step)
                .clamp(*self.range.start(), *self.range.end());
            if next == current {
                return Outcome::Handled;
            }
            self.set(next);
            return Outcome::Changed;
        }
        self.input.handle_key(key)
    }

    pub fn hints(&self) -> Vec<Hint> {
        let mut hints = vec![hint("↑↓", "step")];
        hints.extend(self.input.hints());
        hints
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn a_value_outside_the_range_or_not_a_number_says_what_is_expected() {
        let mut n = NumberInput::new(4, 1..=64, "requests in flight");
        assert_eq!(n.value(), Ok(4));
        n.text_input_mut().set_value("0");
        let err = n.value().unwrap_err();
        assert!(
            err.contains("out of range") && err.contains("1 to 64"),
            "{err}"
        );
        n.text_input_mut().set_value("x");
        assert!(n.value().unwrap_err().contains("\"x\" is not a number"));
        n.text_input_mut().set_value("");
        assert!(
            n.value()
                .unwrap_err()
                .starts_with("expected a whole number")
        );
    }

    #[test]
    fn arrows_step_within_the_range() {
        let mut n = NumberInput::new(64, 1..=64, "requests in flight");
        assert_eq!(n.handle_key(key(KeyCode::Up)), Outcome::Handled);
        assert_eq!(n.handle_key(key(KeyCode::Down)), Outcome::Changed);
        assert_eq!(n.value(), Ok(63));
        let mut low = NumberInput::new(1, 1..=64, "requests in flight");
        assert_eq!(low.handle_key(key(KeyCode::Down)), Outcome::Handled);
        assert_eq!(low.value(), Ok(1));
    }
}
