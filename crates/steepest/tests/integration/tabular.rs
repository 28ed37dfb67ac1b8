//! Tables and their encoding (hand-computed one-hot rows and fills), and Newton's method on
//! linear and logistic regression against closed forms and a plain gradient loop.

use steepest::data::*;
use steepest::models::{LinearParams, Predictor};
use steepest::optim::{Newton, OptimizerSpec};

fn table(text: &str, opts: &CsvOptions) -> Table {
    read_table_from(text.as_bytes(), "t.csv", opts).unwrap()
}

fn rows(d: &Dataset<f64>) -> Vec<Vec<f64>> {
    let x = d.features.dense("test").unwrap();
    (0..x.rows_count()).map(|r| x.row(r).to_vec()).collect()
}

#[test]
fn categories_are_sorted_pooled_and_dropped() {
    // Integer codes named categorical sort as numbers (2 before 10); text sorts as text.
    let csv = "code,shade,y\n10,b,1\n2,a,0\n10,c,1\n2,a,0\n10,a,1\n";
    let opts = CsvOptions {
        encode: EncodeOptions {
            categorical: vec!["code".into()],
            ..Default::default()
        },
        ..Default::default()
    };
    let t = table(csv, &opts);
    assert!(matches!(t.columns[0], Column::Text(_)));
    let enc = TableEncoder::fit(&t, &opts.encode).unwrap();
    assert_eq!(
        enc.output_names(),
        ["code=2", "code=10", "shade=a", "shade=b", "shade=c"]
    );
    let (d, _) = enc.transform::<f64>(&t).unwrap();
    assert_eq!(rows(&d)[0], [0.0, 1.0, 0.0, 1.0, 0.0]);
    assert_eq!(rows(&d)[1], [1.0, 0.0, 1.0, 0.0, 0.0]);
    // Drop the first level; pool levels seen fewer than 2 times (b and c) into one column.
    let e2 = EncodeOptions {
        categorical: vec!["code".into()],
        drop_first: true,
        min_frequency: 2,
        ..Default::default()
    };
    let enc = TableEncoder::fit(&t, &e2).unwrap();
    assert_eq!(enc.output_names(), ["code=10", "shade=infrequent"]);
    let (d, _) = enc.transform::<f64>(&t).unwrap();
    assert_eq!(rows(&d), [[1.0, 1.0], [0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [1.0, 0.0]]);
    // The encoder survives JSON (it is stored in model.json).
    let back: TableEncoder = serde_json::from_str(&serde_json::to_string(&enc).unwrap()).unwrap();
    assert_eq!(back, enc);
}

#[test]
fn fills_and_indicators_are_fitted_on_the_rows_given() {
    let csv = "a,b,c,y\n1,x,4,0\n,x,,1\n3,,4,0\n8,z,10,1\n";
    let t = table(csv, &CsvOptions::default());
    assert_eq!(t.missing_cells.len(), 3);
    let fill = |impute: Impute| {
        let o = EncodeOptions {
            impute: Some(impute),
            missing_indicator: true,
            ..Default::default()
        };
        let enc = TableEncoder::fit(&t, &o).unwrap();
        (enc.output_names(), rows(&enc.transform::<f64>(&t).unwrap().0))
    };
    let (names, r) = fill(Impute::Mean);
    assert_eq!(
        names,
        ["a", "missing(a)", "b=x", "b=z", "missing(b)", "c", "missing(c)"]
    );
    // a: mean of 1, 3, 8 = 4; b: most frequent x; c: mean of 4, 4, 10 = 6.
    assert_eq!(r[1], [4.0, 1.0, 1.0, 0.0, 0.0, 6.0, 1.0]);
    assert_eq!(r[2], [3.0, 0.0, 1.0, 0.0, 1.0, 4.0, 0.0]);
    assert_eq!(fill(Impute::Median).1[1][0], 3.0);
    assert_eq!(fill(Impute::MostFrequent).1[1][5], 4.0);
    assert_eq!(fill(Impute::Constant(-1.0)).1[1][0], -1.0);
    // A category of its own for missing text: no indicator needed.
    let o = EncodeOptions {
        impute: Some(Impute::Mean),
        impute_categorical: Some(CategoricalImpute::Missing),
        ..Default::default()
    };
    let enc = TableEncoder::fit(&t, &o).unwrap();
    assert_eq!(enc.output_names(), ["a", "b=missing", "b=x", "b=z", "c"]);
    // Fitted on a subset, the fill is that subset's (rows 0 and 3: a = 4.5).
    let part = t.subset(&[0, 3, 1]).unwrap();
    assert_eq!(part.lines, [2, 5, 3]);
    let enc = TableEncoder::fit(&part, &o).unwrap();
    assert_eq!(rows(&enc.transform::<f64>(&part).unwrap().0)[2][0], 4.5);
}

#[test]
fn encoding_errors_name_the_cell_or_column() {
    let t = table("a,b,y\n1,red,0\n2,,1\n", &CsvOptions::default());
    let e = TableEncoder::fit(&t, &EncodeOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("t.csv:3:3: missing value in column 'b'"), "{e}");
    let enc = TableEncoder::fit(
        &t,
        &EncodeOptions {
            impute: Some(Impute::Mean),
            ..Default::default()
        },
    )
    .unwrap();
    // Unseen categories are zeros and counted; text where a number belongs is an error.
    let new = table("b,a,y\nblue,1,0\nblue,2,1\nred,3,0\n", &CsvOptions::default());
    let (d, report) = enc.transform::<f64>(&new).unwrap();
    assert_eq!(rows(&d)[0], [1.0, 0.0]);
    assert_eq!(report.unseen, [("b".to_string(), "blue".to_string(), 2)]);
    let new = table("a,b,y\nx,red,0\n", &CsvOptions::default());
    let e = enc.transform::<f64>(&new).unwrap_err().to_string();
    assert!(e.contains("expected a number in column 'a', found 'x'"), "{e}");
    let new = table("b,y\nred,0\n", &CsvOptions::default());
    let e = enc.transform::<f64>(&new).unwrap_err().to_string();
    assert!(e.contains("no column 'a'"), "{e}");
}

#[test]
fn newton_reaches_the_closed_form_least_squares_fit() {
    // y = a + b x: b = cov(x, y) / var(x), a = mean(y) - b mean(x), in original units.
    let x = [1.0, 2.0, 4.0, 7.0, 11.0, 12.5];
    let y = [3.1, 4.9, 9.2, 14.8, 23.5, 25.0];
    let csv: String = std::iter::once("x,y\n".to_string())
        .chain(x.iter().zip(&y).map(|(a, b)| format!("{a},{b}\n")))
        .collect();
    let d: Dataset<f64> = read_csv_from(
        csv.as_bytes(),
        "t.csv",
        &CsvOptions {
            task: Some(Task::Regress),
            ..Default::default()
        },
    )
    .unwrap();
    let mut p = LinearParams::linear_regression();
    p.fit.optimizer = OptimizerSpec::Newton(Newton::default());
    let m = p.check().unwrap().fit(&d).unwrap();
    let (mx, my) = (x.iter().sum::<f64>() / 6.0, y.iter().sum::<f64>() / 6.0);
    let sxy: f64 = x.iter().zip(&y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let (b, a) = (sxy / sxx, my - sxy / sxx * mx);
    let (coef, intercept) = m.coefficients().unwrap();
    assert!((coef[0][0] - b).abs() < 1e-12 * b.abs(), "{} vs {b}", coef[0][0]);
    assert!(
        (intercept[0] - a).abs() < 1e-11 * a.abs().max(1.0),
        "{} vs {a}",
        intercept[0]
    );
    assert!(m.history.len() <= 3, "one step solves a quadratic: {}", m.history.len());
}

#[test]
fn newton_logistic_regression_zeroes_the_gradient() {
    let d = embedded::iris::<f64>().unwrap();
    // Versicolor against virginica (not separable), on two features.
    let keep: Vec<usize> = (0..d.rows())
        .filter(|&i| d.targets.classes().unwrap().0[i] > 0)
        .collect();
    let d = d.subset(&keep).unwrap();
    let two = vec![d.feature_names[0].clone(), d.feature_names[3].clone()];
    let mut d = d.select_columns(&two).unwrap().unwrap().0;
    let (labels, names) = d.targets.classes().unwrap();
    d.targets = Targets::Classes {
        labels: labels.iter().map(|l| l - 1).collect(),
        names: names[1..].to_vec(),
    };
    let mut p = LinearParams::logistic_regression();
    p.fit.optimizer = OptimizerSpec::Newton(Newton::default());
    let m = p.check().unwrap().fit(&d).unwrap();
    // The gradient of the mean log loss in original units, by a plain loop over the rows.
    let (coef, intercept) = m.coefficients().unwrap();
    let x = d.features.dense("t").unwrap();
    let y = m.align_classes(&d).unwrap();
    let mut g = [0.0; 3];
    for (i, &yi) in y.iter().enumerate() {
        let r = x.row(i);
        let z = intercept[0] + coef[0][0] * r[0] + coef[0][1] * r[1];
        let e = 1.0 / (1.0 + (-z).exp()) - yi as f64;
        g[0] += e * r[0];
        g[1] += e * r[1];
        g[2] += e;
    }
    assert!(g.iter().all(|v| v.abs() < 1e-9), "{g:?}");
}
