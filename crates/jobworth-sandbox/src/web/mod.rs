//! What every route shares: body buffering, the body extractors, the request log.

pub(crate) mod bodies;
pub(crate) mod errors;
pub(crate) mod extract;
pub(crate) mod log;
