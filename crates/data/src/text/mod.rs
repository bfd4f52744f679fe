//! Text classification data: the movie-review CSV reader ([`reviews`]), seeded splits
//! stratified by label ([`split`]), the WordPiece tokenizer of a Hugging Face checkpoint
//! ([`tokenizer`]) and a tokenized example set with dynamic padding ([`set`]).

pub mod reviews;
pub mod set;
pub mod split;
pub mod tokenizer;

pub use reviews::{Review, Source, read_reviews};
pub use set::TokenSet;
pub use split::{Splits, stratified_splits};
pub use tokenizer::WordPiece;
