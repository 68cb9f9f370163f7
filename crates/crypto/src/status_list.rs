//! IETF Token Status List (draft-ietf-oauth-status-list): a compressed bit array of
//! statuses, published as a signed `statuslist+jwt`.
//!
//! Invariants: `bits` is 1, 2, 4 or 8; entry `i` occupies bits `i*bits .. (i+1)*bits`
//! counted from the least significant bit of byte `i*bits/8`; the byte array has exactly
//! `ceil(len*bits/8)` bytes; `lst` is base64url (no padding) of the ZLIB (RFC 1950)
//! stream of those bytes. Decoding never inflates more than [`MAX_DECOMPRESSED`] bytes.

use std::io::{Read, Write};

use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use serde_json::{json, Map, Value};
use thiserror::Error;

use crate::jws::{self, Header, JwsError};
use crate::{b64, Alg};

/// Largest decompressed list accepted by [`StatusList::decode`] (64 MiB).
pub const MAX_DECOMPRESSED: usize = 64 << 20;
/// Header `typ` of a Status List Token.
pub const TYP_STATUS_LIST_JWT: &str = "statuslist+jwt";

/// Why a status list could not be built, changed or read.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatusListError {
    /// `bits` is not 1, 2, 4 or 8.
    #[error("bits must be 1, 2, 4 or 8, got {0}")]
    BadBits(u64),
    /// An index beyond the list.
    #[error("index {idx} out of range (len {len})")]
    OutOfRange {
        /// The index asked for.
        idx: usize,
        /// The list length.
        len: usize,
    },
    /// A status value that does not fit in `bits`.
    #[error("status {value} does not fit in {bits} bits")]
    BadValue {
        /// The value.
        value: u8,
        /// The list's bits per entry.
        bits: u8,
    },
    /// `lst` is not base64url of a ZLIB stream, or a token lacks `status_list`.
    #[error("malformed status list: {0}")]
    Malformed(String),
    /// The decompressed list would exceed [`MAX_DECOMPRESSED`].
    #[error("status list larger than the limit")]
    TooLarge,
    /// The token header `typ` is not `statuslist+jwt`.
    #[error("token typ {0:?} is not statuslist+jwt")]
    BadTyp(Option<String>),
    /// The token is not a valid compact JWS.
    #[error("status list token: {0}")]
    Jws(#[from] JwsError),
}

impl StatusListError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            StatusListError::BadBits(_) => "statuslist.bad_bits",
            StatusListError::OutOfRange { .. } => "statuslist.out_of_range",
            StatusListError::BadValue { .. } => "statuslist.bad_value",
            StatusListError::Malformed(_) => "statuslist.malformed",
            StatusListError::TooLarge => "statuslist.too_large",
            StatusListError::BadTyp(_) => "statuslist.bad_typ",
            StatusListError::Jws(e) => e.code(),
        }
    }
}

/// A list of statuses of `bits` bits each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: u8,
    len: usize,
    bytes: Vec<u8>,
}

fn check_bits(bits: u64) -> Result<u8, StatusListError> {
    match bits {
        1 | 2 | 4 | 8 => Ok(bits as u8),
        _ => Err(StatusListError::BadBits(bits)),
    }
}

impl StatusList {
    /// A list of `len` entries, all 0 (valid).
    pub fn new(bits: u8, len: usize) -> Result<Self, StatusListError> {
        let bits = check_bits(bits.into())?;
        let nbytes = len
            .checked_mul(bits.into())
            .map(|b| b.div_ceil(8))
            .filter(|&n| n <= MAX_DECOMPRESSED)
            .ok_or(StatusListError::TooLarge)?;
        Ok(StatusList {
            bits,
            len,
            bytes: vec![0; nbytes],
        })
    }

    /// Bits per entry.
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The raw byte array.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn locate(&self, idx: usize) -> (usize, u32, u8) {
        let bit = idx * usize::from(self.bits);
        let mask = ((1u16 << self.bits) - 1) as u8;
        (bit / 8, (bit % 8) as u32, mask)
    }

