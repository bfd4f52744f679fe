//! The `plasticity` command-line tool: parses arguments, calls the library crates, prints.

mod commands;

use clap::Parser;
use commands::Cli;

fn main() {
    plasticity_train::device::tune_cpu_process();
    let cli = Cli::parse();
    plasticity_train::logging::init_logging(cli.verbosity());
    if let Err(err) = commands::run(cli) {
        // One line, no backtrace: the cause chain joined.
        let chain: Vec<String> = err.chain().map(|c| c.to_string()).collect();
        eprintln!("error: {}", chain.join(": "));
        // 130, as a shell reports a command stopped by Ctrl-C (SIGINT): the run did not finish.
        let interrupted = matches!(err.downcast_ref(), Some(plasticity_train::TrainError::Interrupted(_)));
        std::process::exit(if interrupted { 130 } else { 1 });
    }
}
