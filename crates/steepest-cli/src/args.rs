//! The command-line grammar.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Steepest: gradient-descent training from the command line.
#[derive(Parser, Debug)]
#[command(name = "steepest", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train a model (with no arguments: an MLP on the embedded digits data).
    Train(TrainArgs),
    /// Evaluate a saved model on a data file.
    Eval(EvalArgs),
    /// Predict with a saved model: CSV on stdout, one row per input row.
    Predict(PredictArgs),
    /// Describe a saved model.
    Inspect(InspectArgs),
    /// Run the learning-rate range test and suggest a learning rate.
    LrFind(LrFindArgs),
    /// Race optimizers on a classic test surface and plot their paths.
    Landscape(LandscapeArgs),
    /// List the embedded datasets, or export one to CSV.
    Datasets(DatasetsArgs),
    /// Serve a live dashboard of the runs in a folder: curves compared, configurations,
    /// final metrics and pictures (http://127.0.0.1:6006/ by default).
    Dashboard(DashboardArgs),
    /// Write runs' dashboard views as one self-contained HTML file (no server, no network).
    Report(ReportArgs),
}

/// Where the data comes from.
#[derive(Args, Debug, Clone, Default)]
pub struct DataArgs {
    /// Training data: a CSV, LIBSVM, Vowpal Wabbit (.vw) or IDX file, a folder (an IDX pair per split, or images
    /// in a folder per class, with train/ and test/ (or val/) when present), or an embedded
    /// dataset name (digits, iris, diabetes, mnist10k) [default: digits].
    #[arg(long, value_name = "FILE")]
    pub data: Option<String>,
    /// Sparse data: fold features into 2^N buckets (Vowpal Wabbit's `-b`: a feature's number,
    /// or its name's MurmurHash3, mod 2^N; collisions are counted and reported); the model stores N and hashes what it
    /// predicts on [default: none; 18 for Vowpal Wabbit's format].
    #[arg(long, value_name = "N")]
    pub hash_bits: Option<u32>,
    /// Linear models: quadratic interactions between groups of features (Vowpal Wabbit's
    /// `-q`), e.g. `1-100:101-200` or `age+income:region`; a group is feature numbers from 1,
    /// ranges, or CSV column names joined by `+`; pairs separated by commas. Crossed features
    /// are appended, or hashed into the buckets with --hash-bits. In Vowpal Wabbit's format the
    /// groups are namespaces by first letter: `ui` or `user:item` is its `-q ui`.
    #[arg(long, value_name = "A:B,...")]
    pub interactions: Option<String>,
    /// Image folders: resize every image to this size, `28` or `32x32` (height x width)
    /// [default: the first image's size, which all must have].
    #[arg(long, value_name = "SIZE")]
    pub image_size: Option<String>,
    /// Image folders: leave out files that cannot be decoded, with a counted warning
    /// [default: such a file is an error naming it].
    #[arg(long)]
    pub skip_bad: bool,
    /// Test data file (instead of a split of --data).
    #[arg(long, value_name = "FILE")]
    pub test_data: Option<String>,
    /// Fraction of --data held out for testing (stratified); 0 trains on every row [default: 0.2].
    #[arg(long, value_name = "F")]
    pub test_split: Option<f64>,
    /// Target column: a header name or a 0-based index [default: the last column].
    #[arg(long, value_name = "COLUMN")]
    pub target: Option<String>,
    /// classify or regress [default: inferred from the targets].
    #[arg(long, value_name = "TASK")]
    pub task: Option<String>,
    /// File format: csv, libsvm or idx [default: from the file name].
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Columns one-hot encoded as categories even when they hold numbers (integer codes);
    /// columns holding text are categories anyway (categories in sorted order).
    #[arg(long, value_name = "COL[,COL]", value_delimiter = ',')]
    pub categorical: Option<Vec<String>>,
    /// Columns left out of the features (identifiers, cluster labels).
    #[arg(long, value_name = "COL[,COL]", value_delimiter = ',')]
    pub ignore: Option<Vec<String>>,
    /// Leave out each categorical column's first category (the reference level), for models
    /// without a penalty: one-hot columns and the intercept are then not collinear.
    #[arg(long)]
    pub drop_first: bool,
    /// Pool categories seen in fewer than N training rows into one column, name=infrequent.
    #[arg(long, value_name = "N")]
    pub min_frequency: Option<usize>,
    /// Fill missing numeric cells: mean, median, most-frequent or constant:VALUE (fitted on the
    /// training rows; text columns take their most frequent category) [default: an empty cell
    /// is an error].
    #[arg(long, value_name = "STRATEGY")]
    pub impute: Option<String>,
    /// Fill missing categorical cells: most-frequent, or missing (a category of its own).
    #[arg(long, value_name = "STRATEGY")]
    pub impute_categorical: Option<String>,
    /// Add a 0/1 column missing(NAME) for each column with missing cells in training.
    #[arg(long)]
    pub missing_indicator: bool,
}

