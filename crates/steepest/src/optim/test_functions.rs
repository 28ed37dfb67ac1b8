//! Classic optimization test surfaces with analytic gradients and known minimizers, for
//! studying optimizers (and local minima) where the answer is known.
//!
//! Formulas follow Surjanovic and Bingham, "Virtual Library of Simulation Experiments: Test
//! Functions and Datasets" (sfu.ca/~ssurjano), and Jamil and Yang (2013), "A literature survey of
//! benchmark functions for global optimization problems".

use crate::error::{Error, Result};
use crate::nn::ParamStore;
use crate::optim::schedule::Schedule;
use crate::optim::{LineSearchOptimizer, Optimizer};
use crate::tensor::Tensor;
use std::f64::consts::{E, PI};

/// A differentiable function of a point, with its known minimizers.
pub trait TestFunction: Send + Sync {
    /// Name, as the CLI spells it.
    fn name(&self) -> &'static str;
    /// Number of coordinates.
    fn dim(&self) -> usize;
    /// f(x).
    fn value(&self, x: &[f64]) -> f64;
    /// The gradient of f at x.
    fn gradient(&self, x: &[f64]) -> Vec<f64>;
    /// The global minimizers.
    fn minimizers(&self) -> Vec<Vec<f64>>;
    /// The global minimum value.
    fn minimum(&self) -> f64 {
        self.value(&self.minimizers()[0])
    }
    /// A box `(lo, hi)` per coordinate that frames the interesting region (for plots and
    /// random starts).
    fn domain(&self) -> Vec<(f64, f64)>;
    /// Euclidean distance from x to the nearest global minimizer.
    fn distance_to_minimum(&self, x: &[f64]) -> f64 {
        self.minimizers()
            .iter()
            .map(|m| m.iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt())
            .fold(f64::INFINITY, f64::min)
    }
}

/// Sphere, f(x) = sum x_i^2; minimum 0 at the origin.
pub struct Sphere(pub usize);
/// Ill-conditioned quadratic f(x) = 0.5 sum l_i x_i^2 (condition number max l / min l);
/// minimum 0 at the origin. [`Quadratic::default`] is 2-D with l = (1, 10).
pub struct Quadratic(pub Vec<f64>);
/// Rosenbrock, f = (1 - x)^2 + 100 (y - x^2)^2; minimum 0 at (1, 1), at the end of a curved
/// valley.
pub struct Rosenbrock;
/// Beale, f = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2; minimum 0 at (3, 0.5).
pub struct Beale;
/// Booth, f = (x + 2y - 7)^2 + (2x + y - 5)^2; minimum 0 at (1, 3).
pub struct Booth;
/// Himmelblau, f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2; four global minima of value 0.
pub struct Himmelblau;
/// Rastrigin, f = 10 n + sum (x_i^2 - 10 cos(2 pi x_i)); minimum 0 at the origin among a grid of
/// local minima.
pub struct Rastrigin(pub usize);
/// Ackley (2-D), f = -20 exp(-0.2 sqrt(0.5 (x^2 + y^2))) - exp(0.5 (cos 2 pi x + cos 2 pi y)) + e + 20;
/// minimum 0 at the origin.
pub struct Ackley;
/// Styblinski-Tang, f = 0.5 sum (x_i^4 - 16 x_i^2 + 5 x_i); minimum -39.16617 n at
/// x_i = -2.903534.
pub struct StyblinskiTang(pub usize);

impl Default for Quadratic {
    fn default() -> Self {
        Quadratic(vec![1.0, 10.0])
    }
}

impl TestFunction for Sphere {
    fn name(&self) -> &'static str {
        "sphere"
    }
    fn dim(&self) -> usize {
        self.0
    }
    fn value(&self, x: &[f64]) -> f64 {
        x.iter().map(|v| v * v).sum()
    }
    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        x.iter().map(|v| 2.0 * v).collect()
    }
    fn minimizers(&self) -> Vec<Vec<f64>> {
        vec![vec![0.0; self.0]]
    }
    fn domain(&self) -> Vec<(f64, f64)> {
        vec![(-5.0, 5.0); self.0]
    }
}

