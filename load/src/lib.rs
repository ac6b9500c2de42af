//! The llm-gateway benchmark harness (`load/bench.sh` drives it): a fast mock upstream speaking
//! the four provider wire formats, and a driver for what `wrk` cannot measure (streams, TTFT).
//!
//! - [`marker`]: the `~c<k>t<µs>~` stamps the mock writes into every streamed text delta, so the
//!   driver can tell chunk `k` apart and compute its one-way latency from the mock's wall clock.
//! - [`mock`]: the upstream (`bench-mock`): routes, timing, and one module per wire format.
//! - [`driver`]: `bench-driver` subcommands: `stream` (TTFT, per-chunk latency), `hold` (many
//!   concurrent slow streams, errors, peak RSS), `startup` (time to listening, idle RSS).
//! - [`stats`]: percentiles and `key=value` report lines for the shell script.

pub mod driver;
pub mod marker;
pub mod mock;
pub mod stats;
