use clap::Parser;

use mailsetup::cli::{credentials, exit, run, Cli};
use mailsetup::report::escape::terminal_safe;

fn main() {
    // Refuse a password in argv before anything else looks at it (clap would echo it in errors).
    if std::env::args_os()
        .skip(1)
        .any(|a| credentials::is_password_flag(&a))
    {
        eprintln!("mailsetup: {}", credentials::PASSWORD_IN_ARGV);
        std::process::exit(exit::USAGE);
    }
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mailsetup: {}", terminal_safe(&format!("{e:#}")));
            exit::USAGE
        }
    };
    // Exit at once: nothing may keep a finished run waiting (e.g. a stuck resolver thread).
    std::process::exit(code);
}
