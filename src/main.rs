fn main() -> std::process::ExitCode {
    shanhe::cli::main()
}
