//! Terminal output: colour only when the stream is a terminal and `NO_COLOR` is unset or empty
//! (<https://no-color.org>), so piped output and logs stay plain text.

use std::io::IsTerminal;

fn no_color_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Whether stdout gets ANSI colour.
pub fn stdout_colour() -> bool {
    std::io::stdout().is_terminal() && !no_color_requested()
}

/// Whether stderr gets ANSI colour.
pub fn stderr_colour() -> bool {
    std::io::stderr().is_terminal() && !no_color_requested()
}

/// Applies ANSI styles when enabled, and passes text through untouched otherwise.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    enabled: bool,
}

impl Palette {
    pub fn stdout() -> Self {
        Palette { enabled: stdout_colour() }
    }

    pub fn stderr() -> Self {
        Palette { enabled: stderr_colour() }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    pub fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }

    pub fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }

    pub fn yellow(&self, text: &str) -> String {
        self.paint("33", text)
    }

    pub fn cyan(&self, text: &str) -> String {
        self.paint("36", text)
    }
}

/// Prints `error: MESSAGE` on stderr.
pub fn print_error(message: &str) {
    let p = Palette::stderr();
    eprintln!("{} {message}", p.red(&p.bold("error:")));
}

/// Prints `label  value` rows with the labels aligned, indented by two spaces.
pub fn print_fields(p: &Palette, rows: &[(&str, String)]) {
    print_fields_indented(p, 2, rows);
}

/// Prints `label  value` rows with the labels aligned, indented by `indent` spaces.
pub fn print_fields_indented(p: &Palette, indent: usize, rows: &[(&str, String)]) {
    let width = rows.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    for (k, v) in rows {
        println!("{:indent$}{}  {v}", "", p.dim(&format!("{k:<width$}")));
    }
}

/// Prints `error: MESSAGE` and, when there is one, an indented `hint:` line on stderr.
pub fn print_error_with_hint(message: &str, hint: Option<&str>) {
    print_error(message);
    if let Some(hint) = hint {
        eprintln!("  hint: {hint}");
    }
}

/// The `--json` object of a failure that is not an API error (exit 2 and 4): `code` and `message` as
/// in the API's error object, then what else is known.
#[derive(Debug, serde::Serialize)]
pub struct ErrorJson<'a> {
    pub code: &'a str,
    pub message: &'a str,
    pub hint: Option<&'a str>,
    pub exit: u8,
    /// HTTP status and trace id of the answer, when one arrived.
    pub http_status: Option<u16>,
    pub trace_id: Option<&'a str>,
}

impl ErrorJson<'_> {
    /// Prints the object as one line on stdout.
    pub fn print(&self) {
        // Serialising strings and numbers cannot fail.
        println!("{}", serde_json::to_string(self).unwrap_or_default());
    }
}
