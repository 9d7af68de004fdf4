//! Colour for meaning (red failure, yellow warning, green healthy), plain unless asked for.

use colored::Colorize;

/// The width text is wrapped to where the terminal's is not known (stdout is a file or a pipe).
pub const DEFAULT_WIDTH: usize = 100;

/// Narrower than this, wrapping would leave a word or two a line: text is wrapped to this.
const NARROWEST: usize = 40;

/// The style set renderers draw with: colour or not, and the width text wraps to.
/// `Style::plain()` adds no escape codes.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    color: bool,
    width: usize,
}

impl Default for Style {
    fn default() -> Style {
        Style::plain()
    }
}

impl Style {
    pub fn plain() -> Style {
        Style {
            color: false,
            width: DEFAULT_WIDTH,
        }
    }

    pub fn colored() -> Style {
        Style {
            color: true,
            width: DEFAULT_WIDTH,
        }
    }

    /// The same style, wrapping text to `width` columns.
    pub fn with_width(self, width: usize) -> Style {
        Style {
            width: width.max(NARROWEST),
            ..self
        }
    }

    /// The columns text wraps to.
    pub fn width(&self) -> usize {
        self.width
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
