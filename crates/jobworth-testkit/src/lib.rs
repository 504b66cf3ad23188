//! The workspace's test kit (a dev-dependency only): what the integration tests of the SDK, the
//! sandbox and the CLI share.
//!
//! * [`fixtures`]: the protocol core's fixture keys and certificates, and the fixed test values;
//! * [`sandbox`]: a sandbox in this process on a loopback port;
//! * [`process`]: a `jobworth sandbox` process, and the `jobworth` command with a clean environment;
//! * [`app`]: apps and completed verifications over the control plane;
//! * [`signed`]: signed v3 requests (the one place that signs and verifies for the tests);
//! * [`http`]: answers as the tests read them, and plain requests through reqwest;
//! * [`raw`]: byte-exact HTTP/1.1 over a socket, client side;
//! * [`raw_server`]: a socket server that sees requests byte for byte and can misbehave;
//! * [`stores`], [`postgres`]: the two stores, a fresh PostgreSQL database per test, and
//!   [`store_tests!`] to run a test on both;
//! * [`mock`]: a wiremock gateway that verifies requests and signs answers like Alipay;
//! * [`sdk`]: `jobworth::Client` builders for a registered app.
//!
//! Wire values the tests assert stay literal strings in the tests: the kit only builds requests.

pub mod app;
pub mod fixtures;
pub mod http;
pub mod mock;
pub mod postgres;
pub mod process;
pub mod raw;
pub mod raw_server;
pub mod sandbox;
pub mod sdk;
pub mod signed;
pub mod stores;
