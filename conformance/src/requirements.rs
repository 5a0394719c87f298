//! The requirement index (`features/requirements.tsv`): every requirement the suite
//! knows, with its document, section, level, whether a black box can check it over
//! HTTP, and one line of text. A test keeps the features and the index in step.

/// One requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// `R41`, `M3`, `I2`.
    pub id: String,
    /// `rfc6749`, `rfc7009`, `bcp`, ...
    pub document: String,
    /// Section number.
    pub section: String,
    /// `must`, `should` or `may`.
    pub level: String,
    /// `None` when checkable over HTTP; else why not.
    pub not_checkable: Option<String>,
    /// One line.
    pub text: String,
}

/// Parses the index: tab-separated `id document section level checkable text`, where
/// `checkable` is `yes` or `no: reason`; `#` starts a comment line.
pub fn parse(text: &str) -> Result<Vec<Requirement>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let [id, document, section, level, checkable, text] = cols.as_slice() else {
            return Err(format!(
                "line {}: expected 6 tab-separated columns, found {}",
                n + 1,
                cols.len()
            ));
        };
        if !matches!(*level, "must" | "should" | "may") {
            return Err(format!(
                "line {}: level {level:?} is not must, should or may",
                n + 1
            ));
        }
        let not_checkable = match *checkable {
            "yes" => None,
            c => Some(
                c.strip_prefix("no: ")
                    .ok_or_else(|| {
                        format!("line {}: checkable must be 'yes' or 'no: reason'", n + 1)
                    })?
                    .to_owned(),
            ),
        };
        out.push(Requirement {
            id: (*id).to_owned(),
            document: (*document).to_owned(),
            section: (*section).to_owned(),
            level: (*level).to_owned(),
            not_checkable,
            text: (*text).to_owned(),
        });
    }
    Ok(out)
}
