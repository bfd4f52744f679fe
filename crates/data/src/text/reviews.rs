//! `movie_reviews.csv.gz` (../shared/data/text): a CSV with the header `text,label,source`,
//! quoted fields (`""` for a quote, newlines allowed inside quotes), labels 0 (negative) and 1
//! (positive), sources `imdb` and `rotten_tomatoes`. Plain or gzip-compressed (by the gzip
//! magic). A bad row is an error that names the file and the line.

use crate::DataError;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::Path;

/// Where a review comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Imdb,
    RottenTomatoes,
}

impl Source {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "imdb" => Some(Self::Imdb),
            "rotten_tomatoes" => Some(Self::RottenTomatoes),
            _ => None,
        }
    }
}

/// One row.
#[derive(Clone, Debug, PartialEq)]
pub struct Review {
    pub text: String,
    pub label: u8,
    pub source: Source,
}

fn bad(origin: &str, line: u64, problem: String) -> DataError {
    DataError::BadRow { origin: origin.into(), line, problem }
}

/// Parses the CSV text of `origin` (its name in errors).
pub fn parse_reviews(text: &[u8], origin: &str) -> Result<Vec<Review>, DataError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(text);
    let header = reader.headers().map_err(|e| bad(origin, 1, e.to_string()))?.clone();
    if header.iter().collect::<Vec<_>>() != ["text", "label", "source"] {
        return Err(bad(origin, 1, format!("header {:?}, expected text,label,source", header.iter().collect::<Vec<_>>())));
    }
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            bad(origin, line, e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let label = match &record[1] {
            "0" => 0,
            "1" => 1,
            other => return Err(bad(origin, line, format!("label `{other}`, expected 0 or 1"))),
        };
        let source = Source::parse(&record[2]).ok_or_else(|| bad(origin, line, format!("source `{}`, expected imdb or rotten_tomatoes", &record[2])))?;
        if record[0].trim().is_empty() {
            return Err(bad(origin, line, "empty text".into()));
        }
        out.push(Review { text: record[0].to_string(), label, source });
    }
    Ok(out)
}

/// Reads `path` (plain or gzip).
pub fn read_reviews(path: &Path) -> Result<Vec<Review>, DataError> {
    let raw = std::fs::read(path).map_err(|e| DataError::io(path, "read", e))?;
    let origin = path.display().to_string();
    let text = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice()).read_to_end(&mut out).map_err(|e| DataError::Gzip { origin: origin.clone(), source: e })?;
        out
    } else {
        raw
    };
    parse_reviews(&text, &origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_and_bad_rows_name_the_line() {
        let text = b"text,label,source\n\"A \"\"great\"\"\nfilm\",1,imdb\nDull.,0,rotten_tomatoes\n";
        let rows = parse_reviews(text, "r.csv").unwrap();
        assert_eq!(rows[0].text, "A \"great\"\nfilm");
        assert_eq!((rows[1].label, rows[1].source), (0, Source::RottenTomatoes));
        let e = parse_reviews(b"text,label,source\nok,1,imdb\nbad,2,imdb\n", "r.csv").unwrap_err().to_string();
        assert!(e.contains("r.csv") && e.contains("line 3") && e.contains("label `2`"), "{e}");
        let e = parse_reviews(b"text,label,source\nok,1,imdb\nshort,1\n", "r.csv").unwrap_err().to_string();
        assert!(e.contains("line 3"), "{e}");
        let e = parse_reviews(b"text,label,source\nok,1,netflix\n", "r.csv").unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("netflix"), "{e}");
        let e = parse_reviews(b"review,label\nok,1\n", "r.csv").unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("header"), "{e}");
    }
}
