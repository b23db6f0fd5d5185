//! Job logs as HTML: the colours a program wrote (ANSI SGR sequences) become `<span
//! class="ansi-…">`, and the time stamp Tandem puts before each line is dimmed.
//!
//! Invariants: every byte of the log is HTML-escaped before it is written; no escape or other
//! control byte (but tab and newline) reaches the output; every span opened on a line is closed
//! on that line, so the markup stays balanced whatever the log holds. A colour still set at the
//! end of a line carries over to the next, as on a terminal.

use std::fmt::Write as _;

const ESC: u8 = 0x1b;

/// Colour names, in SGR order: 30–37 (normal) and 90–97 (bright).
const COLOURS: [&str; 8] = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"];

/// The text style in effect: a foreground colour (0–7 normal, 8–15 bright) and boldness.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Style {
    fg: Option<u8>,
    bold: bool,
}

impl Style {
    fn is_plain(self) -> bool {
        self == Style::default()
    }

    fn classes(self) -> String {
        let mut classes = Vec::new();
        if self.bold {
            classes.push("ansi-bold".to_string());
        }
        if let Some(fg) = self.fg {
            let name = COLOURS[usize::from(fg % 8)];
            classes.push(if fg >= 8 {
                format!("ansi-bright-{name}")
            } else {
                format!("ansi-{name}")
            });
        }
        classes.join(" ")
    }

    /// Applies the parameters of one `ESC [ … m` sequence; unknown ones are ignored.
    fn apply_sgr(&mut self, params: &str) {
        let mut params = params.split(';');
        while let Some(p) = params.next() {
            // `38:5:1` and friends (colon sub-parameters) are one parameter we do not support.
            let code = if p.is_empty() { Some(0) } else { p.parse::<u16>().ok() };
            match code {
                Some(0) => *self = Style::default(),
                Some(1) => self.bold = true,
                Some(22) => self.bold = false,
                Some(c @ 30..=37) => self.fg = Some((c - 30) as u8),
                Some(c @ 90..=97) => self.fg = Some((c - 90 + 8) as u8),
                Some(39) => self.fg = None,
                // 256-colour and true-colour forms: skip their arguments so they are not
                // mistaken for codes of their own (`38;5;1` is not bold).
                Some(38 | 48) => match params.next() {
                    Some("5") => {
                        let _ = params.next();
                    }
                    Some("2") => {
                        let _ = params.nth(2);
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    }
}

/// The whole log as HTML, line by line.
pub fn log_to_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut style = Style::default();
    for line in text.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(body) => (body.strip_suffix('\r').unwrap_or(body), true),
            None => (line, false),
        };
        let body = match split_stamp(body) {
            Some((stamp, rest)) => {
                let _ = write!(out, "<span class=\"ts\">{stamp}</span> ");
                rest
            }
            None => body,
        };
        // A carriage return inside a line (a progress bar) overwrites it on a terminal: only
        // what follows the last one is shown, with the colours set before it.
        let shown = match body.rfind('\r') {
            Some(cr) => {
                render(&body[..cr], &mut style, None);
                &body[cr + 1..]
            }
            None => body,
        };
        render(shown, &mut style, Some(&mut out));
        if newline {
            out.push('\n');
        }
    }
    out
}

/// `[00:01.234] rest` → (`[00:01.234]`, `rest`): the stamp the log writer puts on each line.
fn split_stamp(line: &str) -> Option<(&str, &str)> {
    let end = line.find("] ")?;
    let inner = line[..end].strip_prefix('[')?;
    let (minutes, rest) = inner.split_once(':')?;
    let (seconds, millis) = rest.split_once('.')?;
    let digits = |s: &str, n: Option<usize>| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && n.is_none_or(|n| s.len() == n)
    };
    (digits(minutes, None) && digits(seconds, Some(2)) && digits(millis, Some(3)))
        .then(|| (&line[..=end], &line[end + 2..]))
}

