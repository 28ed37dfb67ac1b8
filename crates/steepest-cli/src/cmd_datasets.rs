//! `steepest datasets`.

use crate::args::DatasetsArgs;
use crate::error::CliResult;
use crate::output::write_file;
use steepest::data::embedded;

/// Runs `steepest datasets`.
pub fn run(a: DatasetsArgs) -> CliResult<()> {
    match a.export {
        Some(name) if embedded::image_files(&name).is_some() => {
            // Images: their IDX files, gzipped as shipped, into a folder (`--data DIR` reads it).
            let Some(dir) = a.out else {
                return Err(crate::error::usage(format!(
                    "{name} is images: give --out DIR for its IDX files"
                )));
            };
            std::fs::create_dir_all(&dir).map_err(|e| crate::error::usage(format!("{}: {e}", dir.display())))?;
            for (file, bytes) in embedded::image_files(&name).into_iter().flatten() {
                write_file(&dir.join(file), bytes)?;
            }
            eprintln!("wrote {name}'s IDX files to {}", dir.display());
        }
        Some(name) => {
            let text = embedded::csv_text(&name)?;
            match a.out {
                Some(p) => write_file(&p, text.as_bytes())?,
                None => print!("{text}"),
            }
        }
        None => {
            println!(
                "{:<10} {:>5} {:>9}  {:<9} description",
                "name", "rows", "features", "task"
            );
            for (name, task, desc) in embedded::LIST {
                let (rows, cols) = if embedded::is_images(name) {
                    let (train, test) = embedded::mnist10k::<f32>()?;
                    (train.rows() + test.rows(), train.cols())
                } else {
                    let d = embedded::by_name::<f32>(name)?;
                    (d.rows(), d.cols())
                };
                println!(
                    "{name:<10} {:>5} {:>9}  {:<9} {desc}",
                    rows,
                    cols,
                    format!("{task:?}").to_lowercase()
                );
            }
            println!("\nexport one with: steepest datasets --export NAME [--out FILE]");
        }
    }
    Ok(())
}
