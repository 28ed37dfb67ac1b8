//! The dataset type: features (dense or sparse) and targets (classes or values).

use crate::error::{Error, Result};
use crate::tensor::{CsrMatrix, Scalar, Tensor};
use serde::{Deserialize, Serialize};

/// Whether targets are classes or real values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Predict one of a set of classes.
    Classify,
    /// Predict a real value.
    Regress,
}

/// Feature matrix: one row per example.
#[derive(Clone, Debug, PartialEq)]
pub enum Features<T = f32> {
    /// A dense `[rows, features]` tensor.
    Dense(Tensor<T>),
    /// A sparse matrix (LIBSVM data).
    Sparse(CsrMatrix<T>),
}

/// Targets, one per row.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// Class indices into `names` (the original labels, as text).
    Classes {
        /// Class index of each row.
        labels: Vec<usize>,
        /// Original label of each class, in index order.
        names: Vec<String>,
    },
    /// Real values.
    Values(Vec<f64>),
}

/// A dataset: features, targets, and names for both.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<T = f32> {
    /// The features.
    pub features: Features<T>,
    /// The targets.
    pub targets: Targets,
    /// One name per feature column, or empty for the default names `f0, f1, ...` (large sparse
    /// data sets keep it empty rather than hold millions of names).
    pub feature_names: Vec<String>,
    /// The shape of one example when it is more than a row of features (images: `[channels,
    /// height, width]`); each row holds the example's elements in row-major order. Empty: a
    /// plain row of `cols` features.
    pub example_shape: Vec<usize>,
    /// The identity of each row in the data it was taken from (kept through
    /// [`Dataset::subset`]): stochastic layers seed each example's draws by it, so that an
    /// example gets the same dropout mask whichever process or batch position trains it.
    /// Empty: the row positions are the identities.
    pub row_ids: Vec<u64>,
}

impl<T: Scalar> Features<T> {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        match self {
            Features::Dense(t) => t.rows_count(),
            Features::Sparse(s) => s.shape().0,
        }
    }

    /// Number of feature columns.
    pub fn cols(&self) -> usize {
        match self {
            Features::Dense(t) => t.row_len(),
            Features::Sparse(s) => s.shape().1,
        }
    }

    /// The rows at `idx`.
    pub fn gather(&self, idx: &[usize]) -> Result<Self> {
        Ok(match self {
            Features::Dense(t) => Features::Dense(t.gather_rows(idx)?),
            Features::Sparse(s) => Features::Sparse(s.gather_rows(idx)?),
        })
    }

    /// The dense tensor, or an error naming `what` needs dense features.
    pub fn dense(&self, what: &'static str) -> Result<&Tensor<T>> {
        match self {
            Features::Dense(t) => Ok(t),
            Features::Sparse(_) => Err(Error::invalid(what, "needs dense features; this data is sparse")),
        }
    }

    /// Sparse features cut or widened to `cols` columns, and the number of entries cut: the
    /// width of a LIBSVM file is its highest index, so a test file's may differ from the training
    /// file's; a feature the model never saw has no weight (a zero one). Dense features must
    /// already have `cols` columns.
    pub fn fit_cols(self, cols: usize) -> Result<(Self, usize)> {
        match self {
            Features::Sparse(s) if s.shape().1 > cols => {
                let (m, dropped) = s.first_cols(cols);
                Ok((Features::Sparse(m), dropped))
            }
            f => Ok((f.with_cols(cols)?, 0)),
        }
    }

    /// Sparse features widened to `cols` columns (a LIBSVM file whose highest index is below
    /// the model's); dense features must already have `cols` columns.
    pub fn with_cols(self, cols: usize) -> Result<Self> {
        match self {
            Features::Sparse(s) if s.shape().1 <= cols => Ok(Features::Sparse(s.widen(cols)?)),
            f if f.cols() == cols => Ok(f),
            f => Err(Error::invalid(
                "features",
                format!("{} columns, expected {cols}", f.cols()),
            )),
        }
    }

    /// Converts to another element type.
    pub fn cast<U: Scalar>(&self) -> Result<Features<U>> {
        Ok(match self {
            Features::Dense(t) => Features::Dense(t.cast()),
            Features::Sparse(s) => Features::Sparse(s.cast()?),
        })
    }
}

