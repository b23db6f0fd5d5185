//! Human tables and JSON output.
//!
//! Everything a command prints on standard output goes through [`out!`] and [`outln!`], which
//! return the write's error instead of panicking like `println!`: a reader that goes away
//! (`tandem idea flow T-5 | head -1`) ends the command quietly (see `main`).

/// Like `print!`, but a failed write is an `Err(std::io::Error)` to pass up with `?`.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*)
    }};
}

/// Like `println!`, but a failed write is an `Err(std::io::Error)` to pass up with `?`.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

/// Prints `value` as pretty JSON, object keys in alphabetical order (through
/// `serde_json::Value`), so a typed answer prints as the JSON it was read from always did.
pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(&serde_json::to_value(value)?)?)?;
    Ok(())
}

/// Prints `value` as pretty JSON with its fields in their declared order (the audit
/// command's answers have always printed so).
pub fn print_json_in_order<T: Serialize>(value: &T) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(value)?)?;
    Ok(())
}

/// Prints a table with `headers`; plain (no colours) when NO_COLOR is set or not a terminal.
pub fn print_table(headers: &[&str], rows: Vec<Vec<String>>) -> std::io::Result<()> {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(headers.to_vec());
    if std::env::var_os("NO_COLOR").is_some() {
        table.force_no_tty();
    }
    for row in rows {
        table.add_row(row);
    }
    outln!("{table}")
}

/// A Unix-ms time as local-free UTC text, or `-`.
pub fn time(ms: Option<i64>) -> String {
    match ms.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()) {
        Some(t) => t.strftime("%Y-%m-%d %H:%M:%S").to_string(),
        None => "-".into(),
    }
}

/// The duration between two Unix-ms times, as `1m 05s`.
pub fn duration(from: Option<i64>, to: Option<i64>) -> String {
    match (from, to) {
        (Some(a), Some(b)) if b >= a => {
            let s = (b - a) / 1000;
            if s >= 60 {
                format!("{}m {:02}s", s / 60, s % 60)
            } else {
                format!("{}.{}s", s, ((b - a) % 1000) / 100)
            }
        }
        _ => "-".into(),
    }
}

/// The first 8 characters of a commit id, as tables show it.
pub fn short(sha: &str) -> String {
    sha.chars().take(8).collect()
}
