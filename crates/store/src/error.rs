//! The store's errors: [`StoreError`] for the store as a whole, [`DocumentError`] for one
//! document that was refused (the others go on).

use std::fmt;
use std::path::PathBuf;

/// Why a store operation failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file system operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, naming the path.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Another process holds the data folder.
    #[error("the data folder {} is in use by another process", .path.display())]
    Locked {
        /// The data folder.
        path: PathBuf,
    },
    /// A file of the data folder is not what the store wrote.
    #[error("{}: {message}", .path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// An earlier write-ahead log write or fsync failed; acknowledging anything after it would be
    /// a lie, so the store refuses writes until it is reopened (and replays what is durable).
    #[error("the write-ahead log failed ({0}); reopen the store to recover")]
    WalFailed(String),
    /// Writing or reading a Parquet segment failed.
    #[error("segment {}: {message}", .path.display())]
    Segment {
        /// The segment file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A document was refused: an update whose result the index does not accept (a field
    /// that does not fit its mapping; a data stream, whose documents are not updated).
    #[error("document [{id}] refused: {error}")]
    Refused {
        /// The document's `_id`.
        id: String,
        /// Why.
        error: DocumentError,
    },
    /// A bug in Saker.
    #[error("internal error: {0}; please report this")]
    Internal(String),
}

impl StoreError {
    /// A closure turning an I/O error into [`StoreError::Io`] with `context`.
    pub(crate) fn io(context: impl fmt::Display) -> impl FnOnce(std::io::Error) -> StoreError {
        let context = context.to_string();
        move |source| StoreError::Io { context, source }
    }
}

/// Why one document (one `_bulk` item) was refused, in Elasticsearch's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentError {
    /// Elasticsearch's error type (`document_parsing_exception`, `illegal_argument_exception`, …).
    pub kind: &'static str,
    /// What is wrong, naming the field or the value.
    pub reason: String,
    /// The HTTP status `_bulk` reports for the item (400, 409, 413, 500).
    pub status: u16,
}

impl DocumentError {
    /// The document's JSON is invalid, or its fields cannot be mapped (400).
    pub(crate) fn parsing(reason: impl Into<String>) -> DocumentError {
        DocumentError { kind: "document_parsing_exception", reason: reason.into(), status: 400 }
    }

    /// The request for this item is invalid (400).
    pub(crate) fn illegal(reason: impl Into<String>) -> DocumentError {
        DocumentError { kind: "illegal_argument_exception", reason: reason.into(), status: 400 }
    }

    /// A document with this `_id` exists (409).
    pub(crate) fn conflict(reason: impl Into<String>) -> DocumentError {
        DocumentError { kind: "version_conflict_engine_exception", reason: reason.into(), status: 409 }
    }

    /// The document is larger than the store accepts (413).
    pub(crate) fn too_large(reason: impl Into<String>) -> DocumentError {
        DocumentError { kind: "document_too_large_exception", reason: reason.into(), status: 413 }
    }

    /// The store failed while writing the document (500); nothing of it was acknowledged.
    pub(crate) fn store(error: &StoreError) -> DocumentError {
        DocumentError { kind: "store_exception", reason: error.to_string(), status: 500 }
    }
}

impl fmt::Display for DocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.reason)
    }
}

impl std::error::Error for DocumentError {}