impl Targets {
    /// Number of targets.
    pub fn len(&self) -> usize {
        match self {
            Targets::Classes { labels, .. } => labels.len(),
            Targets::Values(v) => v.len(),
        }
    }

    /// Whether there are no targets.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The targets at `idx`.
    pub fn gather(&self, idx: &[usize]) -> Self {
        match self {
            Targets::Classes { labels, names } => Targets::Classes {
                labels: idx.iter().map(|&i| labels[i]).collect(),
                names: names.clone(),
            },
            Targets::Values(v) => Targets::Values(idx.iter().map(|&i| v[i]).collect()),
        }
    }

    /// The task these targets imply.
    pub fn task(&self) -> Task {
        match self {
            Targets::Classes { .. } => Task::Classify,
            Targets::Values(_) => Task::Regress,
        }
    }

    /// The class names (empty for real targets).
    pub fn class_names(&self) -> &[String] {
        match self {
            Targets::Classes { names, .. } => names,
            Targets::Values(_) => &[],
        }
    }

    /// Class labels, or an error for real targets.
    pub fn classes(&self) -> Result<(&[usize], &[String])> {
        match self {
            Targets::Classes { labels, names } => Ok((labels, names)),
            Targets::Values(_) => Err(Error::invalid("targets", "expected class labels, found real values")),
        }
    }

    /// Real values, or an error for class labels.
    pub fn values(&self) -> Result<&[f64]> {
        match self {
            Targets::Values(v) => Ok(v),
            Targets::Classes { .. } => Err(Error::invalid("targets", "expected real values, found class labels")),
        }
    }
}

impl<T: Scalar> Dataset<T> {
    /// Builds a dataset, checking that features, targets and names agree in length.
    pub fn new(features: Features<T>, targets: Targets, feature_names: Vec<String>) -> Result<Self> {
        if features.rows() != targets.len() {
            return Err(Error::invalid(
                "dataset",
                format!("{} feature rows but {} targets", features.rows(), targets.len()),
            ));
        }
        if !feature_names.is_empty() && feature_names.len() != features.cols() {
            return Err(Error::invalid(
                "dataset",
                format!("{} feature names for {} columns", feature_names.len(), features.cols()),
            ));
        }
        if let Targets::Classes { labels, names } = &targets {
            if let Some(&bad) = labels.iter().find(|&&l| l >= names.len()) {
                return Err(Error::invalid("dataset", format!("class index {bad} without a name")));
            }
        }
        Ok(Self {
            features,
            targets,
            feature_names,
            example_shape: Vec::new(),
            row_ids: Vec::new(),
        })
    }

    /// The identity of row `r` (see [`Dataset::row_ids`]).
    pub fn row_id(&self, r: usize) -> u64 {
        self.row_ids.get(r).copied().unwrap_or(r as u64)
    }

    /// The same data with examples of `shape` (whose elements must number the columns).
    pub fn with_example_shape(mut self, shape: &[usize]) -> Result<Self> {
        if shape.iter().product::<usize>() != self.cols() || shape.is_empty() {
            return Err(Error::invalid(
                "dataset",
                format!("examples of shape {shape:?} do not fit rows of {} columns", self.cols()),
            ));
        }
        self.example_shape = shape.to_vec();
        Ok(self)
    }

    /// The shape of one example: [`Dataset::example_shape`], or `[cols]` when that is empty.
    pub fn shape_of_example(&self) -> Vec<usize> {
        match self.example_shape.is_empty() {
            true => vec![self.cols()],
            false => self.example_shape.clone(),
        }
    }

    /// A dense dataset with default names `x0, x1, ...`.
    pub fn from_dense(x: Tensor<T>, targets: Targets) -> Result<Self> {
        let names = (0..x.row_len()).map(|i| format!("x{i}")).collect();
        Self::new(Features::Dense(x), targets, names)
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.features.rows()
    }

    /// The name of feature column `i`.
    pub fn feature_name(&self, i: usize) -> String {
        self.feature_names.get(i).cloned().unwrap_or_else(|| format!("f{i}"))
    }

    /// Every feature name (the defaults filled in).
    pub fn all_feature_names(&self) -> Vec<String> {
        (0..self.cols()).map(|i| self.feature_name(i)).collect()
    }