/// The model and its hyper-parameters.
#[derive(Args, Debug, Clone, Default)]
pub struct ModelArgs {
    /// linear, ridge, lasso, elastic-net (regression: the targets are read as values),
    /// logistic (binary; multinomial on more classes, as scikit-learn's), softmax, svm (linear;
    /// a kernel SVM with --kernel), rbf-svm (svm --kernel rbf --kernel-approx rff), svr (kernel
    /// support vector regression), perceptron, mlp, or for images cnn (PyTorch's MNIST example
    /// network), cnn-bn (conv-BN-ReLU blocks), lenet5 or resnet (ResNet-20 of BasicBlocks, for
    /// small colour images) [default: mlp].
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// A network defined in a TOML file, one [[layer]] table per layer (type plus PyTorch's
    /// argument names; see docs/architecture.md).
    #[arg(long, value_name = "FILE")]
    pub arch: Option<std::path::PathBuf>,
    /// Hidden layer sizes of the MLP, e.g. 128,64 [default: 100].
    #[arg(long, value_name = "SIZES", value_delimiter = ',')]
    pub hidden: Option<Vec<usize>>,
    /// MLP activation: relu, tanh, sigmoid, gelu, leaky-relu, identity [default: relu].
    #[arg(long)]
    pub activation: Option<String>,
    /// MLP dropout probability [default: 0].
    #[arg(long)]
    pub dropout: Option<f64>,
    /// MLP weight initialization: he, xavier, torch, zeros [default: he].
    #[arg(long)]
    pub init: Option<String>,
    /// Penalty of linear models: none, l2, l1, elastic-net [default: the model's].
    #[arg(long)]
    pub penalty: Option<String>,
    /// Penalty strength (for the MLP: the L2 strength) [default: the model's].
    #[arg(long)]
    pub alpha: Option<f64>,
    /// Share of L1 in the elastic net [default: 0.15].
    #[arg(long)]
    pub l1_ratio: Option<f64>,
    /// Loss of linear models: squared, huber, absolute, epsilon-insensitive (regression);
    /// hinge, squared-hinge (svm).
    #[arg(long)]
    pub loss: Option<String>,
    /// Epsilon of the huber and epsilon-insensitive losses and of svr's tube [default: 1.35,
    /// 0.1 and 0.1].
    #[arg(long, allow_hyphen_values = true)]
    pub epsilon: Option<f64>,
    /// Multi-class SVM: ovo (a model per pair of classes, libsvm's), ovr, or crammer-singer
    /// (linear only) [default: ovo for kernel SVMs, ovr for the linear SVM; ovo with the linear
    /// SVM trains the exact linear-kernel SVM, as SVC(kernel="linear")].
    #[arg(long)]
    pub multiclass: Option<String>,
    /// Kernel width: a number, scale (1 / (features var(X)), scikit-learn's default) or auto
    /// (1 / features) [default: scale for --kernel, 1 / features for rbf-svm].
    #[arg(long, allow_hyphen_values = true)]
    pub gamma: Option<String>,
    /// svm, svr: the kernel: linear (the linear SVM), or rbf, poly, sigmoid (the kernel SVM,
    /// trained in the primal by Newton's method; exact for up to some tens of thousands of rows,
    /// since its kernel matrix is rows x rows: beyond, use --kernel-approx) [default: linear
    /// for svm, rbf for svr and with --kernel-approx].
    #[arg(long)]
    pub kernel: Option<String>,
    /// Approximate the kernel by explicit features: nystroem (any kernel) or rff (random
    /// Fourier features, rbf); cost linear in the rows; --components sets their number.
    #[arg(long, value_name = "METHOD")]
    pub kernel_approx: Option<String>,
    /// The kernel SVM's C (scikit-learn's SVC(C=...)) [default: 1].
    #[arg(long = "C", value_name = "C", allow_hyphen_values = true)]
    pub c: Option<f64>,
    /// Degree of the polynomial kernel [default: 3].
    #[arg(long)]
    pub kernel_degree: Option<u32>,
    /// Constant term of the polynomial and sigmoid kernels [default: 0].
    #[arg(long)]
    pub coef0: Option<f64>,
    /// Kernel SVMs: fit Platt's sigmoids (on 5-fold cross-validated decision values)
    /// so that `predict --proba` gives probabilities (about 5 more fits).
    #[arg(long)]
    pub probability: bool,
    /// Features of the kernel approximation (--kernel-approx, rbf-svm) [default: 500].
    #[arg(long)]
    pub components: Option<usize>,
    /// Polynomial feature degree [default: 1].
    #[arg(long)]
    pub degree: Option<usize>,
    /// Networks on images: shift each training image by up to PAD pixels (torchvision's
    /// RandomCrop(size, padding=PAD)).
    #[arg(long, value_name = "PAD")]
    pub random_crop: Option<usize>,
    /// Networks on images: mirror training images left to right with probability 0.5
    /// (RandomHorizontalFlip; wrong for digits and text).
    #[arg(long)]
    pub random_horizontal_flip: bool,
    /// Networks on images: rotate training images by up to DEG degrees (RandomRotation).
    #[arg(long, value_name = "DEG")]
    pub random_rotation: Option<f64>,
    /// Networks on images: a random affine map of each training image, e.g.
    /// degrees=10,translate=0.1,scale=0.9:1.1,shear=5 (any of the four; torchvision's
    /// RandomAffine with bilinear interpolation)
    #[arg(long, value_name = "SPEC")]
    pub random_affine: Option<String>,
    /// Networks on images: erase a random rectangle of a training image with probability P
    /// (RandomErasing).
    #[arg(long, value_name = "P")]
    pub random_erasing: Option<f64>,
    /// Networks of layers on classes: label smoothing EPS of the training loss, in [0, 1)
    /// (CrossEntropyLoss(label_smoothing=EPS)) [default: 0]
    #[arg(long, value_name = "EPS")]
    pub label_smoothing: Option<f64>,
    /// Class weights: uniform or balanced [default: uniform].
    #[arg(long)]
    pub class_weight: Option<String>,
    /// Feature scaling: standard, min-max or none [default: standard].
    #[arg(long)]
    pub scaler: Option<String>,
}