/// Renders one line's text with `style` as it stands, updating it as sequences go by. With no
/// `out`, only follows the style (text that a carriage return overwrote).
fn render(text: &str, style: &mut Style, mut out: Option<&mut String>) {
    let bytes = text.as_bytes();
    let mut open: Option<Style> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == ESC {
            i = escape_sequence(bytes, i, style);
            continue;
        }
        if b.is_ascii_control() && b != b'\t' {
            i += 1; // other control bytes (backspace, bell, NUL…) have no place in a page
            continue;
        }
        let end = bytes[i..]
            .iter()
            .position(|&c| c.is_ascii_control() && c != b'\t')
            .map_or(bytes.len(), |p| i + p);
        if let Some(out) = out.as_deref_mut() {
            if open != Some(*style) {
                if open.is_some_and(|s| !s.is_plain()) {
                    out.push_str("</span>");
                }
                if !style.is_plain() {
                    let _ = write!(out, "<span class=\"{}\">", style.classes());
                }
                open = Some(*style);
            }
            escape_into(out, &text[i..end]);
        }
        i = end;
    }
    if let Some(out) = out
        && open.is_some_and(|s| !s.is_plain())
    {
        out.push_str("</span>");
    }
}

/// Reads the escape sequence starting at `bytes[start]` (an ESC), applies it if it is SGR, and
/// returns where the text goes on. An unfinished or malformed sequence is dropped.
fn escape_sequence(bytes: &[u8], start: usize, style: &mut Style) -> usize {
    let mut i = start + 1;
    match bytes.get(i) {
        // CSI: ESC [ parameters (0x30–0x3F) intermediates (0x20–0x2F) final (0x40–0x7E).
        Some(b'[') => {
            i += 1;
            let params_start = i;
            while bytes.get(i).is_some_and(|b| (0x30..=0x3f).contains(b)) {
                i += 1;
            }
            let params_end = i;
            while bytes.get(i).is_some_and(|b| (0x20..=0x2f).contains(b)) {
                i += 1;
            }
            match bytes.get(i) {
                Some(&fin) if (0x40..=0x7e).contains(&fin) => {
                    if fin == b'm' && params_end == i {
                        // Only ASCII bytes lie in this range, so it is valid UTF-8.
                        if let Ok(params) = std::str::from_utf8(&bytes[params_start..params_end]) {
                            style.apply_sgr(params);
                        }
                    }
                    i + 1
                }
                _ => i,
            }
        }
        // OSC (window titles, hyperlinks): up to BEL or ESC \.
        Some(b']') => {
            i += 1;
            while i < bytes.len() {
                match bytes[i] {
                    0x07 => return i + 1,
                    ESC if bytes.get(i + 1) == Some(&b'\\') => return i + 2,
                    _ => i += 1,
                }
            }
            i
        }
        // Any other: ESC, intermediates, one final byte (`ESC ( B`, `ESC 7`, `ESC M`).
        _ => {
            while bytes.get(i).is_some_and(|b| (0x20..=0x2f).contains(b)) {
                i += 1;
            }
            if bytes.get(i).is_some_and(|b| (0x30..=0x7e).contains(b)) {
                i += 1;
            }
            i
        }
    }
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_escaped() {
        assert_eq!(
            log_to_html("test <script>alert('x')</script> & \"more\"\n"),
            "test &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;more&quot;\n"
        );
    }

    #[test]
    fn colours_become_spans() {
        assert_eq!(
            log_to_html("\x1b[32mgreen\x1b[0m plain"),
            r#"<span class="ansi-green">green</span> plain"#
        );
        assert_eq!(
            log_to_html("\x1b[1;31merror\x1b[0m: x"),
            r#"<span class="ansi-bold ansi-red">error</span>: x"#
        );
        assert_eq!(
            log_to_html("\x1b[90mdim\x1b[97mwhite\x1b[m"),
            r#"<span class="ansi-bright-black">dim</span><span class="ansi-bright-white">white</span>"#
        );
    }

    #[test]
    fn resets_undo_what_they_name() {
        assert_eq!(
            log_to_html("\x1b[1;33mA\x1b[39mB\x1b[22mC"),
            r#"<span class="ansi-bold ansi-yellow">A</span><span class="ansi-bold">B</span>C"#
        );
        assert_eq!(log_to_html("\x1b[31m\x1b[0mplain"), "plain", "no empty span");
    }

    #[test]
    fn extended_colours_are_ignored_without_side_effects() {
        assert_eq!(log_to_html("\x1b[38;5;1mX"), "X", "38;5;1 is not bold");
        assert_eq!(
            log_to_html("\x1b[38;2;1;2;3;32mX"),
            r#"<span class="ansi-green">X</span>"#
        );
        assert_eq!(log_to_html("\x1b[4;7;99999mX"), "X");
    }

    #[test]
    fn other_sequences_and_control_bytes_are_dropped() {
        assert_eq!(log_to_html("\x1b[2Kclear\x1b[1A\x1b[?25l"), "clear");
        assert_eq!(log_to_html("\x1b]0;title\x07a\x1b]8;;http://x\x1b\\b"), "ab");
        assert_eq!(log_to_html("\x1b(Bx\x1b7y\x1b"), "xy");
        assert_eq!(log_to_html("half \x1b[31"), "half ");
        assert_eq!(log_to_html("a\x08b\x00c\td"), "abc\td");
    }

    #[test]
    fn colours_carry_over_lines_but_spans_close_on_each() {
        assert_eq!(
            log_to_html("\x1b[31mone\ntwo\x1b[0m\nthree\n"),
            "<span class=\"ansi-red\">one</span>\n<span class=\"ansi-red\">two</span>\nthree\n"
        );
    }

    #[test]
    fn time_stamps_are_dimmed_and_never_coloured() {
        assert_eq!(
            log_to_html("[00:01.234] \x1b[32mok\x1b[0m\n[123:59.000] next\n[bad] x\n"),
            "<span class=\"ts\">[00:01.234]</span> <span class=\"ansi-green\">ok</span>\n\
             <span class=\"ts\">[123:59.000]</span> next\n[bad] x\n"
        );
        assert_eq!(split_stamp("[0:1.234] x"), None);
        assert_eq!(split_stamp("[00:01.234]x"), None);
    }

    #[test]
    fn carriage_returns_keep_the_last_overwrite_and_its_colour() {
        assert_eq!(
            log_to_html("[00:00.100] \x1b[33m10%\r50%\r100%\x1b[0m\r\n"),
            "<span class=\"ts\">[00:00.100]</span> <span class=\"ansi-yellow\">100%</span>\n"
        );
    }

    /// Every mix of awkward fragments renders to markup with no escape or control byte, no
    /// unescaped `<`, and balanced spans.
    #[test]
    fn no_mix_of_fragments_leaks_bytes_or_unbalances_spans() {
        const PARTS: [&str; 12] = [
            "\x1b[",
            "31",
            ";1m",
            "m",
            "<b>",
            "\x1b]",
            "\x07",
            "\n",
            "\r",
            "[00:00.000] ",
            "é&",
            "\x1b",
        ];
        let mut input = String::new();
        for a in PARTS {
            for b in PARTS {
                for c in PARTS {
                    for d in PARTS {
                        input.clear();
                        input.extend([a, b, c, d]);
                        let html = log_to_html(&input);
                        assert!(
                            !html.bytes().any(|x| x.is_ascii_control() && x != b'\n' && x != b'\t'),
                            "{input:?} → {html:?}"
                        );
                        let opened = html.matches("<span").count();
                        assert_eq!(opened, html.matches("</span>").count(), "{input:?} → {html:?}");
                        let stripped = html
                            .replace("</span>", "")
                            .replace("<span class=\"ts\">", "")
                            .replace("<span class=\"", "")
                            .replace("\">", "");
                        assert!(!stripped.contains('<'), "{input:?} → {html:?}");
                    }
                }
            }
        }
    }
}
