//! Colour on a terminal, plain text when piped: `anstream` strips the styles when stdout (or
//! stderr) is not a terminal, and honours `NO_COLOR` and `CLICOLOR_FORCE`.

use anstyle::{AnsiColor, Style};

pub(crate) const GOOD: Style = AnsiColor::Green.on_default().bold();
pub(crate) const BAD: Style = AnsiColor::Red.on_default().bold();
pub(crate) const WARN: Style = AnsiColor::Yellow.on_default().bold();
pub(crate) const KIND: Style = AnsiColor::Cyan.on_default().bold();
pub(crate) const DIM: Style = Style::new().dimmed();
pub(crate) const LABEL: Style = Style::new().bold();

/// `text` in `style` (the reset included).
pub(crate) fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}

/// `error: message` on stderr.
pub(crate) fn error(message: &str) {
    anstream::eprintln!("{} {message}", paint(BAD, "error:"));
}

/// `warning: message` on stderr.
pub(crate) fn warning(message: &str) {
    anstream::eprintln!("{} {message}", paint(WARN, "warning:"));
}

/// Whether to show progress (on stderr): only when both stdout and stderr are terminals.
pub(crate) fn progress_enabled() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::io::stderr().is_terminal()
}
