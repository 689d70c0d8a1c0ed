//! One module per subcommand.

pub mod admin;
pub mod analyze;
pub mod detectors;
pub mod export;
pub mod log;
pub mod mail;
pub mod model;
pub mod report;
pub mod scan;
pub mod serve;
pub mod submit;
