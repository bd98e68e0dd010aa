//! One test per `.trace` file (and per ```` ```trace ```` block in the docs); see
//! `tracelab::harness` for what each case checks. Two snapshots come on top: the diagnostics of
//! every file under `invalid/`, and the IR after each pass of the pipelines a file's RUN lines
//! run (one snapshot file per test).

use libtest_mimic::{Arguments, Failed, Trial};
use tracelab_testsuite::{cases, invalid_diagnostics, run_valid, Case};

fn snapshot(name: &str, input_file: &str, content: String) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots");
    settings.set_input_file(input_file);
    settings.bind(|| insta::assert_snapshot!(name, content));
}

fn run(case: Case) -> Result<(), Failed> {
    let snap = case.name.trim_start_matches("testsuite/traces/").replace(['/', '.'], "__");
    if case.expect_invalid {
        snapshot(&snap, &case.name, invalid_diagnostics(&case)?);
    } else {
        let after_each_pass = run_valid(&case)?;
        if !after_each_pass.is_empty() {
            snapshot(&format!("{snap}__passes"), &case.name, after_each_pass);
        }
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let trials = cases().into_iter().map(|c| Trial::test(c.name.clone(), move || run(c))).collect();
    libtest_mimic::run(&args, trials).exit();
}
