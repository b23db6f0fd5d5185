//! What a type's `Deserialize` impl expects at a path of a document, asked of the impl itself.
//!
//! `expect_at` hands the type a `Probe`: a deserializer that walks down the path (struct
//! fields and map values as one-entry maps, list items as one-item lists, through `Option`,
//! newtypes and `serde_saphyr::Spanned`) and, at the path's end, records which `deserialize_*`
//! the impl called — for a struct, with the field names serde itself matches keys against. It
//! then stops with an error, so no value is ever built. Where the impl reads its input as a
//! whole (`deserialize_any`: untagged enums, JSON values) nothing can be seen: `Anything`.

use super::{Expect, Step};
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};
use std::cell::Cell;
use std::fmt;

/// What `T`'s `Deserialize` impl expects at `path`: `Anything` where it cannot be seen.
pub(crate) fn expect_at<T: DeserializeOwned>(path: &[Step]) -> Expect {
    let found = Cell::new(None);
    // The probe always ends in an error: it stops as soon as it has seen the end of the path.
    let _ = T::deserialize(Probe {
        path,
        found: &found,
        spanned: false,
    });
    found.get().unwrap_or(Expect::Anything)
}

/// The key `serde_saphyr::Spanned`'s visitor expects first in the map its deserializer builds.
/// It is private to serde-saphyr: `the_probe_sees_through_spanned` fails if it changes.
const SPANNED_MARKER: &str = "__serde_saphyr_private_spanned";

/// A deserializer that follows `path` through a type and records what the type asks for there.
struct Probe<'a> {
    path: &'a [Step],
    found: &'a Cell<Option<Expect>>,
    /// Inside `Spanned<T>`: the next `deserialize_any` comes from its visitor.
    spanned: bool,
}

/// Why a probe stopped; only `UnknownField` carries meaning (the struct refuses other keys).
#[derive(Debug)]
enum Stop {
    Done,
    UnknownField,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("probe stopped")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Stop::Done
    }
    fn unknown_field(_: &str, _: &'static [&'static str]) -> Self {
        Stop::UnknownField
    }
}

impl<'a> Probe<'a> {
    /// Records `expect` when the path ends here, and stops.
    fn stop(&self, expect: Expect) -> Stop {
        if self.path.is_empty() {
            self.found.set(Some(expect));
        }
        Stop::Done
    }

    fn next(&self) -> Option<(&'a Step, Probe<'a>)> {
        let (step, rest) = self.path.split_first()?;
        Some((
            step,
            Probe {
                path: rest,
                found: self.found,
                spanned: false,
            },
        ))
    }

    /// Into a map or struct: presents the path's next key with a probe as its value.
    fn enter_map<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        match self.next() {
            Some((Step::Key(key), rest)) => visitor.visit_map(OneEntry {
                key: Some(key),
                value: Some(rest),
            }),
            _ => Err(Stop::Done),
        }
    }
}

macro_rules! scalars {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(self.stop(Expect::Scalar))
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Probe<'_> {
    type Error = Stop;

    scalars! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32
        deserialize_f64 deserialize_char deserialize_str deserialize_string deserialize_bytes
        deserialize_byte_buf deserialize_unit deserialize_identifier
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        if !self.spanned {
            return Err(self.stop(Expect::Anything));
        }
        visitor.visit_map(SpannedEntries {
            marker_sent: false,
            value: Some(Probe { spanned: false, ..self }),
        })
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        self.deserialize_any(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        visitor.visit_some(self)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, _: V) -> Result<V::Value, Stop> {
        Err(self.stop(Expect::Scalar))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, Stop> {
        visitor.visit_newtype_struct(Probe {
            spanned: name == "__yaml_spanned",
            ..self
        })
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        match self.next() {
            None => Err(self.stop(Expect::List)),
            Some((Step::Item(_), rest)) => visitor.visit_seq(OneItem(Some(rest))),
            Some(_) => Err(Stop::Done),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, Stop> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, Stop> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        if self.path.is_empty() {
            return Err(self.stop(Expect::Map));
        }
        self.enter_map(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        names: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Stop> {
        if !self.path.is_empty() {
            return self.enter_map(visitor);
        }
        // A key no struct has: a strict struct refuses it, a lenient one skips it.
        let unknown = de::value::MapDeserializer::<_, Stop>::new(std::iter::once(("\u{0}", ())));
        let strict = matches!(visitor.visit_map(unknown), Err(Stop::UnknownField));
        Err(self.stop(Expect::Fields { names, strict }))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Stop> {
        Err(self.stop(Expect::Variant(variants)))
    }
}

/// A map of one entry: the path's next key, and a probe for its value.
struct OneEntry<'a> {
    key: Option<&'a String>,
    value: Option<Probe<'a>>,
}

impl<'de> de::MapAccess<'de> for OneEntry<'_> {
    type Error = Stop;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Stop> {
        self.key.take().map(|k| seed.deserialize(KeyProbe(k))).transpose()
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Stop> {
        seed.deserialize(self.value.take().ok_or(Stop::Done)?)
    }
}

/// A map key on the path: text, also to a newtype such as a `Spanned<String>` key.
struct KeyProbe<'a>(&'a str);

impl<'de> de::Deserializer<'de> for KeyProbe<'_> {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        visitor.visit_str(self.0)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, Stop> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

/// A list of one item: a probe.
struct OneItem<'a>(Option<Probe<'a>>);

impl<'de> de::SeqAccess<'de> for OneItem<'_> {
    type Error = Stop;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Stop> {
        self.0.take().map(|p| seed.deserialize(p)).transpose()
    }
}

/// The map `Spanned<T>`'s visitor reads: its marker, then `value`, read by the probe.
struct SpannedEntries<'a> {
    marker_sent: bool,
    value: Option<Probe<'a>>,
}

impl<'de> de::MapAccess<'de> for SpannedEntries<'_> {
    type Error = Stop;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Stop> {
        let key = if !self.marker_sent {
            SPANNED_MARKER
        } else if self.value.is_some() {
            "value"
        } else {
            return Ok(None);
        };
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Stop> {
        if !self.marker_sent {
            self.marker_sent = true;
            return seed.deserialize(().into_deserializer());
        }
        seed.deserialize(self.value.take().ok_or(Stop::Done)?)
    }
}