/// The optimizer, its hyper-parameters and the schedule.
#[derive(Args, Debug, Clone, Default)]
pub struct OptimArgs {
    /// sgd, adagrad, rmsprop, adadelta, adam, adamw, nadam, radam, adamax, lion, muon,
    /// schedule-free-sgd, schedule-free-adamw, polyak, lbfgs, armijo, newton (exact linear and
    /// logistic regression) [default: the model's].
    #[arg(long, value_name = "NAME")]
    pub optimizer: Option<String>,
    /// Learning rate.
    #[arg(long)]
    pub lr: Option<f64>,
    /// Momentum (sgd, rmsprop, muon).
    #[arg(long)]
    pub momentum: Option<f64>,
    /// Dampening (sgd).
    #[arg(long)]
    pub dampening: Option<f64>,
    /// Nesterov momentum (sgd, muon).
    #[arg(long)]
    pub nesterov: bool,
    /// Betas b1,b2 (adam family, lion).
    #[arg(long, value_name = "B1,B2", value_delimiter = ',')]
    pub betas: Option<Vec<f64>>,
    /// Term added to denominators.
    #[arg(long)]
    pub eps: Option<f64>,
    /// Weight decay.
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Any other hyper-parameter by its PyTorch name, e.g. --opt centered=true (repeatable).
    #[arg(long = "opt", value_name = "KEY=VALUE")]
    pub opt: Vec<String>,
    /// Learning-rate schedule: constant, step, multi-step, exponential, invscaling, optimal,
    /// polynomial, linear-warmup, cosine, warmup-cosine, cosine-restarts, one-cycle, cyclic,
    /// plateau.
    #[arg(long, value_name = "NAME")]
    pub schedule: Option<String>,
    /// A schedule setting, e.g. --schedule-opt gamma=0.5 (repeatable).
    #[arg(long = "schedule-opt", value_name = "KEY=VALUE")]
    pub schedule_opt: Vec<String>,
    /// Advance the schedule every epoch or every step [default: epoch].
    #[arg(long, value_name = "WHEN")]
    pub schedule_per: Option<String>,
    /// Rows per step: 1 is SGD, full is full-batch gradient descent [default: 32].
    #[arg(long, value_name = "N|full")]
    pub batch_size: Option<String>,
    /// Passes over the data [default: 50; 1 for a linear model on sparse data].
    #[arg(long, visible_alias = "passes")]
    pub epochs: Option<usize>,
    /// Clip the global gradient norm.
    #[arg(long, value_name = "NORM")]
    pub clip_grad_norm: Option<f64>,
    /// Seed of initialization, shuffling and splits [default: 0].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Visit the training rows in a new random order every epoch [default: true; false for a
    /// linear model on sparse data, which learns in file order as Vowpal Wabbit and --stream do].
    #[arg(long, value_name = "true|false")]
    pub shuffle: Option<bool>,
    /// Threads for matrix products [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Element type: f32 or f64 [default: f32].
    #[arg(long)]
    pub dtype: Option<String>,
}

