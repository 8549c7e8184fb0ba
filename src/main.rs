//! The `shanhe` binary: parses the command line and hands over to the library.

/// mimalloc instead of glibc's allocator: glibc kept the 19 MiB of every argon2 hash resident,
/// so a login flood grew the server by gigabytes (see `auth::password::HashGate`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    shanhe::cli::main()
}
