//! The demo's progress: bars and spinners on a terminal, plain lines elsewhere (and nothing
//! on stdout, which `--json` keeps for the summary).

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    fancy: bool,
}

#[derive(Debug)]
pub struct Bar {
    bar: Option<ProgressBar>,
    label: String,
    last: std::cell::Cell<u64>,
}

impl Progress {
    pub fn new(enabled: bool) -> Self {
        let fancy = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Self { enabled, fancy }
    }

    pub fn say(&self, line: &str) {
        eprintln!("{line}");
    }

    pub fn spinner(&self, label: &str) -> Bar {
        let bar = (self.enabled && self.fancy).then(|| {
            let b = ProgressBar::new_spinner();
            b.set_style(
                ProgressStyle::with_template("  {spinner} {prefix}: {msg} [{elapsed}]")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b.set_prefix(label.to_string());
            b.enable_steady_tick(Duration::from_millis(100));
            b
        });
        Bar {
            bar,
            label: label.into(),
            last: u64::MAX.into(),
        }
    }

    pub fn bar(&self, total: u64, label: &str) -> Bar {
        let bar = (self.enabled && self.fancy).then(|| {
            let b = ProgressBar::new(total);
            b.set_style(
                ProgressStyle::with_template("  {prefix} [{bar:30}] {pos}/{len} markets {msg} [{elapsed}]")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            b.set_prefix(label.to_string());
            b
        });
        Bar {
            bar,
            label: label.into(),
            last: u64::MAX.into(),
        }
    }

    pub fn finish(&self) {}
}

impl Bar {
    pub fn set_message(&self, msg: String) {
        if let Some(b) = &self.bar {
            b.set_message(msg);
        }
    }

    /// Sets the position; without a terminal, prints a line each time it moves.
    pub fn set(&self, pos: u64, msg: &str) {
        match &self.bar {
            Some(b) => {
                b.set_position(pos);
                b.set_message(msg.to_string());
            }
            None if self.last.get() != pos => {
                self.last.set(pos);
                eprintln!("  {}: {pos} markets done {msg}", self.label);
            }
            None => {}
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
