//! Deterministic CBOR (RFC 8949 §4.2.1, "core deterministic encoding").
//!
//! Signed records are hashed and signed as bytes, so one value must have
//! exactly one encoding. [`encode`] always writes that encoding, and
//! [`decode`] refuses anything else: integers and lengths not in their
//! shortest form, indefinite lengths, map keys out of order or repeated,
//! tags, floating point, `undefined`, invalid UTF-8 and trailing bytes.
//! Decoding is bounded in depth and in item count, so hostile bytes cost
//! little and never panic.
//!
//! ```
//! use tallymesh_core::cbor::{self, Value};
//!
//! let value = Value::map([(0, Value::Uint(1)), (1, Value::Text("alice".into()))]);
//! let bytes = cbor::encode(&value);
//! assert_eq!(bytes, [0xa2, 0x00, 0x01, 0x01, 0x65, b'a', b'l', b'i', b'c', b'e']);
//! assert_eq!(cbor::decode(&bytes).unwrap(), value);
//! ```

use thiserror::Error;

/// How deeply arrays and maps may nest.
pub const MAX_DEPTH: usize = 16;

/// How many items (array elements, map keys and values) one value may hold.
pub const MAX_ITEMS: usize = 100_000;

/// A CBOR data item of the kinds Tallymesh records use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// An unsigned integer.
    Uint(u64),
    /// A negative integer `-1 - n`, holding `n`.
    Nint(u64),
    /// A byte string.
    Bytes(Vec<u8>),
    /// A UTF-8 text string.
    Text(String),
    /// An array.
    Array(Vec<Value>),
    /// A map whose entries are kept in deterministic order: sorted by the
    /// bytes of their encoded keys. Build maps with [`Value::map`] or
    /// [`Value::map_of`], which sort.
    Map(Vec<(Value, Value)>),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// Bytes that are not deterministic CBOR of a supported value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CborError {
    /// The bytes ended inside an item.
    #[error("truncated CBOR at byte {0}")]
    Truncated(usize),
    /// An item that deterministic encoding forbids or we do not use.
    #[error("unsupported CBOR item at byte {at}: {what}")]
    Unsupported {
        /// Offset of the item.
        at: usize,
        /// What it was.
        what: &'static str,
    },
    /// An integer or length not in its shortest form.
    #[error("non-canonical CBOR at byte {0}: length or integer not in shortest form")]
    NotShortest(usize),
    /// Map keys not in ascending order of their encodings, or repeated.
    #[error("non-canonical CBOR at byte {0}: map keys out of order or repeated")]
    KeyOrder(usize),
    /// Text that is not UTF-8.
    #[error("invalid UTF-8 text in CBOR at byte {0}")]
    Utf8(usize),
    /// Nested too deeply or holding too many items.
    #[error("CBOR value too large or too deeply nested")]
    TooLarge,
    /// Bytes left over after the value.
    #[error("{0} unexpected bytes after the CBOR value")]
    Trailing(usize),
}

impl Value {
    /// A map with unsigned-integer keys, sorted into deterministic order.
    pub fn map<const N: usize>(entries: [(u64, Value); N]) -> Value {
        Value::map_of(entries.into_iter().map(|(k, v)| (Value::Uint(k), v)).collect())
    }

    /// A map of any entries, sorted into deterministic order. Entries with
    /// the same key keep only the last.
    pub fn map_of(entries: Vec<(Value, Value)>) -> Value {
        let mut keyed: Vec<(Vec<u8>, (Value, Value))> =
            entries.into_iter().map(|(k, v)| (encode(&k), (k, v))).collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        let mut sorted: Vec<(Vec<u8>, (Value, Value))> = Vec::with_capacity(keyed.len());
        for entry in keyed {
            match sorted.last_mut() {
                Some(last) if last.0 == entry.0 => *last = entry,
                _ => sorted.push(entry),
            }
        }
        Value::Map(sorted.into_iter().map(|(_, kv)| kv).collect())
    }

    /// The value stored under integer key `key`, if this is a map holding it.
    pub fn get(&self, key: u64) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, Value::Uint(n) if *n == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

/// The deterministic encoding of `value`.
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write(value, &mut out);
    out
}

