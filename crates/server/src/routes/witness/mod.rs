//! The node as a witness of its children's logs (C2SP tlog-witness; submission prefix
//! `/witness`). Unauthenticated, as the spec wants: the log's signature on the checkpoint is
//! the only credential. See `elicense_app::federation::witness`.

pub mod add_checkpoint;
