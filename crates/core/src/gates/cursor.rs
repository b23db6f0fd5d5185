//! A byte cursor over one line of text, shared by the exposition and selector parsers.

#[derive(Debug)]
pub(super) struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Self { text, pos: 0 }
    }

    /// Where the cursor is, in characters from the start (what a person counts as a column).
    pub(super) fn offset(&self) -> usize {
        self.text[..self.pos].chars().count()
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    pub(super) fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    pub(super) fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.pos += 1;
        }
    }

    /// Consumes `token` if the text continues with it.
    pub(super) fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    /// A metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`) or, with `colons` false, a label name.
    pub(super) fn name(&mut self, colons: bool) -> Option<&'a str> {
        let start = self.pos;
        let ok_first = |c: char| c.is_ascii_alphabetic() || c == '_' || (colons && c == ':');
        if !self.peek().is_some_and(ok_first) {
            return None;
        }
        self.pos += 1;
        while self.peek().is_some_and(|c| ok_first(c) || c.is_ascii_digit()) {
            self.pos += 1;
        }
        Some(&self.text[start..self.pos])
    }

    /// The characters up to the next blank or the end of the line.
    pub(super) fn word(&mut self) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(|c| c != ' ' && c != '\t') {
            self.pos += self.peek().map_or(1, char::len_utf8);
        }
        &self.text[start..self.pos]
    }

    /// A string up to `quote`, without escapes; the opening quote must already be consumed.
    pub(super) fn raw(&mut self, quote: char) -> Option<String> {
        let len = self.rest().find(quote)?;
        let text = self.rest()[..len].to_string();
        self.pos += len + quote.len_utf8();
        Some(text)
    }

    /// A string between `quote`s, with `\` escapes mapped by `unescape` (`None`: not allowed).
    /// The opening quote must already be consumed.
    pub(super) fn quoted(&mut self, quote: char, unescape: impl Fn(char) -> Option<char>) -> Result<String, String> {
        let mut out = String::new();
        let mut chars = self.text[self.pos..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                c if c == quote => {
                    self.pos += i + c.len_utf8();
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, e)) => match unescape(e) {
                        Some(u) => out.push(u),
                        None => {
                            self.pos += i;
                            return Err(format!("`\\{e}` is not a known escape sequence"));
                        }
                    },
                    None => break,
                },
                c => out.push(c),
            }
        }
        Err(format!("the string has no closing {quote}"))
    }
}