/// `steepest train`.
#[derive(Args, Debug, Clone, Default)]
pub struct TrainArgs {
    /// Data.
    #[command(flatten)]
    pub data: DataArgs,
    /// Model.
    #[command(flatten)]
    pub model: ModelArgs,
    /// Optimizer.
    #[command(flatten)]
    pub optim: OptimArgs,
    /// Stop after this many epochs without improvement of the validation loss (0: never).
    #[arg(long, value_name = "PATIENCE")]
    pub early_stopping: Option<usize>,
    /// Fraction of the training rows used for validation every epoch [default: 0.1 with early
    /// stopping, else 0].
    #[arg(long, value_name = "F")]
    pub validation: Option<f64>,
    /// Checkpoint every this many epochs (0: never) [default: 1].
    #[arg(long, value_name = "N")]
    pub checkpoint_every: Option<usize>,
    /// Train this many optimizer steps instead (epochs as many as that takes, the last one
    /// partial; with --epochs, whichever comes first).
    #[arg(long, value_name = "N")]
    pub steps: Option<u64>,
    /// The divergence guard treats a loss above F times the first epoch's mean loss as
    /// divergence (roll back, halve the rate); 0 turns that test off (non-finite losses are
    /// always caught) [default: 1e4].
    #[arg(long, value_name = "F")]
    pub divergence_factor: Option<f64>,
    /// Run folder [default: runs/<model>-<data>-<n>]. An existing folder with files in it is
    /// refused unless --overwrite (or --resume) is given.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace the run in an existing --out folder (its run files are removed first).
    #[arg(long, conflicts_with = "resume")]
    pub overwrite: bool,
    /// The memory a run may use, e.g. 8G or 512M: sizes (a model's parameters and optimizer
    /// state, a table's columns) are checked against it before allocating [default: the
    /// memory the machine has available].
    #[arg(long, value_name = "SIZE")]
    pub max_memory: Option<String>,
    /// Read settings from a TOML file (flags win).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Continue the interrupted run in DIR from its last checkpoint.
    #[arg(long, value_name = "DIR", conflicts_with = "config")]
    pub resume: Option<PathBuf>,
    /// Print one JSON object on stdout at the end.
    #[arg(long)]
    pub json: bool,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
    /// Run as one rank of an MPI job: `mpirun -np N steepest train --distributed ...` (needs a
    /// build with `--features mpi`). Rank 0 prints and writes the run folder.
    #[arg(long)]
    pub distributed: bool,
    /// With --distributed: batch norm layers normalize by the statistics of the whole batch
    /// over every rank (PyTorch's SyncBatchNorm) instead of each rank's own part (DDP's
    /// default); every rank must take as many steps (shards of equal batch counts).
    #[arg(long)]
    pub sync_batchnorm: bool,
    /// Linear models on a LIBSVM file: learn while reading, block by block, in file order, with
    /// memory for the model and one block whatever the file's length (per-example steps; the
    /// progressive loss is the held-out measure); with --distributed each rank streams its own
    /// byte range and the ranks average their models after every pass [default: on when the
    /// file is larger than a quarter of the memory budget].
    #[arg(long)]
    pub stream: bool,
    /// Where a stream keeps its binary cache of the parsed file, which later passes (and later
    /// runs on the same unchanged file with the same settings) read instead of the text
    /// [default: the run folder, when there is more than one pass].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Serve the dashboard of the run folder's parent (runs/) while training, on
    /// 127.0.0.1:6006 or the next free port; it stays up after the run, until Ctrl-C, when
    /// the command was started from a terminal.
    #[arg(long)]
    pub dashboard: bool,
}

