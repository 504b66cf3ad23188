//! The business rules of the v3 methods the sandbox serves, one module per method.

pub(crate) mod authentication;
