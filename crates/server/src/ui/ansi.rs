//! Job logs as HTML: the colours a program wrote (ANSI SGR sequences) become `<span
//! class="ansi-…">`, and the time stamp Tandem puts before each line is dimmed.
//!
//! Invariants: every byte of the log is HTML-escaped before it is written; no escape or other
//! control byte (but tab and newline) reaches the output; every span opened on a line is closed
//! on that line, so the markup stays balanced whatever the log holds. A colour still set at the
//! end of a line carries over to the next, as on a terminal.
//!
//! A live log arrives in pieces ([`LogHtml`]): the colours and whether a line is under way carry
//! from one piece to the next, and [`LogHtml::ready_len`] ends each piece at a line end when it
//! can, and never inside a UTF-8 character or an escape sequence, so the pieces render as the
//! whole log would.

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
#[cfg(test)]
pub fn log_to_html(text: &str) -> String {
    LogHtml::default().render(text)
}

/// A log rendered to HTML piece by piece as it is written (a live stream), carrying the colours
/// in effect and whether a line is under way from one piece to the next.
#[derive(Debug, Default, Clone)]
pub struct LogHtml {
    style: Style,
    /// The last piece ended inside a line: the next one does not start with a time stamp.
    mid_line: bool,
}

impl LogHtml {
    /// Goes on from a piece that left the colours that `sgr` sets (see [`LogHtml::sgr`]), at a
    /// line start.
    pub fn resume(sgr: &str) -> Self {
        let mut style = Style::default();
        style.apply_sgr(sgr);
        LogHtml { style, mid_line: false }
    }

    /// The parameters of the `ESC [ … m` that sets the colours in effect now: `1;31`, or an
    /// empty string when the text is plain.
    pub fn sgr(&self) -> String {
        let mut params = Vec::new();
        if self.style.bold {
            params.push(1);
        }
        if let Some(fg) = self.style.fg {
            params.push(if fg >= 8 {
                90 + u16::from(fg - 8)
            } else {
                30 + u16::from(fg)
            });
        }
        params.iter().map(u16::to_string).collect::<Vec<_>>().join(";")
    }

    /// How much of `bytes` (the log read from where the last piece ended) to render now. While
    /// the log may still grow, a piece ends after its last line end; a line with no end yet
    /// waits for it, unless it is already under way or fills a whole read (`full`): then the
    /// piece ends before an unfinished UTF-8 character, escape sequence or `\r\n`. 0 means wait
    /// for more. Once the log is whole (`growing` false), all of it.
    pub fn ready_len(&self, bytes: &[u8], growing: bool, full: bool) -> usize {
        if !growing {
            return bytes.len();
        }
        if let Some(nl) = bytes.iter().rposition(|&b| b == b'\n') {
            return nl + 1;
        }
        if !(self.mid_line || full) {
            return 0;
        }
        let mut end = utf8_prefix_len(bytes);
        if let Some(esc) = unfinished_sequence(&bytes[..end]) {
            end = esc;
        }
        if bytes[..end].ends_with(b"\r") {
            end -= 1;
        }
        // A whole read inside one sequence (an endless OSC): move on rather than wait forever.
        if end == 0 && full { bytes.len() } else { end }
    }

    /// Renders the next piece of the log, which should end where [`LogHtml::ready_len`] says.
    pub fn render(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + text.len() / 8);
        for line in text.split_inclusive('\n') {
            let (body, newline) = match line.strip_suffix('\n') {
                Some(body) => (body.strip_suffix('\r').unwrap_or(body), true),
                None => (line, false),
            };
            let stamp = if self.mid_line { None } else { split_stamp(body) };
            let body = match stamp {
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
                    render(&body[..cr], &mut self.style, None);
                    &body[cr + 1..]
                }
                None => body,
            };
            render(shown, &mut self.style, Some(&mut out));
            if newline {
                out.push('\n');
            }
            self.mid_line = !newline;
        }
        out
    }
}

/// The length of the longest prefix of `bytes` that does not end inside a UTF-8 character
/// (invalid bytes count as characters of their own).
pub fn utf8_prefix_len(bytes: &[u8]) -> usize {
    match std::str::from_utf8(bytes) {
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        _ => bytes.len(),
    }
}

