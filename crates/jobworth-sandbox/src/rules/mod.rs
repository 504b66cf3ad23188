//! The business rules of the v3 methods the sandbox serves, one module per method. A method is
//! a [`Params`] type, a rules function taking a [`Call`] and those parameters, and a line in the
//! gateway's table.

pub(crate) mod authentication;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{AppRecord, Generations};

/// A request that passed every gateway check, as the rules see it.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    /// The sandbox.
    pub state: &'a AppState,
    /// The calling app, current as of the request's nonce insert.
    pub app: &'a AppRecord,
    /// The change counters as of that insert: what the rules read must be current at them.
    pub generations: Generations,
}

impl Call<'_> {
    /// Reads a method's parameters from the query string.
    pub fn params<P: Params>(&self, raw_query: Option<&str>) -> Result<P, ApiError> {
        P::parse(raw_query, self.state.cfg().allow_unknown_params)
    }
}

/// The parameters of one v3 method.
pub(crate) trait Params: Sized {
    /// `allow_unknown`: answer a parameter the method does not define instead of refusing it.
    fn parse(raw_query: Option<&str>, allow_unknown: bool) -> Result<Self, ApiError>;
}
