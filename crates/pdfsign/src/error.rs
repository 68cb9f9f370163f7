//! The crate's one error type. Each variant has a stable machine code (`pdf.…`, `cms.…`)
//! that the API, the CLI and the logs show; messages are for people and may change.
//!
//! An `Err` means the input could not be read or the operation could not be done. A
//! signature that was read but does not verify is a verdict, reported as a
//! [`crate::Problem`] in [`crate::Report`], never as an error.

/// Why a PDF could not be read, prepared, completed or its CMS built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PdfError {
    /// The bytes do not start with a `%PDF-` header.
    #[error("not a PDF: {0}")]
    NotAPdf(String),
    /// The file ends before its last cross-reference section or `%%EOF` (cut off).
    #[error("the PDF is truncated: {0}")]
    Truncated(String),
    /// The cross-reference table or stream cannot be read.
    #[error("bad cross-reference data: {0}")]
    BadXref(String),
    /// An object the document needs is missing or malformed.
    #[error("bad PDF object: {0}")]
    BadObject(String),
    /// The document is encrypted; sealing and checking encrypted PDFs is not supported.
    #[error("the PDF is encrypted")]
    Encrypted,
    /// A stream uses a filter or predictor this crate does not decode.
    #[error("unsupported stream encoding: {0}")]
    UnsupportedFilter(String),
    /// The seal placement asks for a page the document does not have.
    #[error("page {page} does not exist (the document has {count} pages)")]
    NoSuchPage {
        /// The 0-based page asked for.
        page: usize,
        /// How many pages there are.
        count: usize,
    },
    /// A form field of that name exists already.
    #[error("a form field named {0:?} exists already")]
    FieldExists(String),
    /// The placement is unusable (empty field name, empty or inverted rectangle, zero capacity).
    #[error("bad seal placement: {0}")]
    BadPlacement(String),
    /// The seal picture is not a PNG this crate can read.
    #[error("bad seal picture: {0}")]
    BadPicture(String),
    /// The signature contents are larger than the space reserved for them.
    #[error("the signature contents ({len} bytes) exceed the reserved {capacity} bytes")]
    ContentsTooLarge {
        /// Bytes given.
        len: usize,
        /// Bytes reserved by `prepare`.
        capacity: usize,
    },
    /// A certificate given for the CMS does not parse.
    #[error("bad certificate: {0}")]
    BadCertificate(String),
    /// The signing callback failed.
    #[error("signing failed: {0}")]
    Signing(String),
    /// DER encoding of a CMS structure failed.
    #[error("CMS encoding failed: {0}")]
    CmsEncoding(String),
}

impl PdfError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            PdfError::NotAPdf(_) => "pdf.not_a_pdf",
            PdfError::Truncated(_) => "pdf.truncated",
            PdfError::BadXref(_) => "pdf.bad_xref",
            PdfError::BadObject(_) => "pdf.bad_object",
            PdfError::Encrypted => "pdf.encrypted",
            PdfError::UnsupportedFilter(_) => "pdf.unsupported_filter",
            PdfError::NoSuchPage { .. } => "pdf.no_such_page",
            PdfError::FieldExists(_) => "pdf.field_exists",
            PdfError::BadPlacement(_) => "pdf.bad_placement",
            PdfError::BadPicture(_) => "pdf.bad_picture",
            PdfError::ContentsTooLarge { .. } => "pdf.contents_too_large",
            PdfError::BadCertificate(_) => "cms.bad_certificate",
            PdfError::Signing(_) => "cms.signing_failed",
            PdfError::CmsEncoding(_) => "cms.encoding",
        }
    }
}

pub(crate) fn bad_object(msg: impl Into<String>) -> PdfError {
    PdfError::BadObject(msg.into())
}
