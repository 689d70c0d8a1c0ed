//! One module per subcommand.

pub mod admin;
pub mod analyze;
pub mod detectors;
pub mod scan;
pub mod serve;
