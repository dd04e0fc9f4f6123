//! A choice over the values of an enum: a pulldown whose options are the enum's labels, read and
//! set as the enum itself so no index or string crosses into the destination.

use super::Pulldown;

/// An enum the person picks one value of, with its label and what choosing it means.
pub trait ChoiceItem: Copy + PartialEq + 'static {
    /// Every value, in the order offered.
    const ALL: &'static [Self];
    fn label(self) -> &'static str;
    /// One line saying what the value does, shown under the choice.
    fn explain(self) -> &'static str {
        ""
    }
}

/// A pulldown over `E::ALL`; the pulldown draws and takes keys, the choice gives the value.
pub fn pulldown_of<E: ChoiceItem>(current: E) -> Pulldown {
    Pulldown::new(
        E::ALL.iter().map(|v| v.label().to_string()).collect(),
        index_of(current),
    )
}

/// Where `value` is among `E::ALL` (the first when absent, which a complete `ALL` never is).
pub fn index_of<E: ChoiceItem>(value: E) -> usize {
    E::ALL.iter().position(|v| *v == value).unwrap_or(0)
}

/// The value a pulldown built by [`pulldown_of`] has selected.
pub fn value_of<E: ChoiceItem>(pulldown: &Pulldown) -> E {
    E::ALL
        .get(pulldown.selected())
        .or_else(|| E::ALL.first())
        .copied()
        .expect("a choice has at least one value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Colour {
        Red,
        Blue,
    }

    impl ChoiceItem for Colour {
        const ALL: &'static [Self] = &[Colour::Red, Colour::Blue];
        fn label(self) -> &'static str {
            match self {
                Colour::Red => "red",
                Colour::Blue => "blue",
            }
        }
    }

    #[test]
    fn the_pulldown_offers_the_labels_and_gives_back_the_enum() {
        let mut pulldown = pulldown_of(Colour::Blue);
        assert_eq!(pulldown.options(), ["red", "blue"]);
        assert_eq!(value_of::<Colour>(&pulldown), Colour::Blue);
        pulldown.select(0);
        assert_eq!(value_of::<Colour>(&pulldown), Colour::Red);
    }
}
