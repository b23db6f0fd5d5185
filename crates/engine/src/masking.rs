//! Secret masking on a step's output, as one merged byte stream fed by two pipes.
//!
//! Invariant: the bytes handed out never contain a secret, neither within what one pipe wrote
//! (however its writes were split, across lines, whatever the other pipe wrote in between) nor
//! where the two pipes' output meets in the merged log.
//!
//! It works in two stages, each holding back only the bytes that could still be the start of a
//! secret (at most `longest secret - 1` bytes) and masking everything else at once:
//! 1. per pipe: a pipe's own bytes, so a secret split by the other pipe's output is whole here;
//! 2. on the merged output of stage 1, so a secret spread over both pipes is caught too.
//!
//! Held bytes are released as soon as what follows shows they are not a secret, or when the
//! step ends ([`Masker::finish`]).

use aho_corasick::{AhoCorasick, MatchKind};

/// What a secret is replaced with.
pub const MASK: &[u8] = b"***";

/// Which pipe of a step a piece of output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

#[derive(Debug)]
pub struct Masker {
    /// Every secret, matched leftmost-longest.
    finder: AhoCorasick,
    secrets: Vec<Vec<u8>>,
    longest: usize,
    /// Per pipe (stage 1), bytes that may start a secret.
    held: [Vec<u8>; 2],
    /// Stage 2's held bytes.
    merged: Vec<u8>,
}

