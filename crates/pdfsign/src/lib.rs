//! Sealed PDFs for elicense: visible seal pictures and embedded signatures added as
//! incremental updates (so earlier signatures stay valid), PAdES baseline B-B CMS for ES256
//! seals, an opaque contents hook for GB/T 38540 `SES_Signature` seals, and verification
//! of every signature and of every revision after it.
//!
//! - [`prepare`] → [`Prepared::signed_ranges`] → [`Prepared::complete`]: two steps, so an
//!   HSM or a remote key can sign in between.
//! - [`cms::build`] / [`cms::check`]: the PAdES CMS.
//! - [`seal_es256`]: the three steps for a local ES256 [`elicense_crypto::Signer`].
//! - [`verify()`]: a [`Report`] of every signature and revision.
//!
//! The PDF parser is our own small one (`object`, `doc`): it reads classic xref tables,
//! xref streams and object streams, which is all sealing and checking need, and it gives
//! byte offsets that a general PDF library hides.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cms;
mod doc;
mod error;
mod object;
mod picture;
mod sign;
mod verify;

pub use doc::XrefKind;
pub use error::PdfError;
pub use sign::{prepare, Prepared, SealPlacement, SubFilter};
pub use verify::{verify, Change, Digests, Problem, Report, Revision, SignatureReport};

/// Room reserved for a PAdES CMS by [`seal_es256`]: a leaf and two chain certificates fit.
pub const DEFAULT_CMS_CAPACITY: usize = 8192;

/// Seals `pdf` with an ES256 key: [`prepare`] with `ETSI.CAdES.detached`, [`cms::build`]
/// with `signer` over the byte ranges, [`Prepared::complete`].
///
/// `signer_cert` is the DER certificate of `signer`'s key, `chain` the certificates above
/// it to embed. The placement's `sub_filter` is overridden to `ETSI.CAdES.detached`.
pub fn seal_es256(
    pdf: &[u8],
    spec: &SealPlacement,
    signer: &dyn elicense_crypto::Signer,
    signer_cert: &[u8],
    chain: &[Vec<u8>],
) -> Result<Vec<u8>, PdfError> {
    if signer.alg() != elicense_crypto::Alg::Es256 {
        return Err(PdfError::Signing(format!(
            "PAdES seals here are ES256, not {:?}",
            signer.alg()
        )));
    }
    let mut spec = spec.clone();
    spec.sub_filter = SubFilter::CadesDetached;
    let prepared = prepare(pdf, &spec)?;
    let digest = prepared.digests().sha256;
    let contents = cms::build(&digest, signer_cert, chain, &|m: &[u8]| signer.sign(m))?;
    prepared.complete(&contents)
}
