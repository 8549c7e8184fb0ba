//! Command-line tools beside the server: the demo marketplace loader and the order benchmark.
//! They call the domains like any other edge; nothing in the domains calls them.

pub mod bench;
pub mod demo;
