//! Applying seals: one incremental update per [`SealJob`], in order.
//!
//! Invariant: every job's update signs everything before it, so the first job's signature
//! stays valid through the later ones (a joint seal); a failing job leaves no output.

use elicense_crypto::{Alg, Signer};
use elicense_pdf::{cms, prepare, PdfError, Prepared, SealPlacement, SubFilter};
use time::OffsetDateTime;

use super::{embed, DocError, SES_SUB_FILTER};
use crate::ses::{sign_data, Seal, SealError};

/// One seal to apply.
#[derive(Clone, Copy)]
pub struct SealJob<'a> {
    /// The seal (its picture is drawn; its certificate list must name `certificate`).
    pub seal: &'a Seal,
    /// The signer's key: SM2 (a `SES_Signature`) or P-256 (a PAdES CMS).
    pub signer: &'a dyn Signer,
    /// The signer's certificate (DER).
    pub certificate: &'a [u8],
    /// Certificates above it to embed (PAdES only; a `SES_Signature` has no room for them).
    pub chain: &'a [Vec<u8>],
    /// The 0-based page.
    pub page: usize,
    /// `[llx, lly, urx, ury]` in PDF points.
    pub rect: [f64; 4],
}

/// Room besides the seal and certificates: `TBS_Sign` fields, the signature, the CMS
/// attributes and encoding overhead.
const SLACK: usize = 2048;

/// Seals `pdf` with each job in turn, all at time `at`; returns the sealed document.
pub fn seal_pdf(pdf: &[u8], jobs: &[SealJob<'_>], at: OffsetDateTime) -> Result<Vec<u8>, DocError> {
    if jobs.is_empty() {
        return Err(DocError::NoJobs);
    }
    let mut doc = pdf.to_vec();
    for (i, job) in jobs.iter().enumerate() {
        doc = apply(&doc, job, i + 1, at)?;
    }
    Ok(doc)
}

fn apply(
    pdf: &[u8],
    job: &SealJob<'_>,
    first_n: usize,
    at: OffsetDateTime,
) -> Result<Vec<u8>, DocError> {
    let info = job.seal.info();
    if !info.picture.format.eq_ignore_ascii_case("PNG") {
        return Err(DocError::PictureNotPng(info.picture.format.clone()));
    }
    if !info.signers.lists(job.certificate) {
        return Err(SealError::SignerNotInSeal.into());
    }
    let seal_der = job.seal.to_der();
    let certs: usize = job.certificate.len() + job.chain.iter().map(Vec::len).sum::<usize>();
    let (sub_filter, capacity) = match job.signer.alg() {
        Alg::Sm2 => (
            SubFilter::Other(SES_SUB_FILTER.into()),
            seal_der.len() + job.certificate.len() + SLACK,
        ),
        Alg::Es256 => (SubFilter::CadesDetached, seal_der.len() + certs + SLACK),
        other => return Err(DocError::UnsupportedKey(other.to_string())),
    };
    let mut placement = SealPlacement {
        page: job.page,
        rect: job.rect,
        picture: info.picture.data.clone(),
        field_name: String::new(),
        name: Some(info.name.clone()),
        reason: Some(format!("电子印章 {}", info.seal_id)),
        location: None,
        signing_time: at,
        sub_filter,
        contents_capacity: capacity,
    };
    let prepared = prepare_unique(pdf, &mut placement, first_n)?;
    let contents = match job.signer.alg() {
        Alg::Sm2 => {
            let [_, a, b, c] = prepared.byte_range();
            let hash = prepared.digests().sm3;
            let property = format!("PDF ByteRange [0 {a} {b} {c}] SM3");
            sign_data(job.seal, job.signer, job.certificate, at, &hash, &property)?.to_der()
        }
        _ => {
            let digest = prepared.digests().sha256;
            let sign = |m: &[u8]| job.signer.sign(m);
            let cms = cms::build(&digest, job.certificate, job.chain, &sign)?;
            embed::add_seal(&cms, job.seal)?
        }
    };
    Ok(prepared.complete(&contents)?)
}

/// Prepares the update with the first free field name `SealN`, N from `first_n` on.
fn prepare_unique(
    pdf: &[u8],
    placement: &mut SealPlacement,
    first_n: usize,
) -> Result<Prepared, DocError> {
    let mut n = first_n;
    loop {
        placement.field_name = format!("Seal{n}");
        match prepare(pdf, placement) {
            Err(PdfError::FieldExists(_)) if n < first_n + 1000 => n += 1,
            other => return Ok(other?),
        }
    }
}
