//! The human reporter: progress and one line per case while a run goes, then the details of
//! what did not pass, the phases' figures, the failed IDs with their replay commands, and the
//! summary. It draws from the run's events and the finished [`RunReport`]; it never runs
//! anything.

use std::path::PathBuf;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

use super::RunReport;
use super::artifacts::{Artifacts, PREFLIGHT_ID, saves};
use super::transcript;
use crate::suite::events::Event;
use crate::suite::pacer::Jobs;
use crate::suite::run::{CONCURRENT_ID, Pacing, RANDOM_ID};
use crate::suite::verdict::{CaseReport, Verdict};

/// How much the human output says.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// One line per failure and the summary, nothing else.
    pub quiet: bool,
    /// Every case's transcript, not only those of failures.
    pub verbose: bool,
    /// Colour the verdicts (ANSI).
    pub colour: bool,
    /// Draw progress bars (stderr is a terminal).
    pub progress: bool,
}

/// What the closing lines refer to beyond the report itself.
#[derive(Debug, Clone)]
pub struct Closing {
    pub artifacts: Artifacts,
    /// ` --endpoint URL` for printed commands; empty for the embedded server.
    pub endpoint_flag: String,
    /// ` --partition K/N` for printed commands; empty for a whole run.
    pub partition_flag: String,
    /// The JSON report of this run, if one is written (`--rerun-failed` takes it).
    pub json: Option<PathBuf>,
    /// How many ran at once, and the cap.
    pub pacing: Option<(Pacing, usize)>,
}

/// A verdict's label, in its colour when `colour` is on.
pub fn painted(verdict: Verdict, colour: bool) -> String {
    let code = match verdict {
        Verdict::Pass => "32",
        Verdict::NonStrict => "33",
        Verdict::Xfail | Verdict::NotImplemented | Verdict::Skipped => "36",
        Verdict::Fail | Verdict::Error | Verdict::Xpass => "1;31",
    };
    if colour {
        format!("\x1b[{code}m{}\x1b[0m", verdict.label())
    } else {
        verdict.label().to_owned()
    }
}

/// [`painted`], padded to the widest label, for columns (escape codes do not count).
pub fn painted_column(verdict: Verdict, colour: bool) -> String {
    let pad = 10usize.saturating_sub(verdict.label().len());
    format!("{}{}", painted(verdict, colour), " ".repeat(pad))
}

/// A progress bar on stderr.
pub fn progress_bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template("{prefix:>10} [{bar:40}] {pos}/{len} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(what.to_owned());
    bar
}

#[derive(Default)]
struct Bars {
    /// Cases, then random sequences.
    main: Option<ProgressBar>,
    cases: u64,
    /// The concurrent phase's rounds, in place of `main` once that phase starts.
    rounds: Option<ProgressBar>,
}

/// Prints a run for people.
pub struct HumanReporter {
    style: Style,
    bars: Mutex<Bars>,
}

impl HumanReporter {
    pub fn new(style: Style) -> HumanReporter {
        HumanReporter {
            style,
            bars: Mutex::new(Bars::default()),
        }
    }

    pub fn style(&self) -> Style {
        self.style
    }

    /// Takes one event of a running run.
    pub fn event(&self, event: &Event<'_>) {
        let Ok(mut bars) = self.bars.lock() else {
            return;
        };
        match *event {
            Event::CasesStarted { cases } => {
                bars.cases = cases as u64;
                if self.style.progress && cases > 0 {
                    bars.main = Some(progress_bar(cases as u64, "check"));
                }
            }
            Event::CaseFinished(case) => {
                let lines = self.case_lines(case, bars.main.is_some());
                match &bars.main {
                    Some(bar) => {
                        bar.inc(1);
                        for text in &lines {
                            bar.println(text);
                        }
                    }
                    None => {
                        for text in &lines {
                            println!("{text}");
                        }
                    }
                }
            }
            Event::RandomStarted { sequences } => {
                if !self.style.progress || sequences == 0 {
                    return;
                }
                let cases = bars.cases;
                match &bars.main {
                    Some(bar) => bar.inc_length(sequences),
                    None => {
                        let bar = progress_bar(cases + sequences, "check");
                        bar.set_position(cases);
                        bars.main = Some(bar);
                    }
                }
            }
            Event::RandomProgress { done } => {
                if let Some(bar) = &bars.main {
                    bar.set_position(bars.cases + done);
                }
            }
            Event::ConcurrentStarted { rounds } => {
                if let Some(bar) = bars.main.take() {
                    bar.finish_and_clear();
                }
                if self.style.progress && rounds > 0 {
                    bars.rounds = Some(progress_bar(rounds as u64, "concurrent"));
                }
            }
            Event::RoundsProgress { done } => {
                if let Some(bar) = &bars.rounds {
                    bar.set_position(done as u64);
                }
            }
        }
    }

