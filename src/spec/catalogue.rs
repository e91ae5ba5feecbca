//! The requirements of docs/spec.md as data: each section, each requirement's ID, evidence
//! grade and text, and the AMB- rows with their allowed outcomes (plus the `AMB-X-…` rows that
//! only docs/reference-choices.md names). Reports group their results by it.
//!
//! Read from the project's own copy of the specification when this crate is built, so a
//! report always shows the text the cases were written against.

use std::sync::OnceLock;

const SPEC: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/spec.md"));
const CHOICES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/docs/reference-choices.md"
));

/// The evidence grades of docs/spec.md, strongest first.
pub const GRADES: [&str; 4] = ["DOC", "FIELD", "CLIENT", "INFERRED"];

/// One requirement (or AMB- row) of the specification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// `UR-2`, `AMB-DUP-KEY`, `AMB-X-HUGE-BODY`.
    pub id: String,
    /// The evidence grades it rests on (`DOC, FIELD`), `AMB` for an open point, or empty when
    /// the specification names none.
    pub grade: String,
    /// Its text as the specification words it (Markdown, one line).
    pub text: String,
}

/// One section of the specification with the requirements it states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// `2`, or `RC` for the rows of docs/reference-choices.md.
    pub number: String,
    pub title: String,
    pub requirements: Vec<Requirement>,
}

/// Every section that states a requirement, in the specification's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    pub sections: Vec<Section>,
}

impl Catalogue {
    /// The section and requirement with this ID.
    pub fn find(&self, id: &str) -> Option<(&Section, &Requirement)> {
        self.sections.iter().find_map(|section| {
            section
                .requirements
                .iter()
                .find(|r| r.id == id)
                .map(|r| (section, r))
        })
    }

    /// Every requirement, in order.
    pub fn requirements(&self) -> impl Iterator<Item = &Requirement> {
        self.sections.iter().flat_map(|s| s.requirements.iter())
    }
}

/// The catalogue of docs/spec.md (read once).
pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| parse(SPEC, CHOICES))
}

/// Whether `marker` is a requirement ID: capitals, a dash, digits (`UR-10`).
fn is_requirement_id(marker: &str) -> bool {
    marker.split_once('-').is_some_and(|(letters, digits)| {
        !letters.is_empty()
            && letters.chars().all(|c| c.is_ascii_uppercase())
            && !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit())
    })
}

/// The grades named in `text`, in [`GRADES`] order, joined with commas.
fn grades_in(text: &str) -> String {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .collect();
    GRADES
        .iter()
        .filter(|g| words.contains(g))
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

/// The cells of a Markdown table row, trimmed.
fn cells(line: &str) -> Vec<&str> {
    line.trim()
        .trim_matches('|')
        .split(" | ")
        .map(str::trim)
        .collect()
}

/// Reads the catalogue from the two documents' Markdown.
pub fn parse(spec: &str, choices: &str) -> Catalogue {
    let mut sections: Vec<Section> = Vec::new();
    // The section heading's grades: the default for requirements that name none.
    let mut section_grade = String::new();
    let mut open: Option<Requirement> = None;
    // A requirement that names no leading grade takes the grades its whole text names, or
    // its section's.
    let flush =
        |open: &mut Option<Requirement>, sections: &mut Vec<Section>, section_grade: &str| {
            if let (Some(mut requirement), Some(section)) = (open.take(), sections.last_mut()) {
                if requirement.grade.is_empty() {
                    let named = grades_in(&requirement.text);
                    requirement.grade = if named.is_empty() {
                        section_grade.to_owned()
                    } else {
                        named
                    };
                }
                section.requirements.push(requirement);
            }
        };
    for line in spec.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            flush(&mut open, &mut sections, &section_grade);
            let (number, title) = heading.split_once(". ").unwrap_or(("", heading));
            section_grade = title
                .split_once('(')
                .map(|(_, rest)| grades_in(rest))
                .unwrap_or_default();
            let title = title.split(" (").next().unwrap_or(title).trim();
            sections.push(Section {
                number: number.to_owned(),
                title: title.to_owned(),
                requirements: Vec::new(),
            });
            continue;
        }
        if let Some(rest) = line.strip_prefix("- **")
            && let Some((id, text)) = rest.split_once("**")
            && is_requirement_id(id)
        {
            flush(&mut open, &mut sections, &section_grade);
            let text = text.trim();
            // A leading `(DOC, FIELD)` names the grades.
            let (grade, text) = match text.strip_prefix('(').and_then(|t| t.split_once(')')) {
                Some((inside, after)) if !grades_in(inside).is_empty() => {
                    (grades_in(inside), after.trim().to_owned())
                }
                _ => (String::new(), text.to_owned()),
            };
            open = Some(Requirement {
                id: id.to_owned(),
                grade,
                text,
            });
            continue;
        }
        if let Some(requirement) = open.as_mut() {
            if line.starts_with("  ") && !line.trim().is_empty() {
                requirement.text.push(' ');
                requirement.text.push_str(line.trim());
                continue;
            }
            flush(&mut open, &mut sections, &section_grade);
        }
        if line.starts_with("| AMB-") {
            let row = cells(line);
            if let [id, situation, outcomes, ..] = row.as_slice()
                && let Some(section) = sections.last_mut()
            {
                section.requirements.push(Requirement {
                    id: (*id).to_owned(),
                    grade: "AMB".to_owned(),
                    text: format!("{situation}: {outcomes}"),
                });
            }
        }
    }
    flush(&mut open, &mut sections, &section_grade);
    sections.retain(|s| !s.requirements.is_empty());
    sections.push(Section {
        number: "RC".to_owned(),
        title: "Reference choices where the specification is silent (docs/reference-choices.md)"
            .to_owned(),
        requirements: reference_choice_rows(choices),
    });
    Catalogue { sections }
}

