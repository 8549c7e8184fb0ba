//! What the last failed queries on this thread said about the connection and the transaction.
//!
//! diesel turns a database error into the caller's own error type long before the pool or the
//! transaction loop see it again, so the statement instrumentation notes, per thread, the two
//! facts those need: the server is gone (drop the connection instead of pooling it), and the
//! transaction failed in a way that trying it again can cure (serialization failure, deadlock).
//! A pooled connection is used by one thread from checkout to return, so the thread is the
//! right scope.

use std::cell::Cell;

use diesel::result::{DatabaseErrorKind, Error};

thread_local! {
    static CONNECTION_LOST: Cell<bool> = const { Cell::new(false) };
    static TRANSIENT: Cell<Option<&'static str>> = const { Cell::new(None) };
}

/// Records what `error` says, if anything this module tracks.
pub fn note(error: &Error) {
    if connection_lost(error) {
        CONNECTION_LOST.with(|c| c.set(true));
    }
    if let Some(reason) = transient(error) {
        TRANSIENT.with(|c| c.set(Some(reason)));
    }
}

/// Whether the error means the connection no longer reaches a working server.
pub fn connection_lost(error: &Error) -> bool {
    match error {
        // a read-only server where a primary was expected: a demoted primary, or a standby
        // reached before promotion; a fresh connection finds the read-write one
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::ReadOnlyTransaction,
            _,
        ) => true,
        Error::DatabaseError(_, info) => {
            let m = info.message();
            // a standby being promoted or a server shutting down ends sessions this way
            m.contains("terminating connection")
                || m.contains("server closed the connection")
                || m.contains("no connection to the server")
        }
        Error::BrokenTransactionManager => true,
        _ => false,
    }
}

/// `Some(reason)` when the transaction can be run again as it is: PostgreSQL's
/// serialization failure (SQLSTATE 40001) or deadlock (40P01, which diesel reports only by its
/// message).
pub fn transient(error: &Error) -> Option<&'static str> {
    match error {
        Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => Some("serialization"),
        Error::DatabaseError(_, info) if info.message().contains("deadlock detected") => {
            Some("deadlock")
        }
        _ => None,
    }
}

/// Whether a query on this thread found the server gone since the last call; clears it.
pub fn take_connection_lost() -> bool {
    CONNECTION_LOST.with(|c| c.replace(false))
}

/// Whether a query on this thread found the server gone since the last `take`, without
/// clearing it (the pool's `has_broken` does that when the connection goes back).
pub fn connection_lost_seen() -> bool {
    CONNECTION_LOST.with(Cell::get)
}

/// The transient failure a query on this thread met since the last call; clears it.
pub fn take_transient() -> Option<&'static str> {
    TRANSIENT.with(|c| c.replace(None))
}