    /// The status at `idx`, or `None` past the end.
    pub fn get(&self, idx: usize) -> Option<u8> {
        if idx >= self.len {
            return None;
        }
        let (byte, shift, mask) = self.locate(idx);
        Some((self.bytes[byte] >> shift) & mask)
    }

    /// Sets the status at `idx`.
    pub fn set(&mut self, idx: usize, v: u8) -> Result<(), StatusListError> {
        if idx >= self.len {
            return Err(StatusListError::OutOfRange { idx, len: self.len });
        }
        let (byte, shift, mask) = self.locate(idx);
        if v & !mask != 0 {
            return Err(StatusListError::BadValue {
                value: v,
                bits: self.bits,
            });
        }
        self.bytes[byte] = (self.bytes[byte] & !(mask << shift)) | (v << shift);
        Ok(())
    }

    fn compress(&self) -> Vec<u8> {
        let mut enc = ZlibEncoder::new(Vec::new(), Compression::best());
        enc.write_all(&self.bytes)
            .expect("writing to a Vec cannot fail");
        enc.finish().expect("writing to a Vec cannot fail")
    }

    /// The `lst` value: base64url of the ZLIB-compressed bytes, best compression.
    pub fn encode_lst(&self) -> String {
        b64::encode(&self.compress())
    }

    /// Size in bytes of the compressed list (before base64url).
    pub fn compressed_len(&self) -> usize {
        self.compress().len()
    }

    /// Reads an `lst`. The length is the full capacity of the decompressed bytes
    /// (`bytes*8/bits`), as the format does not record it.
    pub fn decode(bits: u8, lst: &str) -> Result<Self, StatusListError> {
        let bits = check_bits(bits.into())?;
        let compressed = b64::decode(lst)
            .map_err(|_| StatusListError::Malformed("lst is not base64url".into()))?;
        let mut bytes = Vec::new();
        ZlibDecoder::new(compressed.as_slice())
            .take(MAX_DECOMPRESSED as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| StatusListError::Malformed(format!("lst is not a ZLIB stream: {e}")))?;
        if bytes.len() > MAX_DECOMPRESSED {
            return Err(StatusListError::TooLarge);
        }
        let len = bytes.len() * 8 / usize::from(bits);
        Ok(StatusList { bits, len, bytes })
    }
}

/// The payload of a Status List Token; `exp` and `ttl` are omitted when `None`.
pub fn token_payload(
    list: &StatusList,
    sub: &str,
    iat: i64,
    exp: Option<i64>,
    ttl: Option<i64>,
) -> Value {
    let mut m = Map::new();
    m.insert("sub".into(), sub.into());
    m.insert("iat".into(), iat.into());
    if let Some(exp) = exp {
        m.insert("exp".into(), exp.into());
    }
    if let Some(ttl) = ttl {
        m.insert("ttl".into(), ttl.into());
    }
    m.insert(
        "status_list".into(),
        json!({ "bits": list.bits(), "lst": list.encode_lst() }),
    );
    Value::Object(m)
}

/// The header of a Status List Token: `{"alg","typ":"statuslist+jwt","kid"}`.
pub fn token_header(alg: Alg, kid: &str) -> Header {
    Header::new(alg).with_typ(TYP_STATUS_LIST_JWT).with_kid(kid)
}

/// Parses a Status List Token (not verified: call `verify_with` on the returned JWS).
pub fn parse_token(jwt: &str) -> Result<(jws::Parsed, StatusList), StatusListError> {
    let parsed = jws::parse(jwt)?;
    if parsed.header.typ.as_deref() != Some(TYP_STATUS_LIST_JWT) {
        return Err(StatusListError::BadTyp(parsed.header.typ.clone()));
    }
    let sl = parsed
        .payload
        .get("status_list")
        .ok_or_else(|| StatusListError::Malformed("token without status_list".into()))?;
    let bits = sl
        .get("bits")
        .and_then(Value::as_u64)
        .ok_or_else(|| StatusListError::Malformed("status_list.bits is not an integer".into()))?;
    let lst = sl
        .get("lst")
        .and_then(Value::as_str)
        .ok_or_else(|| StatusListError::Malformed("status_list.lst is not a string".into()))?;
    let list = StatusList::decode(check_bits(bits)?, lst)?;
    Ok((parsed, list))
}