/// `steepest eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// The run folder (or folder) holding model.json and model.safetensors.
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,
    /// Data file with targets.
    #[arg(long, value_name = "FILE")]
    pub data: String,
    /// Target column [default: the last column].
    #[arg(long, value_name = "COLUMN")]
    pub target: Option<String>,
    /// File format [default: from the file name].
    #[arg(long)]
    pub format: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `steepest predict`.
#[derive(Args, Debug)]
pub struct PredictArgs {
    /// The run folder holding the model.
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,
    /// Data file: the model's features, with or without a target column.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "files",
        conflicts_with = "files"
    )]
    pub data: Option<String>,
    /// Image files to classify (PNG, JPEG, BMP, GIF; resized to the model's input): one line
    /// each, `file,class,probability` (CSV with that header).
    #[arg(value_name = "IMAGE")]
    pub files: Vec<PathBuf>,
    /// With image files: one JSON array instead of CSV.
    #[arg(long, requires = "files")]
    pub json: bool,
    /// Target column to drop if the file has one [default: the last column].
    #[arg(long, value_name = "COLUMN")]
    pub target: Option<String>,
    /// File format [default: from the file name].
    #[arg(long)]
    pub format: Option<String>,
    /// Print class probabilities instead of classes.
    #[arg(long)]
    pub proba: bool,
}

/// `steepest inspect`.
#[derive(Args, Debug)]
pub struct InspectArgs {
    /// The run folder holding the model.
    pub dir: PathBuf,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// The regression-analysis table (as statsmodels' summary): standard errors, t or z,
    /// p-values, confidence intervals, R^2, F, log-likelihood, AIC, BIC. For linear and logistic
    /// regression trained in f64 to the optimum (--optimizer newton) on every row (--test-split
    /// 0), with no penalty or ridge; the training rows are read again from the run's config.
    #[arg(long)]
    pub stats: bool,
    /// With --stats: heteroscedasticity-robust standard errors (HC1).
    #[arg(long, requires = "stats", conflicts_with = "cluster")]
    pub robust: bool,
    /// With --stats: cluster-robust standard errors, clusters by the values of column COL.
    #[arg(long, value_name = "COL", requires = "stats")]
    pub cluster: Option<String>,
}

