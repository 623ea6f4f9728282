//! [`IndexAdmin`]: what the HTTP API needs from the store beyond ingest and reads, and that the
//! store does not offer yet.
//!
//! Wiring: once `store::Store` has `delete_index(&self, name) -> Result<bool, StoreError>`, the
//! implementation below becomes a call to it; nothing else in this crate changes.

use store::{Store, StoreError};

/// Index management the API serves.
pub trait IndexAdmin: Send + Sync {
    /// Deletes the index or data stream `name` with its documents, mapping and segments.
    /// Returns `Ok(false)` when there is no such index.
    ///
    /// # Errors
    /// [`AdminError::Unsupported`] while the store cannot delete; [`AdminError::Store`] when
    /// removing the files fails.
    fn delete_index(&self, name: &str) -> Result<bool, AdminError>;
}

/// Why an admin operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The store does not implement the operation yet.
    #[error("{0} is not supported yet")]
    Unsupported(&'static str),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IndexAdmin for Store {
    fn delete_index(&self, _name: &str) -> Result<bool, AdminError> {
        // TODO(server): call `Store::delete_index` when the store has it (#4).
        Err(AdminError::Unsupported("deleting an index"))
    }
}
