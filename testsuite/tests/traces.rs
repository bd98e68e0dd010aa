//! One test per `.trace` file (and per ```` ```trace ```` block in the docs); see the
//! testsuite crate's documentation for what each kind of case checks.

use libtest_mimic::{Arguments, Failed, Trial};
use tracelab_testsuite::{cases, invalid_diagnostics, run_valid, Case};

fn run(case: Case) -> Result<(), Failed> {
    if case.expect_invalid {
        let diags = invalid_diagnostics(&case)?;
        let snap = case.name.trim_start_matches("testsuite/traces/").replace(['/', '.'], "__");
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        settings.set_snapshot_path("snapshots");
        settings.set_input_file(&case.name);
        settings.bind(|| insta::assert_snapshot!(snap, diags));
        Ok(())
    } else {
        run_valid(&case).map_err(Failed::from)
    }
}

fn main() {
    let args = Arguments::from_args();
    let trials = cases()
        .into_iter()
        .map(|c| Trial::test(c.name.clone(), move || run(c)))
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
