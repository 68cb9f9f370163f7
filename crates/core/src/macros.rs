//! One implementation of the text conversions shared by the parse-only code types.
//!
//! Invariant: for a type `T` given to [`text_type!`], `T::parse` is the only way in; every
//! conversion (`FromStr`, `TryFrom<String>`, serde) goes through it, and `Display` prints
//! exactly the text that was parsed.

/// Implements `Display`, `FromStr`, `TryFrom<String>` and `From<T> for String` for a type
/// with `fn parse(&str) -> Result<Self, $err>` and `fn as_str(&self) -> &str`.
/// Combined with `#[serde(try_from = "String", into = "String")]` this gives serde too.
macro_rules! text_type {
    ($ty:ty, $err:ty) => {
        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $err;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = $err;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$ty> for String {
            fn from(v: $ty) -> Self {
                v.as_str().to_owned()
            }
        }
    };
}

pub(crate) use text_type;