/// The `AMB-X-…` rows of docs/reference-choices.md, each with the paragraph or list item that
/// first names it.
fn reference_choice_rows(choices: &str) -> Vec<Requirement> {
    let mut rows: Vec<Requirement> = Vec::new();
    // Paragraphs and list items, each as one line.
    let mut blocks: Vec<String> = Vec::new();
    for line in choices.lines() {
        let trimmed = line.trim();
        let starts_item = trimmed.starts_with("- ")
            || trimmed
                .split_once(". ")
                .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if trimmed.is_empty() || trimmed.starts_with('#') {
            blocks.push(String::new());
        } else if starts_item || blocks.last().is_none_or(String::is_empty) {
            blocks.push(trimmed.to_owned());
        } else if let Some(last) = blocks.last_mut() {
            last.push(' ');
            last.push_str(trimmed);
        }
    }
    for block in blocks {
        for piece in block.split("AMB-X-").skip(1) {
            let name: String = piece
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '-')
                .collect();
            let id = format!("AMB-X-{}", name.trim_end_matches('-'));
            if name.is_empty() || rows.iter().any(|r| r.id == id) {
                continue;
            }
            let text = block
                .trim_start_matches("- ")
                .split_once(". ")
                .filter(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
                .map_or(block.trim_start_matches("- "), |(_, rest)| rest)
                .to_owned();
            rows.push(Requirement {
                id,
                grade: "AMB".to_owned(),
                text,
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specification_reads_into_sections_with_grades() {
        let catalogue = catalogue();
        let (section, ur2) = catalogue.find("UR-2").expect("UR-2 is stated");
        assert_eq!(section.number, "2");
        assert_eq!(section.title, "UpdateRecords");
        assert_eq!(ur2.grade, "DOC, FIELD");
        assert!(ur2.text.contains("409"), "{}", ur2.text);
        // Continuation lines are part of the text.
        assert!(ur2.text.contains("unchanged (FIELD)"), "{}", ur2.text);
        // A requirement without a leading grade takes the grades its text names…
        let (_, ds1) = catalogue.find("DS-1").expect("DS-1");
        assert_eq!(ds1.grade, "DOC, INFERRED");
        // …or its section's.
        let (_, val2) = catalogue.find("VAL-2").expect("VAL-2");
        assert_eq!(val2.grade, "DOC");
        let (section, dup) = catalogue.find("AMB-DUP-KEY").expect("AMB-DUP-KEY");
        assert_eq!(section.number, "8");
        assert_eq!(dup.grade, "AMB");
        assert!(
            dup.text.contains("400 InvalidParameter (ref)"),
            "{}",
            dup.text
        );
        let (section, huge) = catalogue.find("AMB-X-HUGE-BODY").expect("AMB-X-HUGE-BODY");
        assert_eq!(section.number, "RC");
        assert!(huge.text.contains("16 MiB"), "{}", huge.text);
    }

    #[test]
    fn every_id_is_stated_once_and_every_requirement_has_a_grade() {
        let catalogue = catalogue();
        let mut ids: Vec<&str> = catalogue.requirements().map(|r| r.id.as_str()).collect();
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), count, "an ID is stated twice");
        assert!(count > 50, "{count} requirements");
        for requirement in catalogue.requirements() {
            assert!(!requirement.text.is_empty(), "{requirement:?}");
        }
        // The specification grades every requirement but DescribeIdentityUsage's shape, which
        // comes straight from the service model; reports say "not graded" for it.
        let ungraded: Vec<&str> = catalogue
            .requirements()
            .filter(|r| r.grade.is_empty())
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(ungraded, ["DS-5"]);
    }

    #[test]
    fn a_small_document_parses_as_written() {
        let spec = "## 1. Things (DOC)\n\n- **A-1** (FIELD) one\n  two\n- **A-2** three\n\n\
                    ## 8. Open\n\n| id | s | o |\n|---|---|---|\n| AMB-Q | when | this (ref) · that |\n";
        let choices = "# RC\n\n1. Something: any 4xx (`AMB-X-ZED`).\n";
        let catalogue = parse(spec, choices);
        let ids: Vec<(&str, &str, &str)> = catalogue
            .requirements()
            .map(|r| (r.id.as_str(), r.grade.as_str(), r.text.as_str()))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("A-1", "FIELD", "one two"),
                ("A-2", "DOC", "three"),
                ("AMB-Q", "AMB", "when: this (ref) · that"),
                ("AMB-X-ZED", "AMB", "Something: any 4xx (`AMB-X-ZED`)."),
            ]
        );
    }
}
