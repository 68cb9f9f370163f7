//! Strict reading of a top-level seal structure: one DER TLV, no trailing bytes, a GM/T 0031
//! two-element shape named as such, and a re-encoding equal to the input.

use der::asn1::Any;
use der::{Decode, Encode, Reader, SliceReader, Tag, Tagged};

use super::error::{bad_der, SealError};

/// Decodes `T` from `bytes`. `check` runs on the decoded value before the canonical-encoding
/// check, so a wrong version is named as such rather than as an encoding fault.
pub(crate) fn decode<T>(
    bytes: &[u8],
    check: impl FnOnce(&T) -> Result<(), SealError>,
) -> Result<T, SealError>
where
    T: for<'a> Decode<'a> + Encode,
{
    let mut reader = SliceReader::new(bytes).map_err(bad_der)?;
    let outer = Any::decode(&mut reader).map_err(bad_der)?;
    let rest = u32::from(reader.remaining_len()) as usize;
    if rest != 0 {
        return Err(SealError::TrailingBytes(rest));
    }
    if outer.tag() != Tag::Sequence {
        return Err(bad_der(format!(
            "expected a SEQUENCE, found {}",
            outer.tag()
        )));
    }
    let elements: Vec<Any> = outer.decode_as().map_err(bad_der)?;
    // GM/T 0031: SESeal { sealInfo, signInfo } and SES_Signature { toSign, signature }; the
    // v4 structures have four (SESeal) or four or five (SES_Signature) elements.
    if elements.len() == 2 {
        return Err(SealError::GmT0031);
    }
    let value = T::from_der(bytes).map_err(bad_der)?;
    check(&value)?;
    let again = value.to_der().map_err(bad_der)?;
    if again != bytes {
        return Err(bad_der("not in canonical DER form"));
    }
    Ok(value)
}
