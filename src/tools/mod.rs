//! Command-line tools beside the server: the demo marketplace loader (and its large-catalogue top-up) and the benchmark.
//! They call the domains like any other edge; nothing in the domains calls them.

pub mod bench;
pub mod big_catalogue;
pub mod demo;
