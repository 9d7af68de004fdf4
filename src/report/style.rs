//! Colour for meaning (red failure, yellow warning, green healthy), plain unless asked for.

use colored::Colorize;

/// The style set renderers draw with. `Style::plain()` adds no escape codes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    color: bool,
}

impl Style {
    pub fn plain() -> Style {
        Style { color: false }
    }

    pub fn colored() -> Style {
        Style { color: true }
    }

    fn paint(&self, text: &str, f: impl Fn(&str) -> colored::ColoredString) -> String {
        if self.color {
            f(text).to_string()
        } else {
            text.to_string()
        }
    }

    pub fn error(&self, text: &str) -> String {
        self.paint(text, |t| t.red().bold())
    }

    pub fn warning(&self, text: &str) -> String {
        self.paint(text, |t| t.yellow())
    }

    pub fn good(&self, text: &str) -> String {
        self.paint(text, |t| t.green())
    }

    pub fn heading(&self, text: &str) -> String {
        self.paint(text, |t| t.bold())
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint(text, |t| t.dimmed())
    }
}
