use clap::Parser;

fn main() {
    let cli = mailsetup::cli::Cli::parse();
    let code = match mailsetup::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            let msg = format!("{e:#}");
            eprintln!("mailsetup: {}", mailsetup::report::escape::terminal_safe(&msg));
            mailsetup::cli::exit::USAGE
        }
    };
    // Exit at once: nothing may keep a finished run waiting (e.g. a stuck resolver thread).
    std::process::exit(code);
}
