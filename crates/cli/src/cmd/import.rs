//! `elicense import --csv FILE`: bulk issue with a progress bar, resumable.

use std::path::{Path, PathBuf};

use elicense_app::import::{import_csv, ImportOptions, Progress};
use elicense_crypto::Alg;
use indicatif::{ProgressBar, ProgressStyle};

use super::with_node;
use crate::cli::DataArgs;
use crate::output;

struct Bar(ProgressBar);

impl Progress for Bar {
    fn start(&self, total: u64, already_done: u64) {
        self.0.set_length(total);
        self.0.set_position(already_done);
        if already_done > 0 {
            self.0.println(format!(
                "resuming: {already_done} row(s) done by an earlier run"
            ));
        }
    }
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
    fn finish(&self) {
        self.0.finish();
    }
}

pub async fn import(
    data: &DataArgs,
    csv: &Path,
    report: Option<PathBuf>,
    alg: Option<Alg>,
    json: bool,
) -> i32 {
    with_node(data, json, |node| async move {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} rows ({per_sec}, eta {eta})",
            )
            .expect("valid template"),
        );
        if json {
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        let opts = ImportOptions {
            alg,
            report,
            actor: format!("import:{}", super::issue::whoami()),
            ..Default::default()
        };
        let summary = import_csv(&node, csv, &opts, &Bar(bar)).await?;
        if json {
            output::json(&summary);
        } else {
            println!(
                "{} rows: {} issued, {} failed ({} done by an earlier run); errors in {}",
                summary.rows,
                summary.issued,
                summary.failed,
                summary.resumed,
                summary.report.display()
            );
        }
        Ok(if summary.failed > 0 { 1 } else { 0 })
    })
    .await
}
