//! `elicense`: one binary for operators, issuers and verifiers. Each subcommand lives in
//! `cmd/<name>.rs`; errors print as `error[code]: message` (or JSON with `--json`) and exit 2.

mod cli;
mod cmd;
mod output;

use clap::Parser;

/// mimalloc instead of the C library's allocator: with thousands of import rows in flight the
/// glibc allocator spent ~10 % of the cores in `malloc`/`free` and bin consolidation
/// (`perf`, docs/SCALE.md); mimalloc's per-thread free lists keep that to a fraction.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ELICENSE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = runtime.block_on(cmd::run(args));
    std::process::exit(code);
}
