//! [`IndexAdmin`]: index management the HTTP API needs from the store, behind a trait so that
//! handlers can be tested against another implementation.

use store::{Store, StoreError};

/// Index management the API serves.
pub trait IndexAdmin: Send + Sync {
    /// Deletes the index or data stream `name` with its documents, mapping, settings and
    /// segments. Returns `Ok(false)` when there is no such index.
    ///
    /// # Errors
    /// [`AdminError::Store`] when the deletion cannot be made durable; the index is then left as
    /// it was.
    fn delete_index(&self, name: &str) -> Result<bool, AdminError>;
}

/// Why an admin operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// An operation the implementation does not offer (the store offers every one).
    #[error("{0} is not supported")]
    Unsupported(&'static str),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IndexAdmin for Store {
    fn delete_index(&self, name: &str) -> Result<bool, AdminError> {
        Ok(Store::delete_index(self, name)?)
    }
}
