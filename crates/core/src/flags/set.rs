//! All compiled flags of a service, looked up by key, with a content hash for ETags.

use super::eval::{Evaluation, EvaluationContext, evaluate};
use super::{CompiledFlag, Targeting};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A service's flags, sorted by key, and their ETag.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagSet {
    flags: Vec<CompiledFlag>,
    etag: String,
}

impl Default for FlagSet {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

impl FlagSet {
    /// Builds a set; a later flag with the same key as an earlier one is dropped.
    pub fn new(mut flags: Vec<CompiledFlag>) -> Self {
        flags.sort_by(|a, b| a.key.cmp(&b.key));
        flags.dedup_by(|a, b| a.key == b.key);
        let mut h = Canon::new(b"tandem-flags-v1");
        for f in &flags {
            h.flag(f);
        }
        let etag = format!("\"{}\"", h.hex());
        Self { flags, etag }
    }

    pub fn flags(&self) -> &[CompiledFlag] {
        &self.flags
    }

    pub fn len(&self) -> usize {
        self.flags.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&CompiledFlag> {
        self.flags
            .binary_search_by(|f| f.key.as_str().cmp(key))
            .ok()
            .map(|i| &self.flags[i])
    }

    /// The ETag of the definitions (quoted, ready for the header): the same flags give the
    /// same ETag, whatever the formatting or comments of the file they came from.
    pub fn etag(&self) -> &str {
        &self.etag
    }

    /// The ETag of a bulk evaluation: it changes when the definitions or the context do,
    /// so a client that changed its context never gets a stale 304.
    pub fn bulk_etag(&self, ctx: &EvaluationContext) -> String {
        let mut h = Canon::new(b"tandem-flags-bulk-v1");
        h.str(&self.etag);
        match ctx.targeting_key() {
            Some(k) => {
                h.tag(1);
                h.str(k);
            }
            None => h.tag(0),
        }
        h.object(ctx.attributes());
        format!("\"{}\"", h.hex())
    }

    /// Evaluates the flag `key`; `FLAG_NOT_FOUND` when there is none.
    pub fn evaluate_one<'a>(&'a self, key: &'a str, ctx: &EvaluationContext) -> Evaluation<'a> {
        match self.get(key) {
            Some(flag) => evaluate(flag, ctx),
            None => Evaluation::not_found(key),
        }
    }

    /// Evaluates every flag, in key order.
    pub fn evaluate_all<'a>(&'a self, ctx: &EvaluationContext) -> Vec<Evaluation<'a>> {
        self.flags.iter().map(|f| evaluate(f, ctx)).collect()
    }
}

/// Feeds values to SHA-256 in an unambiguous encoding (tags and length prefixes, object
/// keys sorted), so equal definitions hash alike and different ones apart.
struct Canon(Sha256);

impl Canon {
    fn new(domain: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(domain);
        Self(h)
    }

    fn hex(self) -> String {
        let digest = self.0.finalize();
        digest[..16].iter().map(|b| format!("{b:02x}")).collect()
    }

    fn tag(&mut self, t: u8) {
        self.0.update([t]);
    }

    fn len(&mut self, n: usize) {
        self.0.update((n as u64).to_le_bytes());
    }

    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.update(s.as_bytes());
    }

    fn json(&mut self, v: &Value) {
        match v {
            Value::Null => self.tag(0),
            Value::Bool(b) => self.tag(if *b { 2 } else { 1 }),
            Value::Number(n) => {
                self.tag(3);
                self.str(&n.to_string());
            }
            Value::String(s) => {
                self.tag(4);
                self.str(s);
            }
            Value::Array(items) => {
                self.tag(5);
                self.len(items.len());
                for i in items {
                    self.json(i);
                }
            }
            Value::Object(map) => {
                self.tag(6);
                self.object(map);
            }
        }
    }

    fn object(&mut self, map: &serde_json::Map<String, Value>) {
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort();
        self.len(keys.len());
        for k in keys {
            self.str(k);
            if let Some(v) = map.get(k) {
                self.json(v);
            }
        }
    }

    fn flag(&mut self, f: &CompiledFlag) {
        self.str(&f.key);
        self.str(f.flag_type.as_str());
        match &f.description {
            Some(d) => {
                self.tag(1);
                self.str(d);
            }
            None => self.tag(0),
        }
        self.len(f.variants.len());
        for v in &f.variants {
            self.str(&v.name);
            self.json(&v.value);
        }
        self.len(f.default);
        self.tag(u8::from(f.enabled));
        self.object(&f.metadata);
        self.len(f.markets.len());
        for (id, t) in &f.markets {
            self.str(id);
            self.targeting(t);
        }
        self.targeting(&f.targeting);
        // Only when set, so the ETags of flags without them stay as they were. A flag key is
        // at most 128 bytes, so the next flag's length prefix never starts with this tag.
        if f.kill_switch || !f.kills.is_empty() {
            self.tag(0xff);
            self.tag(u8::from(f.kill_switch));
            self.len(f.kills.len());
            for k in &f.kills {
                match k {
                    super::Kill::Everywhere => self.tag(0),
                    super::Kill::Market(m) => {
                        self.tag(1);
                        self.str(m);
                    }
                }
            }
        }
    }

    fn targeting(&mut self, t: &Targeting) {
        self.len(t.rules.len());
        for r in &t.rules {
            self.str(r.condition.as_str());
            self.len(r.variant);
        }
        match &t.rollout {
            Some(r) => {
                self.tag(1);
                self.len(r.weights().len());
                for (v, w) in r.weights() {
                    self.len(*v);
                    self.0.update(w.to_le_bytes());
                }
            }
            None => self.tag(0),
        }
        match t.variant {
            Some(v) => {
                self.tag(1);
                self.len(v);
            }
            None => self.tag(0),
        }
    }
}
