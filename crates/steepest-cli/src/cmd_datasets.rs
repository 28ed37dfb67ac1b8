//! `steepest datasets`.

use crate::args::DatasetsArgs;
use crate::error::CliResult;
use crate::output::write_file;
use steepest::data::embedded;

/// Runs `steepest datasets`.
pub fn run(a: DatasetsArgs) -> CliResult<()> {
    match a.export {
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
                let d = embedded::by_name::<f32>(name)?;
                println!(
                    "{name:<10} {:>5} {:>9}  {:<9} {desc}",
                    d.rows(),
                    d.cols(),
                    format!("{task:?}").to_lowercase()
                );
            }
            println!("\nexport one with: steepest datasets --export NAME [--out FILE]");
        }
    }
    Ok(())
}
