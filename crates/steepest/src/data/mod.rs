//! Data in: datasets, readers, scaling, splits and batches, embedded data and generators.
//!
//! * [`Dataset`]: dense or sparse features, class or real targets, feature and class names.
//! * Readers that stream their file and report bad input as `file:line:column: what was
//!   expected`: [`read_csv`], [`read_libsvm`], [`read_idx`]; [`read_file`] picks the format by
//!   extension ([`Format`] overrides).
//! * [`Table`] (a CSV's columns before encoding) and [`TableEncoder`] (one-hot categories,
//!   imputed missing cells), fitted on training rows and stored with the model.
//! * [`Scaler`] (standardization, min-max) fitted on training rows only; [`split`] (stratified,
//!   seeded); [`Batches`] (batch size 1 is SGD, b is mini-batch, all rows is full-batch GD).
//! * [`embedded`]: digits, iris and diabetes compiled into the library; [`generate`]: linear data,
//!   blobs, two moons, circles and spirals.

mod augment;
mod batch;
mod cache;
mod csv_reader;
mod dataset;
mod digits;
pub mod embedded;
mod encode;
mod feed;
pub mod generate;
mod hashing;
mod idx;
mod images;
mod interactions;
mod libsvm;
mod libsvm_fast;
mod poly;
mod read;
mod scale;
mod split;
mod stream;
mod table;
mod vw;

pub use augment::{Augment, BatchTransform};
pub use batch::{BatchSize, Batches};
pub use cache::{CacheReader, CacheWriter};
pub(crate) use csv_reader::fmt_label;
pub use csv_reader::{read_csv, read_csv_from, read_table, read_table_from, CsvOptions, Missing};
pub use dataset::{Dataset, Features, Targets, Task};
pub use encode::{
    CategoricalImpute, ColumnCode, ColumnKind, EncodeOptions, EncodeReport, Impute, TableEncoder, MISSING_CATEGORY,
};
pub use hashing::{murmur3_32, FeatureHasher};
pub use idx::{read_idx, read_idx_dir, read_idx_tensor};
pub use images::{
    is_image_file, is_image_folder, is_image_list, read_image_folder, read_image_list, read_images, DecodedImages,
    ImageFolder, ImageOptions, Skipped,
};
pub use interactions::Interactions;
pub use libsvm::{read_libsvm, read_libsvm_from, read_libsvm_part, LibsvmPart};
pub use poly::PolynomialFeatures;
pub use read::{read_file, Format, ReadOptions};
pub use scale::{Scaler, ScalerKind};
pub use split::{shuffled_indices, split, Split};
pub use stream::{CacheKey, ChunkReader, LibsvmChunks, SparseChunk, StreamSource};
pub use table::{Column, Table};
pub use vw::{parse_namespace_crosses, read_vw, read_vw_crossed, SparseText, VW_WIDTH};