    /// The lines a finished case gets while the run goes.
    fn case_lines(&self, case: &CaseReport, with_bar: bool) -> Vec<String> {
        let style = self.style;
        let line = if style.quiet {
            case.verdict.fails_run().then(|| {
                format!(
                    "{} {} — {}",
                    painted(case.verdict, style.colour),
                    case.id,
                    case.detail.as_deref().unwrap_or_default()
                )
            })
        } else if with_bar {
            (case.verdict != Verdict::Pass)
                .then(|| format!("{} {}", painted_column(case.verdict, style.colour), case.id))
        } else {
            Some(format!(
                "{} {} ({:.0} ms)",
                painted_column(case.verdict, style.colour),
                case.id,
                case.duration_ms
            ))
        };
        let steps = (style.verbose && !case.steps.is_empty()).then(|| transcript(&case.steps));
        line.into_iter().chain(steps).collect()
    }

    /// Clears the progress bars (before the closing lines).
    pub fn finish_progress(&self) {
        if let Ok(mut bars) = self.bars.lock() {
            for bar in [bars.main.take(), bars.rounds.take()].into_iter().flatten() {
                bar.finish_and_clear();
            }
        }
    }

    /// The details of what did not pass, the phases' figures, and the failed IDs.
    pub fn closing(&self, report: &RunReport, closing: &Closing) {
        self.finish_progress();
        let style = self.style;
        let colour = style.colour;
        let artifacts = &closing.artifacts;
        let replay =
            |path: PathBuf| format!("cogsync replay {}{}", path.display(), closing.endpoint_flag);
        for case in report
            .cases
            .iter()
            .filter(|c| c.verdict.fails_run() || c.verdict == Verdict::NonStrict)
        {
            if style.quiet {
                if case.id == PREFLIGHT_ID {
                    println!(
                        "{} {} — {}",
                        painted(case.verdict, colour),
                        case.id,
                        case.detail.as_deref().unwrap_or_default()
                    );
                }
                continue;
            }
            println!(
                "\n{} {} — {}",
                painted(case.verdict, colour),
                case.id,
                case.title
            );
            println!(
                "  requirement ({}; {}): {}",
                case.level,
                case.covers.join(", "),
                case.requirement
            );
            if let Some(detail) = &case.detail {
                println!("  {detail}");
            }
            if case.id == PREFLIGHT_ID {
                print!("{}", transcript(&case.steps));
            } else if saves(case) {
                let json = artifacts.case_replay(&case.id);
                print!("{}", transcript(&case.steps));
                println!(
                    "  saved: {} ({}); curl script: {}",
                    json.display(),
                    replay(json.clone()),
                    artifacts.case_curl(&case.id).display()
                );
            }
        }
        // Spec §11: each operation the endpoint does not implement, once; then how many cases
        // that needed one were skipped (neither passed nor failed).
        let not_implemented: Vec<&CaseReport> = report
            .cases
            .iter()
            .filter(|c| c.verdict == Verdict::NotImplemented)
            .collect();
        if !not_implemented.is_empty() {
            println!();
            for case in &not_implemented {
                println!(
                    "{} {} — {}",
                    painted(case.verdict, colour),
                    case.id,
                    case.detail.as_deref().unwrap_or_default()
                );
            }
        }
        let skipped = report
            .cases
            .iter()
            .filter(|c| c.verdict == Verdict::Skipped)
            .count();
        if skipped > 0 {
            println!(
                "{} {skipped} case(s) not run to the end: an operation they need is not implemented",
                painted(Verdict::Skipped, colour)
            );
        }
        if let Some(random) = &report.random {
            let c = random.coverage;
            if !style.quiet {
                println!(
                    "\nrandom phase: {} sequences, {} checked operations in {:.1} s ({:.0} ops/s); \
                     {} conflicts, {} tombstone writes, {} multi-page lists",
                    random.sequences,
                    c.operations,
                    random.elapsed_ms / 1000.0,
                    random.operations_per_sec,
                    c.conflicts,
                    c.tombstones,
                    c.multi_page_lists
                );
                if !random.ambiguities.is_empty() {
                    println!(
                        "  {}: allowed, not the reference outcome on {}",
                        painted(Verdict::NonStrict, colour),
                        random.ambiguities.join(", ")
                    );
                }
            }
            if let Some(why) = &random.vacuous {
                println!(
                    "{}{} {RANDOM_ID} — {why} (vacuity guard: run more --sequences or a longer --steps-max)",
                    if style.quiet { "" } else { "  " },
                    painted(random.verdict, colour)
                );
            }
            if let Some(f) = &random.failure {
                if style.quiet {
                    println!(
                        "{} {RANDOM_ID} — sequence {}, shrunk to {} step(s) from {}: {}",
                        painted(random.verdict, colour),
                        f.index,
                        f.actions.len(),
                        f.original_len,
                        f.reason
                    );
                } else {
                    let json = artifacts.random_replay(report.seed);
                    println!(
                        "\n{} random sequence {} (seed {}), shrunk to {} step(s) from {}: {}",
                        painted(random.verdict, colour),
                        f.index,
                        report.seed,
                        f.actions.len(),
                        f.original_len,
                        f.reason
                    );
                    print!("{}", transcript(&f.steps));
                    println!("  saved: {} ({})", json.display(), replay(json.clone()));
                    println!(
                        "  curl script: {}",
                        artifacts.random_curl(report.seed).display()
                    );
                }
            }
        }
        if let Some(concurrent) = &report.concurrent {
            let rounds = if concurrent.rounds_run < concurrent.rounds {
                format!("{} of {}", concurrent.rounds_run, concurrent.rounds)
            } else {
                concurrent.rounds.to_string()
            };
            if !style.quiet {
                println!(
                    "\nconcurrent phase: {} devices x {rounds} rounds, {} operations ({} conflicts, {} indeterminate) in {:.1} s; \
                     linearizability checked in {:.0} ms",
                    concurrent.devices,
                    concurrent.operations,
                    concurrent.conflicts,
                    concurrent.indeterminate,
                    concurrent.elapsed_ms / 1000.0,
                    concurrent.check_ms
                );
            }
            if let Some(detail) = &concurrent.detail
                && (!style.quiet || concurrent.verdict.fails_run())
            {
                println!(
                    "{}{}: {detail}",
                    if style.quiet { "" } else { "  " },
                    painted(concurrent.verdict, colour)
                );
            }
            if let Some(v) = &concurrent.violation {
                if style.quiet {
                    println!(
                        "{} {CONCURRENT_ID} — not linearizable: {} operations on {} devices",
                        painted(concurrent.verdict, colour),
                        v.operations,
                        v.devices
                    );
                } else {
                    let (json, edn) = artifacts.concurrent_history(report.seed);
                    println!(
                        "\n{} concurrent history is not linearizable: {} operations on {} devices \
                         (no order of the operations explains every answer; `!` marks the ones that cannot come next)",
                        painted(concurrent.verdict, colour),
                        v.operations,
                        v.devices
                    );
                    print!("{}", v.timeline);
                    println!(
                        "  history: {} (EDN for external checkers: {})",
                        json.display(),
                        edn.display()
                    );
                }
            }
        }
        if let Some((pacing, inflight_max)) = closing.pacing.filter(|_| !style.quiet) {
            match pacing.jobs {
                Jobs::Auto => println!(
                    "\nin flight: up to {} cases or sequences at once (--jobs auto, --max-inflight {inflight_max}{})",
                    pacing.peak,
                    pacing
                        .unloaded_latency_ms
                        .map_or_else(String::new, |ms| format!(
                            "; lowest latency {ms:.1} ms per request"
                        ))
                ),
                Jobs::Fixed(n) => {
                    println!("\nin flight: {n} cases or sequences at once (--jobs {n})")
                }
            }
        }
        self.failed_list(report, closing);
    }

