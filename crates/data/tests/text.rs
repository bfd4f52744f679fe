//! The text data on the real files (../shared/data/text, or PLASTICITY_DATA): the tokenizer's
//! ids against transformers' (the data README's sentence and the four reference sentences), and
//! the movie-review file's counts.

use plasticity_data::text::{Source, WordPiece, read_reviews, stratified_splits};
use serde_json::Value;
use std::path::PathBuf;

fn text_dir() -> PathBuf {
    let data = std::env::var_os("PLASTICITY_DATA").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    data.join("text")
}

#[test]
#[ignore = "needs ../shared/data/text (all-MiniLM-L6-v2's tokenizer.json and the reference values)"]
fn token_ids_equal_the_reference() {
    let dir = text_dir();
    let tokenizer = WordPiece::from_file(&dir.join("all-MiniLM-L6-v2/tokenizer.json")).unwrap();
    assert_eq!(tokenizer.encode("A man is eating food.", 128).unwrap(), [101, 1037, 2158, 2003, 5983, 2833, 1012, 102]);
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("reference/minilm_reference.json")).unwrap()).unwrap();
    let sentences: Vec<String> = serde_json::from_value(reference["sentences"].clone()).unwrap();
    let padded: Vec<Vec<u32>> = serde_json::from_value(reference["input_ids"].clone()).unwrap();
    for (sentence, row) in sentences.iter().zip(&padded) {
        let ids = tokenizer.encode(sentence, 512).unwrap();
        let real: Vec<u32> = row.iter().copied().take_while(|&t| t != 0).collect();
        assert_eq!(ids, real, "{sentence}");
    }
    // The file itself pads and truncates to 128; ours truncates to the asked length, [SEP] last.
    let long = "word ".repeat(300);
    let ids = tokenizer.encode(&long, 16).unwrap();
    assert_eq!((ids.len(), ids[0], ids[15]), (16, 101, 102));
    assert_eq!(tokenizer.encode(&long, 512).unwrap().len(), 302, "no truncation to 128 from the file");
}

#[test]
#[ignore = "needs ../shared/data/text/movie_reviews.csv.gz"]
fn movie_reviews_read_with_their_counts() {
    let rows = read_reviews(&text_dir().join("movie_reviews.csv.gz")).unwrap();
    assert_eq!(rows.len(), 33_530);
    let count = |f: &dyn Fn(&plasticity_data::text::Review) -> bool| rows.iter().filter(|r| f(r)).count();
    assert_eq!(count(&|r| r.source == Source::Imdb), 25_000);
    assert_eq!(count(&|r| r.source == Source::Imdb && r.label == 1), 12_500);
    assert_eq!(count(&|r| r.source == Source::RottenTomatoes && r.label == 1), 4_265);
    let labels: Vec<u8> = rows.iter().map(|r| r.label).collect();
    let s = stratified_splits(&labels, 0.1, 0.1, 1);
    // 16,765 per label: round(1,676.5) = 1,677 each to validation and test.
    assert_eq!((s.valid.len(), s.test.len()), (3_354, 3_354));
}
