//! The WordPiece tokenizer of a Hugging Face checkpoint (`tokenizer.json`), through the
//! `tokenizers` crate built without C dependencies (`fancy-regex`). The file's own padding and
//! truncation (all-MiniLM-L6-v2's pads and truncates to 128) are switched off: [`WordPiece::encode`]
//! truncates to the run's `max_length` itself, and batches pad dynamically ([`super::TokenSet`]).

use crate::DataError;
use std::path::{Path, PathBuf};

pub struct WordPiece {
    inner: tokenizers::Tokenizer,
    sep: u32,
    pad: u32,
    path: PathBuf,
}

fn tokenizer_error(path: &Path, message: impl std::fmt::Display) -> DataError {
    DataError::Tokenizer { path: path.to_path_buf(), message: message.to_string() }
}

impl WordPiece {
    /// Reads `tokenizer.json`; it must know `[SEP]` and `[PAD]`.
    pub fn from_file(path: &Path) -> Result<Self, DataError> {
        let mut inner = tokenizers::Tokenizer::from_file(path).map_err(|e| tokenizer_error(path, e))?;
        inner.with_padding(None);
        inner.with_truncation(None).map_err(|e| tokenizer_error(path, e))?;
        let id = |token: &str| inner.token_to_id(token).ok_or_else(|| tokenizer_error(path, format!("no `{token}` in the vocabulary")));
        let (sep, pad) = (id("[SEP]")?, id("[PAD]")?);
        Ok(Self { inner, sep, pad, path: path.to_path_buf() })
    }

    /// `[CLS] … [SEP]` ids of `text`; longer than `max_length` (≥ 2), the text's tokens are cut
    /// and `[SEP]` kept last (Hugging Face's `truncation=True, max_length=…`).
    pub fn encode(&self, text: &str, max_length: usize) -> Result<Vec<u32>, DataError> {
        let encoding = self.inner.encode(text, true).map_err(|e| tokenizer_error(&self.path, e))?;
        let mut ids = encoding.get_ids().to_vec();
        if ids.len() > max_length.max(2) {
            ids.truncate(max_length.max(2) - 1);
            ids.push(self.sep);
        }
        Ok(ids)
    }

    /// The padding id (`[PAD]`, 0 for BERT's vocabulary).
    pub fn pad_id(&self) -> u32 {
        self.pad
    }
}
