use clap::Parser;

use mailsetup::cli::{credentials, exit, output, run, Cli};
use mailsetup::report::escape::terminal_safe;

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `--format nagios`: every failure to run is UNKNOWN (exit 3) with a plugin status line.
    let nagios = output::nagios_requested(&args);
    let usage_error = |message: &str| -> ! {
        if nagios {
            let (text, code) = output::nagios_unknown(message);
            print!("{text}");
            std::process::exit(code);
        }
        eprintln!("mailsetup: {}", terminal_safe(message));
        std::process::exit(exit::USAGE);
    };
    // Refuse a password in argv before anything else looks at it (clap would echo it in errors).
    if args
        .iter()
        .skip(1)
        .any(|a| credentials::is_password_flag(a))
    {
        usage_error(credentials::PASSWORD_IN_ARGV);
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) if nagios && e.use_stderr() => usage_error(&e.to_string()),
        Err(e) => e.exit(),
    };
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) => usage_error(&format!("{e:#}")),
    };
    // Exit at once: nothing may keep a finished run waiting (e.g. a stuck resolver thread).
    std::process::exit(code);
}