impl TestFunction for Quadratic {
    fn name(&self) -> &'static str {
        "quadratic"
    }
    fn dim(&self) -> usize {
        self.0.len()
    }
    fn value(&self, x: &[f64]) -> f64 {
        0.5 * x.iter().zip(&self.0).map(|(v, l)| l * v * v).sum::<f64>()
    }
    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        x.iter().zip(&self.0).map(|(v, l)| l * v).collect()
    }
    fn minimizers(&self) -> Vec<Vec<f64>> {
        vec![vec![0.0; self.0.len()]]
    }
    fn domain(&self) -> Vec<(f64, f64)> {
        vec![(-3.0, 3.0); self.0.len()]
    }
}

impl TestFunction for Rosenbrock {
    fn name(&self) -> &'static str {
        "rosenbrock"
    }
    fn dim(&self) -> usize {
        2
    }
    fn value(&self, x: &[f64]) -> f64 {
        (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2)
    }
    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        let r = x[1] - x[0] * x[0];
        vec![-2.0 * (1.0 - x[0]) - 400.0 * x[0] * r, 200.0 * r]
    }
    fn minimizers(&self) -> Vec<Vec<f64>> {
        vec![vec![1.0, 1.0]]
    }
    fn domain(&self) -> Vec<(f64, f64)> {
        vec![(-2.0, 2.0), (-1.0, 3.0)]
    }
}

impl TestFunction for Beale {
    fn name(&self) -> &'static str {
        "beale"
    }
    fn dim(&self) -> usize {
        2
    }
    fn value(&self, x: &[f64]) -> f64 {
        let (a, b) = (x[0], x[1]);
        (1.5 - a + a * b).powi(2) + (2.25 - a + a * b * b).powi(2) + (2.625 - a + a * b.powi(3)).powi(2)
    }
    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        let (a, b) = (x[0], x[1]);
        let t1 = 1.5 - a + a * b;
        let t2 = 2.25 - a + a * b * b;
        let t3 = 2.625 - a + a * b.powi(3);
        vec![
            2.0 * t1 * (b - 1.0) + 2.0 * t2 * (b * b - 1.0) + 2.0 * t3 * (b.powi(3) - 1.0),
            2.0 * t1 * a + 2.0 * t2 * 2.0 * a * b + 2.0 * t3 * 3.0 * a * b * b,
        ]
    }
    fn minimizers(&self) -> Vec<Vec<f64>> {
        vec![vec![3.0, 0.5]]
    }
    fn domain(&self) -> Vec<(f64, f64)> {
        vec![(-4.5, 4.5); 2]
    }
}

impl TestFunction for Booth {
    fn name(&self) -> &'static str {
        "booth"
    }
    fn dim(&self) -> usize {
        2
    }
    fn value(&self, x: &[f64]) -> f64 {
        (x[0] + 2.0 * x[1] - 7.0).powi(2) + (2.0 * x[0] + x[1] - 5.0).powi(2)
    }
    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        let (u, v) = (x[0] + 2.0 * x[1] - 7.0, 2.0 * x[0] + x[1] - 5.0);
        vec![2.0 * u + 4.0 * v, 4.0 * u + 2.0 * v]
    }
    fn minimizers(&self) -> Vec<Vec<f64>> {
        vec![vec![1.0, 3.0]]
    }
    fn domain(&self) -> Vec<(f64, f64)> {
        vec![(-10.0, 10.0); 2]
    }
}

impl TestFunction for Himmelblau {
    fn name(&self) -> &'static str {
        "himmelblau"
    }
    fn dim(&self) -> usize {
        2
    }
    fn value(&self, x: &[f64]) -> f64 {
        (x[0] * x[0] + x[1] - 11.0).powi(2) + (x[0] + x[1] * x[1] - 7.0).powi(2)
    }
    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        let (u, v) = (x[0] * x[0] + x[1] - 11.0, x[0] + x[1] * x[1] - 7.0);
        vec![4.0 * x[0] * u + 2.0 * v, 2.0 * u + 4.0 * x[1] * v]
    }
    fn minimizers(&self) -> Vec<Vec<f64>> {
        vec![
            vec![3.0, 2.0],
            vec![-2.805_118_086_952_745, 3.131_312_518_250_573],
            vec![-3.779_310_253_377_747, -3.283_185_991_286_17],
            vec![3.584_428_340_330_492, -1.848_126_526_964_404],
        ]
    }
    fn minimum(&self) -> f64 {
        0.0
    }
    fn domain(&self) -> Vec<(f64, f64)> {
        vec![(-5.0, 5.0); 2]
    }
}

