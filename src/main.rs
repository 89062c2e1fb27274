//! Entry point: parse options, set up logging, run, map the outcome to an exit code.

use docker_dns_provision::cli::{self, Parsed};
use docker_dns_provision::exit::Code;
use std::process::ExitCode;

fn main() -> ExitCode {
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
    docker_dns_provision::run::run(&options).into()
}