fn head(major: u8, n: u64, out: &mut Vec<u8>) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend([m | 24, n as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend((n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(m | 26);
            out.extend((n as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend(n.to_be_bytes());
        }
    }
}

fn write(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Uint(n) => head(0, *n, out),
        Value::Nint(n) => head(1, *n, out),
        Value::Bytes(b) => {
            head(2, b.len() as u64, out);
            out.extend_from_slice(b);
        }
        Value::Text(t) => {
            head(3, t.len() as u64, out);
            out.extend_from_slice(t.as_bytes());
        }
        Value::Array(items) => {
            head(4, items.len() as u64, out);
            items.iter().for_each(|item| write(item, out));
        }
        Value::Map(entries) => {
            head(5, entries.len() as u64, out);
            for (k, v) in entries {
                write(k, out);
                write(v, out);
            }
        }
        Value::Bool(false) => out.push(0xf4),
        Value::Bool(true) => out.push(0xf5),
        Value::Null => out.push(0xf6),
    }
}

/// Reads exactly one deterministic CBOR value from `bytes`.
pub fn decode(bytes: &[u8]) -> Result<Value, CborError> {
    let mut reader = Reader {
        bytes,
        pos: 0,
        items: 0,
    };
    let value = reader.value(0)?;
    if reader.pos != bytes.len() {
        return Err(CborError::Trailing(bytes.len() - reader.pos));
    }
    Ok(value)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    items: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], CborError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or(CborError::Truncated(self.pos))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    /// Reads a head: major type and argument, insisting on the shortest form.
    fn head(&mut self) -> Result<(u8, u64, usize), CborError> {
        let at = self.pos;
        let first = self.take(1)?[0];
        let (major, info) = (first >> 5, first & 0x1f);
        let (n, minimum) = match info {
            0..=23 => (u64::from(info), 0),
            24 => (u64::from(self.take(1)?[0]), 24),
            25 => (
                u64::from(u16::from_be_bytes([self.take(1)?[0], self.take(1)?[0]])),
                0x100,
            ),
            26 => {
                let b = self.take(4)?;
                (u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])), 0x1_0000)
            }
            27 => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                (u64::from_be_bytes(a), 0x1_0000_0000)
            }
            31 => {
                return Err(CborError::Unsupported {
                    at,
                    what: "indefinite length",
                });
            }
            _ => {
                return Err(CborError::Unsupported {
                    at,
                    what: "reserved additional information",
                });
            }
        };
        if major != 7 && n < minimum {
            return Err(CborError::NotShortest(at));
        }
        Ok((major, n, at))
    }

    fn count(&mut self, n: u64) -> Result<usize, CborError> {
        let n = usize::try_from(n).map_err(|_| CborError::TooLarge)?;
        self.items = self.items.checked_add(n).ok_or(CborError::TooLarge)?;
        if self.items > MAX_ITEMS || n > self.bytes.len() {
            return Err(CborError::TooLarge);
        }
        Ok(n)
    }

    fn value(&mut self, depth: usize) -> Result<Value, CborError> {
        if depth > MAX_DEPTH {
            return Err(CborError::TooLarge);
        }
        let (major, n, at) = self.head()?;
        match major {
            0 => Ok(Value::Uint(n)),
            1 => Ok(Value::Nint(n)),
            2 => {
                let len = usize::try_from(n).map_err(|_| CborError::Truncated(at))?;
                Ok(Value::Bytes(self.take(len)?.to_vec()))
            }
            3 => {
                let len = usize::try_from(n).map_err(|_| CborError::Truncated(at))?;
                let raw = self.take(len)?;
                let text = std::str::from_utf8(raw).map_err(|_| CborError::Utf8(at))?;
                Ok(Value::Text(text.to_owned()))
            }
            4 => {
                let len = self.count(n)?;
                let mut items = Vec::with_capacity(len.min(1024));
                for _ in 0..len {
                    items.push(self.value(depth + 1)?);
                }
                Ok(Value::Array(items))
            }
            5 => {
                let len = self.count(n.saturating_mul(2))? / 2;
                let mut entries = Vec::with_capacity(len.min(1024));
                let mut previous_key: Option<&[u8]> = None;
                for _ in 0..len {
                    let key_start = self.pos;
                    let key = self.value(depth + 1)?;
                    let key_bytes = &self.bytes[key_start..self.pos];
                    if previous_key.is_some_and(|p| p >= key_bytes) {
                        return Err(CborError::KeyOrder(key_start));
                    }
                    previous_key = Some(key_bytes);
                    let value = self.value(depth + 1)?;
                    entries.push((key, value));
                }
                Ok(Value::Map(entries))
            }
            6 => Err(CborError::Unsupported { at, what: "tag" }),
            _ => match (self.bytes[at] & 0x1f, n) {
                (20, _) => Ok(Value::Bool(false)),
                (21, _) => Ok(Value::Bool(true)),
                (22, _) => Ok(Value::Null),
                (23, _) => Err(CborError::Unsupported { at, what: "undefined" }),
                (25..=27, _) => Err(CborError::Unsupported {
                    at,
                    what: "floating point",
                }),
                _ => Err(CborError::Unsupported {
                    at,
                    what: "simple value",
                }),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::hash::unhex as hex;

    #[test]
    fn encodings_match_rfc_8949_appendix_a() {
        let cases: Vec<(Value, &str)> = vec![
            (Value::Uint(0), "00"),
            (Value::Uint(23), "17"),
            (Value::Uint(24), "1818"),
            (Value::Uint(100), "1864"),
            (Value::Uint(1000), "1903e8"),
            (Value::Uint(1_000_000), "1a000f4240"),
            (Value::Uint(1_000_000_000_000), "1b000000e8d4a51000"),
            (Value::Uint(u64::MAX), "1bffffffffffffffff"),
            (Value::Nint(0), "20"),
            (Value::Nint(999), "3903e7"),
            (Value::Bool(false), "f4"),
            (Value::Null, "f6"),
            (Value::Bytes(vec![1, 2, 3, 4]), "4401020304"),
            (Value::Text("IETF".into()), "6449455446"),
            (Value::Text("\u{6c34}".into()), "63e6b0b4"),
            (Value::Array(vec![]), "80"),
            (
                Value::Array(vec![Value::Uint(1), Value::Array(vec![Value::Uint(2), Value::Uint(3)])]),
                "8201820203",
            ),
            (Value::map([(1, Value::Uint(2)), (3, Value::Uint(4))]), "a201020304"),
        ];
        for (value, expected) in cases {
            assert_eq!(encode(&value), hex(expected), "{value:?}");
            assert_eq!(decode(&hex(expected)).unwrap(), value, "{expected}");
        }
    }

    #[test]
    fn maps_are_sorted_by_encoded_key_whatever_the_insertion_order() {
        let a = Value::map_of(vec![
            (Value::Text("b".into()), Value::Uint(1)),
            (Value::Uint(10), Value::Uint(2)),
            (Value::Text("a".into()), Value::Uint(3)),
            (Value::Uint(100), Value::Uint(4)),
        ]);
        let b = Value::map_of(vec![
            (Value::Uint(100), Value::Uint(4)),
            (Value::Text("a".into()), Value::Uint(3)),
            (Value::Uint(10), Value::Uint(2)),
            (Value::Text("b".into()), Value::Uint(1)),
        ]);
        assert_eq!(encode(&a), encode(&b));
        // 10 (0x0a) < 100 (0x18 0x64) < "a" (0x61 0x61) < "b"
        assert_eq!(encode(&a), hex("a40a02186404616103616201"));
    }

    #[test]
    fn non_canonical_encodings_are_refused() {
        assert_eq!(decode(&hex("1817")), Err(CborError::NotShortest(0)), "23 in two bytes");
        assert_eq!(decode(&hex("190017")), Err(CborError::NotShortest(0)));
        assert_eq!(
            decode(&hex("5801ff")),
            Err(CborError::NotShortest(0)),
            "byte string length"
        );
        assert_eq!(decode(&hex("a203040102")), Err(CborError::KeyOrder(3)), "keys 3 then 1");
        assert_eq!(decode(&hex("a201020103")), Err(CborError::KeyOrder(3)), "key 1 twice");
        assert!(
            matches!(decode(&hex("9f01ff")), Err(CborError::Unsupported { .. })),
            "indefinite"
        );
        assert!(
            matches!(decode(&hex("c11a514b67b0")), Err(CborError::Unsupported { .. })),
            "tag"
        );
        assert!(
            matches!(decode(&hex("f93c00")), Err(CborError::Unsupported { .. })),
            "float"
        );
        assert!(
            matches!(decode(&hex("f7")), Err(CborError::Unsupported { .. })),
            "undefined"
        );
        assert_eq!(decode(&hex("62c328")), Err(CborError::Utf8(0)));
        assert_eq!(decode(&hex("0000")), Err(CborError::Trailing(1)));
        assert_eq!(decode(&hex("1a0001")), Err(CborError::Truncated(1)));
    }

    #[test]
    fn hostile_sizes_are_refused_without_allocating() {
        // An array claiming 2^64-1 items, and a byte string claiming 4 GiB.
        assert_eq!(decode(&hex("9bffffffffffffffff")), Err(CborError::TooLarge));
        assert_eq!(decode(&hex("5affffffff00")), Err(CborError::Truncated(5)));
        let deep = [vec![0x81u8; MAX_DEPTH + 2], vec![0x00]].concat();
        assert_eq!(decode(&deep), Err(CborError::TooLarge));
    }

    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<u64>().prop_map(Value::Uint),
            any::<u64>().prop_map(Value::Nint),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
            ".{0,20}".prop_map(Value::Text),
            any::<bool>().prop_map(Value::Bool),
            Just(Value::Null),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                proptest::collection::vec((inner.clone(), inner), 0..8).prop_map(Value::map_of),
            ]
        })
    }

    proptest! {
        #[test]
        fn every_value_round_trips(value in any_value()) {
            let bytes = encode(&value);
            prop_assert_eq!(decode(&bytes), Ok(value));
        }

        #[test]
        fn decoding_then_encoding_gives_back_the_same_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            // Whatever decodes is canonical: re-encoding reproduces it exactly.
            if let Ok(value) = decode(&bytes) {
                prop_assert_eq!(encode(&value), bytes);
            }
        }
    }
}