impl TestFunction for Rastrigin {
    fn name(&self) -> &'static str {
        "rastrigin"
    }
    fn dim(&self) -> usize {
        self.0
    }
    fn value(&self, x: &[f64]) -> f64 {
        10.0 * x.len() as f64 + x.iter().map(|v| v * v - 10.0 * (2.0 * PI * v).cos()).sum::<f64>()
    }
    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        x.iter().map(|v| 2.0 * v + 20.0 * PI * (2.0 * PI * v).sin()).collect()
    }
    fn minimizers(&self) -> Vec<Vec<f64>> {
        vec![vec![0.0; self.0]]
    }
    fn domain(&self) -> Vec<(f64, f64)> {
        vec![(-5.12, 5.12); self.0]
    }
}

impl TestFunction for Ackley {
    fn name(&self) -> &'static str {
        "ackley"
    }
    fn dim(&self) -> usize {
        2
    }
    fn value(&self, x: &[f64]) -> f64 {
        let r = (0.5 * (x[0] * x[0] + x[1] * x[1])).sqrt();
        let c = 0.5 * ((2.0 * PI * x[0]).cos() + (2.0 * PI * x[1]).cos());
        -20.0 * (-0.2 * r).exp() - c.exp() + E + 20.0
    }
    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        let r = (0.5 * (x[0] * x[0] + x[1] * x[1])).sqrt();
        let c = 0.5 * ((2.0 * PI * x[0]).cos() + (2.0 * PI * x[1]).cos());
        let ec = c.exp();
        x.iter()
            .map(|&v| {
                // d/dv of the first term: 20 * 0.2 * exp(-0.2 r) * dr/dv, with dr/dv = 0.5 v / r.
                let first = if r > 0.0 {
                    4.0 * (-0.2 * r).exp() * 0.5 * v / r
                } else {
                    0.0
                };
                first + ec * PI * (2.0 * PI * v).sin()
            })
            .collect()
    }
    fn minimizers(&self) -> Vec<Vec<f64>> {
        vec![vec![0.0, 0.0]]
    }
    fn domain(&self) -> Vec<(f64, f64)> {
        vec![(-5.0, 5.0); 2]
    }
}

const ST_X: f64 = -2.903_534_027_771_178;

impl TestFunction for StyblinskiTang {
    fn name(&self) -> &'static str {
        "styblinski-tang"
    }
    fn dim(&self) -> usize {
        self.0
    }
    fn value(&self, x: &[f64]) -> f64 {
        0.5 * x.iter().map(|v| v.powi(4) - 16.0 * v * v + 5.0 * v).sum::<f64>()
    }
    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        x.iter().map(|v| 0.5 * (4.0 * v.powi(3) - 32.0 * v + 5.0)).collect()
    }
    fn minimizers(&self) -> Vec<Vec<f64>> {
        vec![vec![ST_X; self.0]]
    }
    fn domain(&self) -> Vec<(f64, f64)> {
        vec![(-5.0, 5.0); self.0]
    }
}

/// The names [`by_name`] knows.
pub const NAMES: [&str; 9] = [
    "sphere",
    "quadratic",
    "rosenbrock",
    "beale",
    "booth",
    "himmelblau",
    "rastrigin",
    "ackley",
    "styblinski-tang",
];

/// The 2-D test function called `name`.
pub fn by_name(name: &str) -> Result<Box<dyn TestFunction>> {
    Ok(match name {
        "sphere" => Box::new(Sphere(2)),
        "quadratic" => Box::new(Quadratic::default()),
        "rosenbrock" => Box::new(Rosenbrock),
        "beale" => Box::new(Beale),
        "booth" => Box::new(Booth),
        "himmelblau" => Box::new(Himmelblau),
        "rastrigin" => Box::new(Rastrigin(2)),
        "ackley" => Box::new(Ackley),
        "styblinski-tang" => Box::new(StyblinskiTang(2)),
        _ => {
            return Err(Error::invalid(
                "test function",
                format!("unknown '{name}' (known: {})", NAMES.join(", ")),
            ))
        }
    })
}

