fn main() -> std::process::ExitCode {
    aircall_dest::cli::main()
}