/// `steepest lr-find`.
#[derive(Args, Debug, Clone, Default)]
pub struct LrFindArgs {
    /// Data.
    #[command(flatten)]
    pub data: DataArgs,
    /// Model.
    #[command(flatten)]
    pub model: ModelArgs,
    /// Optimizer.
    #[command(flatten)]
    pub optim: OptimArgs,
    /// Smallest learning rate tried [default: 1e-7].
    #[arg(long)]
    pub start_lr: Option<f64>,
    /// Largest learning rate tried [default: 10].
    #[arg(long)]
    pub end_lr: Option<f64>,
    /// Learning rates tried [default: 100].
    #[arg(long)]
    pub steps: Option<usize>,
    /// Folder for the plot [default: runs/lr-find-<n>]; an existing one with files in it needs
    /// --overwrite.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace the files of an existing --out folder.
    #[arg(long)]
    pub overwrite: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `steepest landscape`.
#[derive(Args, Debug)]
pub struct LandscapeArgs {
    /// rosenbrock, beale, booth, himmelblau, rastrigin, ackley, quadratic, sphere,
    /// styblinski-tang.
    #[arg(long, default_value = "rosenbrock")]
    pub function: String,
    /// Optimizers to race (gd, sgd, momentum, nesterov, adagrad, rmsprop, adadelta, adam, adamw,
    /// nadam, radam, adamax, lion, schedule-free-sgd, schedule-free-adamw, polyak, lbfgs, armijo).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "gd,momentum,nesterov,adam,lbfgs,polyak"
    )]
    pub optimizers: Vec<String>,
    /// Learning rate for every optimizer that has one [default: per optimizer].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Momentum.
    #[arg(long)]
    pub momentum: Option<f64>,
    /// Betas b1,b2.
    #[arg(long, value_delimiter = ',')]
    pub betas: Option<Vec<f64>>,
    /// Weight decay.
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Starting point x,y [default: per function].
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub start: Option<Vec<f64>>,
    /// Steps per run.
    #[arg(long, default_value_t = 3000)]
    pub steps: usize,
    /// Starts per optimizer: the given one plus starts drawn uniformly from the plotted box.
    #[arg(long, default_value_t = 1)]
    pub starts: usize,
    /// Seed of the extra starts.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Folder for the plots [default: runs/landscape-<function>-<n>]; an existing one with files
    /// in it needs --overwrite.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace the files of an existing --out folder.
    #[arg(long)]
    pub overwrite: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `steepest datasets`.
#[derive(Args, Debug)]
pub struct DatasetsArgs {
    /// Export this embedded dataset as CSV.
    #[arg(long, value_name = "NAME")]
    pub export: Option<String>,
    /// Where to write the CSV [default: stdout].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `steepest dashboard`.
#[derive(Args, Debug)]
pub struct DashboardArgs {
    /// The folder holding the run folders (searched three levels deep), or one run folder.
    #[arg(default_value = "runs")]
    pub runs_dir: PathBuf,
    /// The port (0: any free port, printed).
    #[arg(long, default_value_t = 6006)]
    pub port: u16,
    /// The address to listen on; the default answers this machine only. Anything else shows
    /// your runs to whoever can reach it.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
}

/// `steepest report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Run folders, or folders of run folders.
    #[arg(required = true, value_name = "RUN")]
    pub runs: Vec<PathBuf>,
    /// The HTML file to write.
    #[arg(long, value_name = "FILE", default_value = "report.html")]
    pub out: PathBuf,
}