/// The path of an optimizer on a test function.
#[derive(Clone, Debug)]
pub struct Trajectory {
    /// Every iterate, the start included.
    pub points: Vec<Vec<f64>>,
    /// f at each iterate.
    pub values: Vec<f64>,
    /// The first step from which f - f* stayed within the tolerance to the end of the run
    /// (`None` if the last iterate is outside it).
    pub steps_to_tol: Option<usize>,
}

impl Trajectory {
    /// The last iterate.
    pub fn last(&self) -> &[f64] {
        self.points.last().map_or(&[], |p| p.as_slice())
    }
}

fn as_params(x: &[f64]) -> ParamStore<f64> {
    let mut p = ParamStore::new();
    p.insert("x", Tensor::from_vec(x.to_vec()));
    p
}

fn record(f: &dyn TestFunction, tr: &mut Trajectory, x: Vec<f64>, tol: f64) -> bool {
    let v = f.value(&x);
    tr.points.push(x);
    tr.values.push(v);
    let within = v - f.minimum() <= tol;
    match (within, tr.steps_to_tol) {
        (true, None) => tr.steps_to_tol = Some(tr.points.len() - 1),
        (false, Some(_)) => tr.steps_to_tol = None,
        _ => {}
    }
    !v.is_finite()
}

/// Runs `steps` steps of `opt` on `f` from `start`, recording every iterate (the evaluation
/// point, for schedule-free rules) and the first step at which f - f* <= `tol`. A schedule,
/// when given, sets the learning rate (and momentum, where it cycles one) before each step.
/// Stops early if the value stops being finite.
pub fn run_optimizer(
    f: &dyn TestFunction,
    opt: &mut dyn Optimizer<f64>,
    mut schedule: Option<&mut dyn Schedule>,
    start: &[f64],
    steps: usize,
    tol: f64,
) -> Trajectory {
    let mut tr = Trajectory {
        points: vec![],
        values: vec![],
        steps_to_tol: None,
    };
    let mut p = as_params(start);
    record(f, &mut tr, start.to_vec(), tol);
    for _ in 0..steps {
        if let Some(s) = schedule.as_deref_mut() {
            opt.set_lr(s.lr());
            if let Some(m) = s.momentum() {
                opt.set_momentum(m);
            }
            s.step(None);
        }
        let x = p.get("x").map(|t| t.data().to_vec()).unwrap_or_default();
        let g = as_params(&f.gradient(&x));
        if opt.step_with_loss(&mut p, &g, Some(f.value(&x))).is_err() {
            break;
        }
        let eval = opt.eval_params(&p);
        let xe = eval.get("x").map(|t| t.data().to_vec()).unwrap_or_default();
        if record(f, &mut tr, xe, tol) {
            break;
        }
    }
    tr
}

/// As [`run_optimizer`] for a line-search optimizer; each of its steps is one iteration
/// (set `max_iter` to 1 for L-BFGS to record every iterate).
pub fn run_line_search(
    f: &dyn TestFunction,
    opt: &mut dyn LineSearchOptimizer<f64>,
    start: &[f64],
    steps: usize,
    tol: f64,
) -> Trajectory {
    let mut tr = Trajectory {
        points: vec![],
        values: vec![],
        steps_to_tol: None,
    };
    let mut p = as_params(start);
    record(f, &mut tr, start.to_vec(), tol);
    let mut closure = |q: &ParamStore<f64>| -> Result<(f64, ParamStore<f64>)> {
        let x = q.require("x")?.data().to_vec();
        Ok((f.value(&x), as_params(&f.gradient(&x))))
    };
    for _ in 0..steps {
        let before = p.clone();
        if opt.step(&mut p, &mut closure).is_err() {
            break;
        }
        let x = p.get("x").map(|t| t.data().to_vec()).unwrap_or_default();
        if before == p {
            break;
        }
        if record(f, &mut tr, x, tol) {
            break;
        }
    }
    tr
}