impl Masker {
    /// A masker for these secrets (empty ones are ignored: they would match everywhere).
    /// `None` when there is nothing to mask.
    pub fn new(secrets: &[Vec<u8>]) -> Result<Option<Self>, aho_corasick::BuildError> {
        let secrets: Vec<Vec<u8>> = secrets.iter().filter(|s| !s.is_empty()).cloned().collect();
        let Some(longest) = secrets.iter().map(Vec::len).max() else {
            return Ok(None);
        };
        let finder = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&secrets)?;
        Ok(Some(Self {
            finder,
            secrets,
            longest,
            held: [Vec::new(), Vec::new()],
            merged: Vec::new(),
        }))
    }

    /// Takes `chunk` from `stream`; appends to `out` what can be shown now, masked.
    pub fn push(&mut self, stream: Stream, chunk: &[u8], out: &mut Vec<u8>) {
        let i = stream as usize;
        let mut data = std::mem::take(&mut self.held[i]);
        data.extend_from_slice(chunk);
        let mut stage1 = Vec::with_capacity(data.len());
        let held = self.scan(&data, &mut stage1, true);
        self.held[i] = data.split_off(held);
        self.merge(&stage1, out, true);
    }

    /// The step ended: appends everything still held, masked.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        for i in 0..self.held.len() {
            let data = std::mem::take(&mut self.held[i]);
            let mut stage1 = Vec::with_capacity(data.len());
            self.scan(&data, &mut stage1, false);
            self.merge(&stage1, out, true);
        }
        self.merge(&[], out, false);
    }

    /// Stage 2: `bytes` joins the merged output.
    fn merge(&mut self, bytes: &[u8], out: &mut Vec<u8>, hold: bool) {
        let mut data = std::mem::take(&mut self.merged);
        data.extend_from_slice(bytes);
        let held = self.scan(&data, out, hold);
        self.merged = data.split_off(held);
    }

    /// Appends `data` to `out` with every secret masked, except (when `hold`) its tail from the
    /// first position where what is left could still grow into a secret; returns where that
    /// tail starts (`data.len()` when nothing is held).
    fn scan(&self, data: &[u8], out: &mut Vec<u8>, hold: bool) -> usize {
        // Before `tail`, what is left is at least as long as any secret: no match can be partial.
        let tail = if hold {
            data.len().saturating_sub(self.longest - 1)
        } else {
            data.len()
        };
        let mut i = 0;
        for found in self.finder.find_iter(data) {
            if found.start() >= tail {
                break;
            }
            out.extend_from_slice(&data[i..found.start()]);
            out.extend_from_slice(MASK);
            i = found.end();
        }
        if i < tail {
            out.extend_from_slice(&data[i..tail]);
            i = tail;
        }
        while i < data.len() {
            let rest = &data[i..];
            if self.secrets.iter().any(|s| s.len() > rest.len() && s.starts_with(rest)) {
                return i;
            }
            match self.secrets.iter().filter(|s| rest.starts_with(s)).map(Vec::len).max() {
                Some(n) => {
                    out.extend_from_slice(MASK);
                    i += n;
                }
                None => {
                    out.push(data[i]);
                    i += 1;
                }
            }
        }
        data.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn masker(secrets: &[&str]) -> Masker {
        let secrets: Vec<Vec<u8>> = secrets.iter().map(|s| s.as_bytes().to_vec()).collect();
        Masker::new(&secrets).unwrap().unwrap()
    }

    /// Feeds `pieces` in order and ends the step; the merged output.
    fn run(secrets: &[&str], pieces: &[(Stream, &[u8])]) -> String {
        let mut m = masker(secrets);
        let mut out = Vec::new();
        for (stream, chunk) in pieces {
            m.push(*stream, chunk, &mut out);
        }
        m.finish(&mut out);
        String::from_utf8(out).unwrap()
    }

    use Stream::{Stderr, Stdout};

    #[test]
    fn a_secret_split_by_the_other_pipe_is_masked_and_nothing_else_waits() {
        let out = run(
            &["hunter2"],
            &[(Stdout, b"pw=hun"), (Stderr, b"warning\n"), (Stdout, b"ter2 ok\n")],
        );
        assert_eq!(out, "pw=warning\n*** ok\n");
    }

    #[test]
    fn a_multi_line_secret_is_masked_whole() {
        let key = "-----BEGIN KEY-----\nAAAA\nBBBB\n-----END KEY-----";
        let out = run(&[key], &[(Stdout, format!("key:\n{key}\ndone\n").as_bytes())]);
        assert_eq!(out, "key:\n***\ndone\n");
    }

    #[test]
    fn a_secret_spread_over_both_pipes_is_masked() {
        // The first pipe's `ab` is shown only because `x` might start the other secret.
        let out = run(&["abcd", "xyz"], &[(Stdout, b"abx"), (Stderr, b"cd")]);
        assert!(!out.contains("abcd"), "{out}");
    }

    #[test]
    fn held_bytes_are_released_as_soon_as_they_cannot_be_a_secret_and_at_the_end() {
        let mut m = masker(&["secret"]);
        let mut out = Vec::new();
        m.push(Stdout, b"a sec", &mut out);
        assert_eq!(out, b"a ");
        m.push(Stdout, b"ond", &mut out);
        assert_eq!(out, b"a second");
        m.push(Stdout, b" secre", &mut out);
        m.finish(&mut out);
        assert_eq!(out, b"a second secre");
        // A shorter secret inside held bytes is masked when they are released.
        assert_eq!(run(&["abcd", "bc"], &[(Stdout, b"xabc")]), "xa***");
    }

    fn secret() -> impl Strategy<Value = String> {
        // Lines of printable text, so a multi-line secret comes up often.
        proptest::collection::vec("[a-zA-Z0-9+/=]{1,12}", 1..4).prop_map(|lines| lines.join("\n"))
    }

    proptest! {
        /// A secret split at every byte boundary, the other pipe writing in between, the
        /// secret's pieces on either pipe: the merged output never shows it, and the other
        /// pipe's text is all there.
        #[test]
        fn a_secret_never_shows_however_it_is_split(
            secret in secret(),
            before in "[a-z \n]{0,8}",
            after in "[a-z \n]{0,8}",
            // Not a byte a secret starts with: the other pipe's text is never held back.
            other in "[ .,;!-]{0,8}",
            second_on_stderr in any::<bool>(),
        ) {
            let s = secret.as_bytes();
            for cut in 0..=s.len() {
                let (a, b) = s.split_at(cut);
                let first = [before.as_bytes(), a].concat();
                let second = [b, after.as_bytes()].concat();
                let second_stream = if second_on_stderr { Stderr } else { Stdout };
                let other_stream = if second_on_stderr { Stdout } else { Stderr };
                let out = run(
                    &[&secret],
                    &[(Stdout, &first), (other_stream, other.as_bytes()), (second_stream, &second)],
                );
                prop_assert!(!out.contains(&secret), "cut at {cut}: {out:?}");
                prop_assert!(out.contains(other.as_str()), "{out:?}");
                if !second_on_stderr {
                    prop_assert!(out.contains("***"), "cut at {cut}: {out:?}");
                }
            }
        }

        /// Without a secret in it, output comes out exactly as it went in, whatever the chunks.
        #[test]
        fn output_without_secrets_is_unchanged(text in "[a-z\n]{0,64}", cuts in proptest::collection::vec(0usize..64, 0..6)) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(text.len())).collect();
            cuts.sort_unstable();
            let mut pieces = Vec::new();
            let mut at = 0;
            for c in cuts.into_iter().chain([text.len()]) {
                pieces.push((Stdout, &text.as_bytes()[at..c]));
                at = c;
            }
            prop_assert_eq!(run(&["Z0Z"], &pieces), text);
        }
    }
}