/// Where an escape sequence that the end of `bytes` cuts short starts, if one does.
fn unfinished_sequence(bytes: &[u8]) -> Option<usize> {
    // An OSC may hold an ESC of its own (its `ESC \` end): check the last one first.
    if let Some(osc) = bytes.windows(2).rposition(|w| w == [ESC, b']']) {
        let body = &bytes[osc + 2..];
        if !(body.contains(&0x07) || body.windows(2).any(|w| w == [ESC, b'\\'])) {
            return Some(osc);
        }
    }
    let esc = bytes.iter().rposition(|&b| b == ESC)?;
    let seq = &bytes[esc..];
    let runs_off = match seq.get(1) {
        None => true,
        Some(b'[') => seq[2..].iter().all(|b| (0x20..=0x3f).contains(b)),
        Some(b']') => false, // ended, as seen above
        Some(_) => seq[1..].iter().all(|b| (0x20..=0x2f).contains(b)),
    };
    runs_off.then_some(esc)
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

    #[test]
    fn colours_carry_from_piece_to_piece_and_resume_from_sgr() {
        let mut html = LogHtml::default();
        assert_eq!(
            html.render("\x1b[1;31mone\n"),
            "<span class=\"ansi-bold ansi-red\">one</span>\n"
        );
        assert_eq!(html.sgr(), "1;31");
        let next = "two\x1b[22m\n";
        let expected = "<span class=\"ansi-bold ansi-red\">two</span>\n";
        assert_eq!(LogHtml::resume(&html.sgr()).render(next), expected);
        assert_eq!(html.render(next), expected);
        assert_eq!(html.sgr(), "31");
        html.render("\x1b[96mx\x1b[1m");
        assert_eq!(html.sgr(), "1;96");
        assert_eq!(LogHtml::resume("1;96").sgr(), "1;96");
        html.render("\x1b[0m");
        assert_eq!(html.sgr(), "", "plain");
    }

    #[test]
    fn a_piece_that_goes_on_with_a_line_has_no_time_stamp() {
        let mut html = LogHtml::default();
        assert_eq!(
            html.render("[00:00.001] a long"),
            "<span class=\"ts\">[00:00.001]</span> a long"
        );
        assert_eq!(html.render("[00:00.002] line\n"), "[00:00.002] line\n");
        assert_eq!(
            html.render("[00:00.003] next\n"),
            "<span class=\"ts\">[00:00.003]</span> next\n"
        );
    }

    #[test]
    fn pieces_end_at_lines_and_never_inside_a_character_or_a_sequence() {
        let (start, mut within) = (LogHtml::default(), LogHtml::default());
        within.render("a line under way");
        let e = "é".as_bytes();
        // While the log grows: after the last line end, or wait for one.
        assert_eq!(start.ready_len(b"one\ntwo\nthr", true, false), 8);
        assert_eq!(start.ready_len(b"three", true, false), 0, "waits for the line's end");
        assert_eq!(start.ready_len(b"three", false, false), 5, "the log is whole");
        // A line under way, or one longer than a read, goes out in pieces, cut safely.
        assert_eq!(within.ready_len(b"more", true, false), 4);
        assert_eq!(within.ready_len(&[b'a', e[0]], true, false), 1, "half of é");
        assert_eq!(start.ready_len(&[b'a', b'b', e[0]], true, true), 2);
        assert_eq!(
            within.ready_len(&[0xff, 0xfe], true, false),
            2,
            "invalid bytes still move on"
        );
        for cut_short in ["\x1b", "\x1b[", "\x1b[1;3", "\x1b]0;title", "\x1b]8;;x\x1b", "\x1b("] {
            let bytes = format!("ab{cut_short}");
            assert_eq!(within.ready_len(bytes.as_bytes(), true, false), 2, "{bytes:?}");
        }
        for whole in ["\x1b[1;31m", "\x1b]0;t\x07", "\x1b]8;;x\x1b\\", "\x1b(B", "\x1b7"] {
            let bytes = format!("ab{whole}");
            assert_eq!(
                within.ready_len(bytes.as_bytes(), true, false),
                bytes.len(),
                "{bytes:?}"
            );
        }
        assert_eq!(within.ready_len(b"50%\r", true, false), 3, "keeps \\r with its \\n");
        assert_eq!(within.ready_len(b"\x1b[", true, false), 0);
        let endless = b"\x1b]0;a title with no end";
        assert_eq!(
            start.ready_len(endless, true, true),
            endless.len(),
            "a full read always moves on"
        );
    }

    /// What the stream does: reads of `chunk` bytes while the log grows, then the rest.
    fn streamed(log: &str, chunk: usize) -> String {
        let bytes = log.as_bytes();
        let (mut html, mut out, mut at) = (LogHtml::default(), String::new(), 0);
        for growing in [true, false] {
            loop {
                let read = &bytes[at..(at + chunk).min(bytes.len())];
                let n = html.ready_len(read, growing, read.len() == chunk);
                if n == 0 {
                    break;
                }
                out.push_str(&html.render(&String::from_utf8_lossy(&read[..n])));
                at += n;
            }
        }
        out
    }

    /// Each character of the page's text with its classes.
    fn colours(html: &str) -> Vec<(char, String)> {
        let (mut out, mut classes, mut rest) = (Vec::new(), vec![String::new()], html);
        while let Some(c) = rest.chars().next() {
            if let Some(after) = rest.strip_prefix("<span class=\"") {
                let (class, after) = after.split_once("\">").unwrap_or_default();
                classes.push(class.to_string());
                rest = after;
            } else if let Some(after) = rest.strip_prefix("</span>") {
                classes.pop();
                rest = after;
            } else {
                out.push((c, classes.last().cloned().unwrap_or_default()));
                rest = &rest[c.len_utf8()..];
            }
        }
        out
    }

    /// However the reads fall, the pieces show the same text in the same colours as the whole
    /// log; when every read holds a whole line, the very same markup.
    #[test]
    fn a_log_streamed_in_pieces_renders_as_the_whole() {
        let log = "[00:00.001] \x1b[1;32m   Compiling\x1b[0m shop <v0.1.0> é\n\
                   [00:00.002] \x1b[31mred on\n[00:00.003] two lines \x1b]0;title\x07ü\x1b[0m\n\
                   [00:01.500] test a ... \x1b[32mok\x1b[0m\n[00:01.501] \x1b(Bdone: ✓ 😀\x1b[33m\n";
        let whole = log_to_html(log);
        let longest = log.split_inclusive('\n').map(str::len).max().unwrap_or(0);
        // Reads shorter than a time stamp or an escape sequence never happen (they are 64 KiB).
        for chunk in 16..=log.len() {
            let pieces = streamed(log, chunk);
            assert_eq!(colours(&pieces), colours(&whole), "reads of {chunk} bytes:\n{pieces}");
            if chunk > longest {
                assert_eq!(pieces, whole, "reads of {chunk} bytes");
            }
        }
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
