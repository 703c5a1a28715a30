//! Compact JSON output with the bytes `serde_json::to_writer` writes, faster for long strings.
//!
//! serde_json escapes a string one byte at a time through a lookup table (about nine
//! instructions a byte, 9 % of `decode --format ndjson` on a capture of webcam frames, whose
//! base64 `data:` URLs are most of the output). RFC 8259 §7: "All Unicode characters may be
//! placed within the quotation marks, except for the characters that MUST be escaped: quotation
//! mark, reverse solidus, and the control characters (U+0000 through U+001F)". A string with none
//! of these is written between quotes in one piece here; any other string, and every other
//! value, goes to serde_json's own serializer unchanged. serde_json has no hook for this (its
//! `Formatter` is called after the byte loop), so [`to_writer`] wraps its serializer: every
//! method is forwarded, every nested value is wrapped again, and the one shortcut hands the
//! quoted string to serde_json's raw-value path, which writes it as it is.

use std::fmt::Display;
use std::io::{self, Write};

use serde::ser::{self, Serialize, SerializeStruct, Serializer};

/// Writes `value` as compact JSON to `out`: byte for byte what `serde_json::to_writer` writes.
pub fn to_writer<W: Write + ?Sized, T: Serialize + ?Sized>(
    out: &mut W,
    value: &T,
) -> io::Result<()> {
    let mut inner = serde_json::Serializer::new(out);
    value
        .serialize(Fast { inner: &mut inner })
        .map_err(io::Error::from)
}

/// Shorter strings go to serde_json's loop: for a few bytes it is as quick as the check.
const MIN_LEN: usize = 32;

/// serde_json's token for a `RawValue` (feature `raw_value`): a struct of that name whose field
/// of that name is a string is written as it is. The shortcut writes its quotes and its string
/// this way; `tests` pin the bytes, so a serde_json that changed the token fails them.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// `"s"` through serde_json's raw-value path: three fragments written as they are.
fn write_quoted<S: Serializer>(inner: S, s: &str) -> Result<S::Ok, S::Error> {
    let mut raw = inner.serialize_struct(RAW_VALUE_TOKEN, 1)?;
    raw.serialize_field(RAW_VALUE_TOKEN, "\"")?;
    raw.serialize_field(RAW_VALUE_TOKEN, s)?;
    raw.serialize_field(RAW_VALUE_TOKEN, "\"")?;
    raw.end()
}

/// Whether `s` can stand between quotes as it is: no `"`, no `\`, no byte below 0x20 (RFC 8259
/// §7). Checked 32 bytes at a time with a fold the compiler turns into vector compares.
fn plain(s: &str) -> bool {
    s.as_bytes().chunks(32).all(|chunk| {
        !chunk.iter().fold(false, |bad, &b| {
            bad | (b < 0x20) | (b == b'"') | (b == b'\\')
        })
    })
}

/// serde_json's serializer `S` with the string shortcut. Only [`to_writer`] builds one, over a
/// `serde_json::Serializer`, and every value nested in it is serialized by serde_json's
/// compound serializers with another `Fast` around them ([`Wrap`]).
struct Fast<S> {
    inner: S,
}

/// A value to be serialized with the shortcut by whatever serializer serde_json hands it.
struct Wrap<'a, T: ?Sized>(&'a T);

impl<T: Serialize + ?Sized> Serialize for Wrap<'_, T> {
    fn serialize<S: Serializer>(&self, inner: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(Fast { inner })
    }
}

/// A compound serializer's methods forwarded, every element or field value wrapped; map keys
/// are not (serde_json's key serializer has rules of its own, and keys are short).
struct Compound<C> {
    inner: C,
    /// A `RawValue`'s struct: its field is passed as it is.
    raw: bool,
}

impl<S: Serializer> Serializer for Fast<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Compound<S::SerializeSeq>;
    type SerializeTuple = Compound<S::SerializeTuple>;
    type SerializeTupleStruct = Compound<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Compound<S::SerializeTupleVariant>;
    type SerializeMap = Compound<S::SerializeMap>;
    type SerializeStruct = Compound<S::SerializeStruct>;
    type SerializeStructVariant = Compound<S::SerializeStructVariant>;

    fn serialize_str(self, v: &str) -> Result<S::Ok, S::Error> {
        if v.len() >= MIN_LEN && plain(v) {
            return write_quoted(self.inner, v);
        }
        self.inner.serialize_str(v)
    }

    fn serialize_bool(self, v: bool) -> Result<S::Ok, S::Error> {
        self.inner.serialize_bool(v)
    }
    fn serialize_i8(self, v: i8) -> Result<S::Ok, S::Error> {
        self.inner.serialize_i8(v)
    }
    fn serialize_i16(self, v: i16) -> Result<S::Ok, S::Error> {
        self.inner.serialize_i16(v)
    }
    fn serialize_i32(self, v: i32) -> Result<S::Ok, S::Error> {
        self.inner.serialize_i32(v)
    }
    fn serialize_i64(self, v: i64) -> Result<S::Ok, S::Error> {
        self.inner.serialize_i64(v)
    }
    fn serialize_i128(self, v: i128) -> Result<S::Ok, S::Error> {
        self.inner.serialize_i128(v)
    }
    fn serialize_u8(self, v: u8) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u8(v)
    }
    fn serialize_u16(self, v: u16) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u16(v)
    }
    fn serialize_u32(self, v: u32) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u32(v)
    }
    fn serialize_u64(self, v: u64) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u64(v)
    }
    fn serialize_u128(self, v: u128) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u128(v)
    }
    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        self.inner.serialize_f32(v)
    }
    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        self.inner.serialize_f64(v)
    }
    fn serialize_char(self, v: char) -> Result<S::Ok, S::Error> {
        self.inner.serialize_char(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<S::Ok, S::Error> {
        self.inner.serialize_bytes(v)
    }
    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_none()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.inner.serialize_some(&Wrap(value))
    }
    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit()
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit_struct(name)
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit_variant(name, index, variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.inner.serialize_newtype_struct(name, &Wrap(value))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.inner
            .serialize_newtype_variant(name, index, variant, &Wrap(value))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        Compound::of(self.inner.serialize_seq(len))
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        Compound::of(self.inner.serialize_tuple(len))
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        Compound::of(self.inner.serialize_tuple_struct(name, len))
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        Compound::of(
            self.inner
                .serialize_tuple_variant(name, index, variant, len),
        )
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        Compound::of(self.inner.serialize_map(len))
    }
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        Ok(Compound {
            inner: self.inner.serialize_struct(name, len)?,
            raw: name == RAW_VALUE_TOKEN,
        })
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        Compound::of(
            self.inner
                .serialize_struct_variant(name, index, variant, len),
        )
    }
    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.inner.collect_str(value)
    }
    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