    /// Number of feature columns.
    pub fn cols(&self) -> usize {
        self.features.cols()
    }

    /// The rows at `idx`, in that order.
    pub fn subset(&self, idx: &[usize]) -> Result<Self> {
        Ok(Self {
            features: self.features.gather(idx)?,
            targets: self.targets.gather(idx),
            feature_names: self.feature_names.clone(),
            example_shape: self.example_shape.clone(),
            row_ids: idx.iter().map(|&i| self.row_id(i)).collect(),
        })
    }

    /// The columns named `names`, in that order, matched by name (a file whose columns come in
    /// another order, or with extra ones, scored against a model's features). `Ok(None)` when
    /// none of the names are among this data's (a file without a header: match by position);
    /// an error naming the missing ones when only some are. Also returns the names of the
    /// columns left out.
    ///
    /// ```
    /// use steepest::data::{Dataset, Features, Targets};
    /// use steepest::Tensor;
    /// let d = Dataset::new(Features::Dense(Tensor::new(vec![1.0f32, 2.0, 3.0], &[1, 3])?),
    ///     Targets::Values(vec![0.0]), vec!["b".into(), "a".into(), "c".into()])?;
    /// let (m, extra) = d.select_columns(&["a".to_string(), "b".to_string()])?.unwrap();
    /// assert_eq!(m.features.dense("x")?.data(), &[2.0, 1.0]);
    /// assert_eq!(extra, ["c"]);
    /// # Ok::<(), steepest::Error>(())
    /// ```
    pub fn select_columns(&self, names: &[String]) -> Result<Option<(Self, Vec<String>)>> {
        let have = self.all_feature_names();
        let at: Vec<Option<usize>> = names.iter().map(|n| have.iter().position(|h| h == n)).collect();
        if at.iter().all(Option::is_none) {
            return Ok(None);
        }
        let missing: Vec<&str> = names
            .iter()
            .zip(&at)
            .filter(|(_, a)| a.is_none())
            .map(|(n, _)| n.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(Error::invalid(
                "columns",
                format!(
                    "the model's feature columns {} are missing from the data",
                    missing.join(", ")
                ),
            ));
        }
        let idx: Vec<usize> = at.into_iter().flatten().collect();
        let extra: Vec<String> = have.iter().filter(|h| !names.contains(h)).cloned().collect();
        let t = self.features.dense("selecting columns by name")?;
        let mut data = Vec::with_capacity(t.rows_count() * idx.len());
        for r in 0..t.rows_count() {
            let row = t.row(r);
            data.extend(idx.iter().map(|&j| row[j]));
        }
        let x = Tensor::new(data, &[t.rows_count(), idx.len()])?;
        Ok(Some((
            Dataset::new(Features::Dense(x), self.targets.clone(), names.to_vec())?,
            extra,
        )))
    }

    /// Number of classes (0 for regression).
    pub fn n_classes(&self) -> usize {
        match &self.targets {
            Targets::Classes { names, .. } => names.len(),
            Targets::Values(_) => 0,
        }
    }

    /// Converts the features to another element type.
    pub fn cast<U: Scalar>(&self) -> Result<Dataset<U>> {
        Ok(Dataset {
            features: self.features.cast()?,
            targets: self.targets.clone(),
            feature_names: self.feature_names.clone(),
            example_shape: self.example_shape.clone(),
            row_ids: self.row_ids.clone(),
        })
    }

    /// Checks that every feature is finite.
    pub fn check_finite(&self, what: &str) -> Result<()> {
        let bad = match &self.features {
            Features::Dense(t) => t
                .data()
                .iter()
                .position(|v| !v.is_finite())
                .map(|i| (i / t.row_len().max(1), i % t.row_len().max(1))),
            Features::Sparse(_) => None,
        };
        if let Some((r, c)) = bad {
            return Err(Error::invalid(
                "dataset",
                format!("{what}: row {} column {} is not finite", r + 1, c + 1),
            ));
        }
        if let Targets::Values(v) = &self.targets {
            if let Some(i) = v.iter().position(|v| !v.is_finite()) {
                return Err(Error::invalid(
                    "dataset",
                    format!("{what}: target of row {} is not finite", i + 1),
                ));
            }
        }
        Ok(())
    }
}
