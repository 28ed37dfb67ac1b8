//! Each rank reads its own rows of a data file, and the ranks agree on what the whole file
//! would have said: the column count, one- or zero-based indices, the task and the classes.

use std::path::Path;
use steepest::collective::{all_ok, gather_text, shard_range, Communicator};
use steepest::data::{read_file, read_libsvm_part, Dataset, Format, ReadOptions, Task};
use steepest::tensor::Scalar;
use steepest::{Error, Result};

/// This rank's rows of the data file `path`: rank `r` of `N` reads the lines that start in the
/// `r`-th of `N` equal byte ranges of a LIBSVM file (nothing else of the file), or, for CSV and
/// IDX files, reads the file and keeps the rows [`shard_range`] gives it. Every rank must call
/// it; a rank that fails makes every rank return an error naming it.
///
/// The result is what slicing the whole file read by one process would give: the same columns,
/// task (inferred as [`read_file`] infers it, from all ranks' labels) and class names.
pub fn read_shard<T: Scalar>(comm: &mut dyn Communicator, path: &Path, opts: &ReadOptions) -> Result<Dataset<T>> {
    let format = opts.format.or_else(|| Format::from_path(path));
    if format == Some(Format::Libsvm) {
        return read_libsvm_shard(comm, path, opts.csv.task);
    }
    let whole = all_ok(comm, read_file::<T>(path, opts))?;
    let rows: Vec<usize> = shard_range(whole.rows(), comm.rank(), comm.size()).collect();
    whole.subset(&rows)
}

/// Labels sent per rank when the task is inferred: one more than the class limit tells
/// "regression" without sending every distinct value.
const CLASS_LIMIT: usize = 50;

fn read_libsvm_shard<T: Scalar>(comm: &mut dyn Communicator, path: &Path, task: Option<Task>) -> Result<Dataset<T>> {
    let (ranks, me) = (comm.size(), comm.rank());
    let part = all_ok(comm, read_libsvm_part::<T>(path, me, ranks))?;
    // [rows, has indices, has index 0, largest index of each rank...]
    let mut facts = vec![0.0; 3 + ranks];
    facts[0] = part.labels.len() as f64;
    facts[1] = f64::from(u8::from(part.min_index != u64::MAX));
    facts[2] = f64::from(u8::from(part.min_index == 0));
    facts[3 + me] = part.max_index as f64;
    comm.allreduce_sum_f64(&mut facts)?;
    if facts[0] == 0.0 {
        return Err(Error::format(path.display().to_string(), "no data rows"));
    }
    let (any_index, any_zero) = (facts[1] > 0.0, facts[2] > 0.0);
    let max_index = facts[3..].iter().fold(0.0f64, |a, &b| a.max(b)) as usize;
    let one_based = any_index && !any_zero;
    let cols = if any_index {
        max_index + 1 - usize::from(one_based)
    } else {
        0
    };

    let classes = match task {
        Some(Task::Regress) => None,
        _ => {
            let mut distinct = part.labels.clone();
            distinct.sort_by(|a, b| a.total_cmp(b));
            distinct.dedup();
            let integers = part.labels.iter().all(|l| l.fract() == 0.0);
            if task.is_none() {
                distinct.truncate(CLASS_LIMIT + 1);
            }
            let text: Vec<String> = distinct.iter().map(|v| format!("{v:?}")).collect();
            let mine = format!("{} {}", u8::from(integers), text.join(" "));
            let mut all_integers = true;
            let mut union = Vec::new();
            for t in gather_text(comm, &mine)? {
                let mut it = t.split_whitespace();
                all_integers &= it.next() == Some("1");
                for v in it {
                    union.push(
                        v.parse::<f64>()
                            .map_err(|_| Error::invalid("read_shard", format!("bad label '{v}' from a rank")))?,
                    );
                }
            }
            union.sort_by(|a, b| a.total_cmp(b));
            union.dedup();
            let classify = task == Some(Task::Classify) || (all_integers && union.len() <= CLASS_LIMIT);
            classify.then_some(union)
        }
    };
    part.into_dataset(one_based, cols, classes.as_deref())
}
