//! Entry point: parse options, set up logging, run, map the outcome to an exit code.

use docker_dns_provision::cli::{self, Command, Parsed};
use docker_dns_provision::exit::Code;
use std::process::ExitCode;

fn main() -> ExitCode {
    one_malloc_arena();
    docker_dns_provision::exit::exit_on_panic();
    let options = match cli::parse(std::env::args_os().skip(1)) {
        Ok(Parsed::Run(o)) => o,
        Ok(Parsed::Help) => {
            print!("{}", cli::help());
            return Code::Ok.into();
        }
        Ok(Parsed::Version) => {
            println!("docker-dns-provision {}", cli::VERSION);
            return Code::Ok.into();
        }
        Err(e) => {
            eprintln!("docker-dns-provision: {e} (see --help)");
            return Code::Usage.into();
        }
    };
    docker_dns_provision::logging::init(options.log_level.as_deref());
    match options.command {
        Command::Lint => docker_dns_provision::lint::run(&options),
        Command::Export => docker_dns_provision::export::run(&options),
        _ => docker_dns_provision::converge::run(&options),
    }
    .into()
}

/// glibc gives each thread that allocates an arena of its own, a few hundred KiB touched
/// each: with `--jobs` workers that was a quarter of the peak RSS of a cold converge. The
/// threads wait on the engine, not on each other, so one shared arena costs nothing.
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a malloc parameter; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