    /// Every failed ID on one line with what was saved for it, and the command that runs just
    /// those again.
    fn failed_list(&self, report: &RunReport, closing: &Closing) {
        let style = self.style;
        let artifacts = &closing.artifacts;
        let replay =
            |path: PathBuf| format!("cogsync replay {}{}", path.display(), closing.endpoint_flag);
        let mut failed: Vec<(Verdict, String, String)> = report
            .cases
            .iter()
            .filter(|c| c.verdict.fails_run())
            .map(|c| {
                let saved = if saves(c) {
                    replay(artifacts.case_replay(&c.id))
                } else {
                    String::new()
                };
                (c.verdict, c.id.clone(), saved)
            })
            .collect();
        if let Some(random) = report.random.as_ref().filter(|r| r.verdict.fails_run()) {
            let saved = if random.failure.is_some() {
                replay(artifacts.random_replay(report.seed))
            } else {
                random.vacuous.clone().unwrap_or_default()
            };
            failed.push((random.verdict, RANDOM_ID.to_owned(), saved));
        }
        if let Some(concurrent) = report.concurrent.as_ref().filter(|c| c.verdict.fails_run()) {
            let saved = if concurrent.violation.is_some() {
                format!(
                    "history {} (a race is not replayable; re-run the phase with the same seed)",
                    artifacts.concurrent_history(report.seed).0.display()
                )
            } else {
                String::new()
            };
            failed.push((concurrent.verdict, CONCURRENT_ID.to_owned(), saved));
        }
        if !report.not_run.is_empty() {
            let shown: Vec<&str> = report.not_run.iter().take(5).map(String::as_str).collect();
            let more = report.not_run.len() - shown.len();
            println!(
                "\nnot run ({}, --max-fail reached): {}{}",
                report.not_run.len(),
                shown.join(" "),
                if more > 0 {
                    format!(" and {more} more (the JSON report lists all)")
                } else {
                    String::new()
                }
            );
        }
        if failed.is_empty() {
            return;
        }
        if !style.quiet {
            println!("\nfailed ({}):", failed.len());
            let width = failed.iter().map(|(_, id, _)| id.len()).max().unwrap_or(0);
            for (verdict, id, saved) in &failed {
                println!(
                    "  {} {id:<width$}  {saved}",
                    painted_column(*verdict, style.colour)
                );
            }
        }
        let rerunnable: Vec<&str> = failed
            .iter()
            .map(|(_, id, _)| id.as_str())
            .filter(|id| *id != PREFLIGHT_ID)
            .collect();
        if rerunnable.is_empty() {
            return;
        }
        match &closing.json {
            Some(json) => println!(
                "re-run just these: cogsync check --rerun-failed {}{}{}",
                json.display(),
                closing.endpoint_flag,
                closing.partition_flag
            ),
            None => println!(
                "re-run just these: cogsync check --seed {}{}{} --only {}",
                report.seed,
                closing.endpoint_flag,
                closing.partition_flag,
                rerunnable.join(" ")
            ),
        }
    }

    /// Says where a report file was written.
    pub fn written(&self, what: &str, path: &std::path::Path) {
        if !self.style.quiet {
            println!("{what} report written to {}", path.display());
        }
    }

    /// Says where a report file was written, how big it is and how long it took to render.
    pub fn written_measured(&self, what: &str, path: &std::path::Path, bytes: usize, ms: f64) {
        if !self.style.quiet {
            println!(
                "{what} report written to {} ({:.0} KiB, generated in {ms:.0} ms)",
                path.display(),
                bytes as f64 / 1024.0
            );
        }
    }

    /// The last lines of a run: its time and the counts.
    pub fn summary(&self, report: &RunReport) {
        let seconds = report.elapsed_ms / 1000.0;
        if self.style.quiet {
            println!(
                "{} (seed {}, {seconds:.1} s)",
                report.summary.line(),
                report.seed
            );
        } else {
            println!("\ncogsync: {seconds:.1} s");
            println!("{}", report.summary.line());
        }
        if report.summary.total() == 0 {
            println!("nothing ran: check --only / --skip / --partition");
        }
    }
}