impl<C> Compound<C> {
    fn of<E>(inner: Result<C, E>) -> Result<Self, E> {
        inner.map(|inner| Compound { inner, raw: false })
    }
}

/// The four compound traits whose one method takes an unnamed value: forwarded alike.
macro_rules! forward_unnamed {
    ($($trait:ident::$method:ident),*) => {$(
        impl<C: ser::$trait> ser::$trait for Compound<C> {
            type Ok = C::Ok;
            type Error = C::Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
                self.inner.$method(&Wrap(value))
            }
            fn end(self) -> Result<C::Ok, C::Error> {
                self.inner.end()
            }
        }
    )*};
}

forward_unnamed!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl<C: ser::SerializeMap> ser::SerializeMap for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), C::Error> {
        self.inner.serialize_key(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        self.inner.serialize_value(&Wrap(value))
    }
    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), C::Error> {
        self.inner.serialize_entry(key, &Wrap(value))
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

impl<C: ser::SerializeStruct> ser::SerializeStruct for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), C::Error> {
        if self.raw {
            return self.inner.serialize_field(key, value);
        }
        self.inner.serialize_field(key, &Wrap(value))
    }
    fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
        self.inner.skip_field(key)
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

impl<C: ser::SerializeStructVariant> ser::SerializeStructVariant for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), C::Error> {
        self.inner.serialize_field(key, &Wrap(value))
    }
    fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
        self.inner.skip_field(key)
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Serialize;
    use serde_json::{json, Value};

    fn fast(v: &(impl Serialize + ?Sized)) -> String {
        let mut out = Vec::new();
        to_writer(&mut out, v).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// A long plain string takes the shortcut; the bytes are serde_json's.
    #[test]
    fn a_long_plain_string_is_written_between_quotes() {
        let url = format!("data:image/jpeg;base64,{}", "QUJD/+9".repeat(20));
        let v = json!(["frame", url]);
        assert_eq!(fast(&v), format!(r#"["frame","{url}"]"#));
        assert_eq!(fast(&v), serde_json::to_string(&v).unwrap());
    }

    /// Quotes, backslashes and control bytes are escaped exactly as serde_json escapes them.
    #[test]
    fn strings_that_need_escapes_are_escaped_as_serde_json_does() {
        let long = "x".repeat(40);
        for s in [
            format!("{long}\"q\""),
            format!("{long}\\"),
            format!("{long}\n\t\u{1}\u{1f}"),
            format!("{long}\u{7f}é\u{2028}"),
        ] {
            assert_eq!(fast(&s), serde_json::to_string(&s).unwrap(), "{s:?}");
        }
        assert_eq!(fast(&format!("{long}\u{1}")), format!(r#""{long}\u0001""#));
    }

    /// Structs, options, enums, maps with integer keys and a `RawValue` come out the same.
    #[test]
    fn every_shape_serde_json_writes_is_unchanged() {
        #[derive(Serialize)]
        enum E {
            Unit,
            New(String),
            Tuple(u8, String),
            Struct { a: Option<String> },
        }
        #[derive(Serialize)]
        struct S {
            e: Vec<E>,
            #[serde(skip_serializing_if = "Option::is_none")]
            skipped: Option<u8>,
            map: std::collections::BTreeMap<u32, String>,
            raw: Box<serde_json::value::RawValue>,
            f: f64,
            nan: f64,
        }
        let long = "y".repeat(33);
        let s = S {
            e: vec![
                E::Unit,
                E::New(long.clone()),
                E::Tuple(7, long.clone()),
                E::Struct {
                    a: Some(long.clone()),
                },
            ],
            skipped: None,
            map: [(3, long.clone())].into_iter().collect(),
            raw: serde_json::value::RawValue::from_string(format!(r#"{{"k":"{long}"}}"#)).unwrap(),
            f: 1700000149.8295062,
            nan: f64::NAN,
        };
        assert_eq!(fast(&s), serde_json::to_string(&s).unwrap());
    }

    /// An output error reaches the caller with its kind (a closed pipe stays a closed pipe).
    #[test]
    fn a_write_error_keeps_its_kind() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let e = to_writer(&mut Closed, &json!(["z".repeat(64)])).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<String>().prop_map(Value::from),
            "[a-z\"\\\\\n\u{1}/+=]{20,80}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                proptest::collection::vec(("[a-z\"]{0,40}", inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Any JSON value: the same bytes as serde_json.
        #[test]
        fn any_value_is_written_as_serde_json_writes_it(v in value()) {
            prop_assert_eq!(fast(&v), serde_json::to_string(&v).unwrap());
        }
    }
}
