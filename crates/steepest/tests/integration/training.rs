//! The training loop: exact resume from checkpoints, the divergence guard, early stopping, and
//! model files that reject damage.

use steepest::data::{embedded, split, BatchSize, Dataset};
use steepest::models::*;
use steepest::optim::rules::{Adam, Sgd};
use steepest::optim::{OptimizerSpec, ScheduleSpec};
use steepest::train::{metrics, Checkpoint, EarlyStopping, SchedulePer};

fn digits() -> (Dataset<f32>, Dataset<f32>) {
    let d = embedded::digits::<f32>().unwrap();
    let s = split(&d.targets, 0.0, 0.2, 3).unwrap();
    (d.subset(&s.train).unwrap(), d.subset(&s.test).unwrap())
}

fn mlp_params(epochs: usize) -> MlpParams {
    let mut p = MlpParams::default().hidden(&[32]);
    p.dropout = 0.2;
    p.fit.train.epochs = epochs;
    p.fit.train.batch_size = BatchSize::Rows(64);
    p.fit.optimizer = OptimizerSpec::Adam(Adam {
        lr: 2e-3,
        ..Adam::default()
    });
    p.fit.schedule = Some(ScheduleSpec::Cosine {
        t_max: 200,
        eta_min: 0.0,
    });
    p.fit.train.schedule_per = SchedulePer::Step;
    p.fit.validation_fraction = 0.1;
    p
}

#[test]
fn a_run_resumed_from_a_checkpoint_ends_bit_identical() {
    let (train, _) = digits();
    let straight = mlp_params(4).check().unwrap().fit(&train).unwrap();

    // The same run, checkpointing every 7 steps (mid-epoch), stopped after 2 epochs...
    let dir = tempfile::tempdir().unwrap();
    let mut p = mlp_params(2);
    p.fit.train.checkpoint_dir = Some(dir.path().to_path_buf());
    p.fit.train.checkpoint_every_steps = Some(7);
    p.check().unwrap().fit(&train).unwrap();
    // ...whose last checkpoint is mid-epoch; resumed for the full 4 epochs.
    let ck: Checkpoint<f32> = Checkpoint::load(dir.path()).unwrap();
    assert!(
        ck.state.batch > 0 && ck.state.epoch == 1,
        "checkpoint at epoch {} batch {}",
        ck.state.epoch,
        ck.state.batch
    );
    let resumed = mlp_params(4)
        .check()
        .unwrap()
        .fit_with(&train, Some(ck), &mut [])
        .unwrap();
    assert_eq!(resumed.net.params, straight.net.params);
    let strip = |h: &steepest::train::History| h.iter().map(|r| (r.train_loss, r.val_loss, r.lr)).collect::<Vec<_>>();
    assert_eq!(strip(&resumed.history), strip(&straight.history));
}

#[test]
fn divergence_is_rolled_back_with_a_smaller_learning_rate() {
    let data = embedded::diabetes::<f32>().unwrap();
    let mut p = LinearParams::linear_regression();
    // Squared loss at lr 10 grows geometrically and overflows f32 within the first epoch.
    p.fit.optimizer = OptimizerSpec::Sgd(Sgd {
        lr: 10.0,
        ..Sgd::default()
    });
    p.fit.train.epochs = 20;
    p.fit.train.max_divergence_retries = 40;
    struct Msgs(Vec<String>);
    impl steepest::train::Observer for Msgs {
        fn on_message(&mut self, m: &str) {
            self.0.push(m.to_string());
        }
    }
    let mut msgs = Msgs(vec![]);
    let m = p
        .clone()
        .check()
        .unwrap()
        .fit_with(&data, None, &mut [&mut msgs])
        .unwrap();
    assert!(
        !msgs.0.is_empty() && msgs.0[0].contains("diverged") && msgs.0[0].contains("halved"),
        "{:?}",
        msgs.0
    );
    assert!(m.weights.all_finite());
    assert!(m.score(&data).unwrap() > 0.4, "{}", m.score(&data).unwrap());
    // With too few recoveries it gives up with a clear error.
    p.fit.train.max_divergence_retries = 2;
    let e = p.check().unwrap().fit(&data).unwrap_err().to_string();
    assert!(e.contains("gave up after 2 recoveries"), "{e}");
}

#[test]
fn early_stopping_restores_the_best_epoch() {
    let (train, _) = digits();
    let mut p = mlp_params(60);
    p.fit.schedule = None;
    p.fit.optimizer = OptimizerSpec::Sgd(Sgd {
        lr: 0.3,
        momentum: 0.9,
        ..Sgd::default()
    });
    p.fit.train.early_stopping = Some(EarlyStopping {
        patience: 3,
        min_delta: 0.0,
        restore_best: true,
    });
    let m = p.check().unwrap().fit(&train).unwrap();
    let h = &m.history;
    assert!(h.len() < 60, "stopped early after {} epochs", h.len());
    let best = h.iter().filter_map(|r| r.val_loss).fold(f64::INFINITY, f64::min);
    let last4: Vec<f64> = h.iter().rev().take(4).filter_map(|r| r.val_loss).collect();
    assert!(last4.iter().all(|&v| v >= best), "no improvement in the last epochs");
}

#[test]
fn model_files_round_trip_and_reject_damage() {
    let (train, test) = digits();
    let m = FittedModel::Linear(LinearParams::softmax_regression().check().unwrap().fit(&train).unwrap());
    let dir = tempfile::tempdir().unwrap();
    save_model(&m, dir.path()).unwrap();
    let back: FittedModel<f32> = load_model(dir.path()).unwrap();
    assert_eq!(back.weights(), m.weights());
    assert_eq!(
        back.predict(&test.features).unwrap(),
        m.predict(&test.features).unwrap()
    );
    assert_eq!(back.class_names(), m.class_names());

    let w = dir.path().join("model.safetensors");
    let good = std::fs::read(&w).unwrap();
    std::fs::write(&w, &good[..good.len() - 10]).unwrap();
    let e = load_model::<f32>(dir.path()).unwrap_err().to_string();
    assert!(e.contains("model.safetensors") && e.contains("truncated"), "{e}");
    let mut flipped = good.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x40;
    std::fs::write(&w, &flipped).unwrap();
    let e = load_model::<f32>(dir.path()).unwrap_err().to_string();
    assert!(e.contains("checksum"), "{e}");
    std::fs::write(&w, &good).unwrap();
    let j = dir.path().join("model.json");
    let text = std::fs::read_to_string(&j).unwrap();
    std::fs::write(&j, text.replace("\"format_version\": 2", "\"format_version\": 99")).unwrap();
    assert!(load_model::<f32>(dir.path())
        .unwrap_err()
        .to_string()
        .contains("version 99"));
    std::fs::write(&j, &text[..text.len() / 2]).unwrap();
    assert!(load_model::<f32>(dir.path())
        .unwrap_err()
        .to_string()
        .contains("not a valid model description"));

    // An MLP regressor round-trips too, in original target units.
    let d = embedded::diabetes::<f64>().unwrap();
    let mut p = MlpParams::default().hidden(&[16, 8]);
    p.fit.train.epochs = 20;
    let mlp = FittedModel::Mlp(p.check().unwrap().fit(&d).unwrap());
    let dir2 = tempfile::tempdir().unwrap();
    save_model(&mlp, dir2.path()).unwrap();
    let back: FittedModel<f64> = load_model(dir2.path()).unwrap();
    assert_eq!(back.predict(&d.features).unwrap(), mlp.predict(&d.features).unwrap());
    assert!(mlp.score(&d).unwrap() > 0.4);
}

#[test]
fn metrics_match_hand_computed_values() {
    let y = [0, 0, 1, 1, 2, 2];
    let p = [0, 1, 1, 1, 2, 0];
    assert_eq!(metrics::accuracy(&y, &p).unwrap(), 4.0 / 6.0);
    assert_eq!(
        metrics::confusion_matrix(&y, &p, 3).unwrap(),
        vec![vec![1, 1, 0], vec![0, 2, 0], vec![1, 0, 1]]
    );
    // Recalls 1/2, 1, 1/2; precisions 1/2, 2/3, 1.
    assert!((metrics::balanced_accuracy(&y, &p, 3).unwrap() - 2.0 / 3.0).abs() < 1e-15);
    let m = metrics::prf_macro(&y, &p, 3).unwrap();
    assert!((m.precision - (0.5 + 2.0 / 3.0 + 1.0) / 3.0).abs() < 1e-15);
    let f1 = [0.5, 0.8, 2.0 / 3.0];
    assert!((m.f1 - f1.iter().sum::<f64>() / 3.0).abs() < 1e-15);
    let ll = metrics::log_loss(&[0, 1], &[0.8, 0.2, 0.4, 0.6], 2).unwrap();
    assert!((ll - (-(0.8f64.ln() + 0.6f64.ln()) / 2.0)).abs() < 1e-15);
    // AUC: positives score 0.8, 0.4; negatives 0.5, 0.1: 3 of 4 pairs ordered.
    assert_eq!(metrics::roc_auc(&[1, 1, 0, 0], &[0.8, 0.4, 0.5, 0.1]).unwrap(), 0.75);
    assert_eq!(metrics::roc_auc(&[1, 0], &[0.5, 0.5]).unwrap(), 0.5);
    let (t, q) = ([1.0, 2.0, 3.0], [1.5, 2.0, 2.0]);
    assert_eq!(metrics::mse(&t, &q).unwrap(), 1.25 / 3.0);
    assert_eq!(metrics::mae(&t, &q).unwrap(), 0.5);
    assert!((metrics::r2(&t, &q).unwrap() - (1.0 - 1.25 / 2.0)).abs() < 1e-15);
}

#[test]
fn a_step_budget_stops_mid_epoch_where_the_same_steps_of_an_epoch_run_would_be() {
    let (train, _) = digits();
    // 1293 training rows (10 % validation) in batches of 64: 21 steps per epoch.
    let steps_per_epoch = 21;
    let by_epochs = mlp_params(3).check().unwrap().fit(&train).unwrap();
    let mut p = mlp_params(1000);
    p.fit.train.max_steps = Some(3 * steps_per_epoch);
    let by_steps = p.check().unwrap().fit(&train).unwrap();
    assert_eq!(by_steps.history.len(), 3);
    assert_eq!(
        by_epochs.net.params, by_steps.net.params,
        "3 epochs of steps = 3 epochs"
    );
    // A budget that ends mid-epoch: the last record covers the 5 steps taken.
    let mut p = mlp_params(1000);
    p.fit.train.max_steps = Some(2 * steps_per_epoch + 5);
    let partial = p.check().unwrap().fit(&train).unwrap();
    assert_eq!(partial.history.len(), 3);
    assert_ne!(partial.net.params, by_epochs.net.params);
    // Whichever limit comes first.
    let mut p = mlp_params(2);
    p.fit.train.max_steps = Some(1000);
    assert_eq!(p.check().unwrap().fit(&train).unwrap().history.len(), 2);
}

#[test]
fn a_loss_that_explodes_while_finite_is_divergence() {
    // Full-batch GD on diabetes at lr 1e6 in f64: the loss grows by many orders of magnitude
    // per step without ever overflowing.
    let data = embedded::diabetes::<f64>().unwrap();
    let mut p = LinearParams::linear_regression();
    p.fit.optimizer = OptimizerSpec::Sgd(Sgd::plain(1e6));
    p.fit.train.batch_size = BatchSize::Full;
    p.fit.train.epochs = 5;
    let e = p.clone().check().unwrap().fit(&data).unwrap_err();
    assert!(matches!(e, steepest::Error::Diverged(_)), "{e}");
    assert!(e.to_string().contains("times the first epoch's mean loss"), "{e}");
    // Off, the same run ends "successfully" with a useless model: what the guard prevents.
    p.fit.train.divergence_factor = None;
    let m = p.clone().check().unwrap().fit(&data).unwrap();
    assert!(m.score(&data).unwrap() < -1e10);
    // With recoveries enough, the halved rate trains to a sensible model.
    p.fit.train.divergence_factor = Some(1e4);
    p.fit.train.max_divergence_retries = 30;
    p.fit.train.epochs = 200;
    let m = p.check().unwrap().fit(&data).unwrap();
    assert!(m.score(&data).unwrap() > 0.4, "{}", m.score(&data).unwrap());
}

#[test]
fn meaningless_settings_are_refused() {
    let (train, _) = digits();
    let mut p = mlp_params(1);
    p.fit.train.clip_grad_norm = Some(-1.0);
    assert!(p
        .clone()
        .check()
        .unwrap()
        .fit(&train)
        .unwrap_err()
        .to_string()
        .contains("not a positive finite norm"));
    p.fit.train.clip_grad_norm = Some(0.0);
    assert!(p.clone().check().unwrap().fit(&train).is_err());
    p.fit.train.clip_grad_norm = None;
    p.fit.optimizer = OptimizerSpec::Sgd(Sgd::plain(0.0));
    assert!(p.check().unwrap_err().to_string().contains("lr = 0"));
}

/// a minimizes (a - 1)^2 / 2 + (a - b)^2 / 2, b minimizes b^2 / 2 + (b - a)^2 / 2 (times `scale`).
struct Pair(Vec<steepest::nn::ParamStore<f64>>, f64);

impl steepest::train::Game<f64> for Pair {
    fn players(&self) -> usize {
        2
    }
    fn name(&self, p: usize) -> String {
        ["a", "b"][p].into()
    }
    fn params(&self, p: usize) -> &steepest::nn::ParamStore<f64> {
        &self.0[p]
    }
    fn params_mut(&mut self, p: usize) -> &mut steepest::nn::ParamStore<f64> {
        &mut self.0[p]
    }
    fn loss_grad(
        &self,
        p: usize,
        _: &Dataset<f64>,
        _: &[usize],
        _: &mut steepest::tensor::Rng,
    ) -> steepest::Result<(f64, steepest::nn::ParamStore<f64>)> {
        let (a, b) = (self.0[0].require("v")?.item()?, self.0[1].require("v")?.item()?);
        let (loss, g) = match p {
            0 => (0.5 * (a - 1.0).powi(2) + 0.5 * (a - b).powi(2), 2.0 * a - b - 1.0),
            _ => (0.5 * b * b + 0.5 * (b - a).powi(2), 2.0 * b - a),
        };
        let mut gs = steepest::nn::ParamStore::new();
        gs.insert("v", steepest::Tensor::scalar(g * self.1));
        Ok((loss * self.1, gs))
    }
}

#[test]
fn players_take_alternating_steps_each_with_its_own_optimizer() {
    use steepest::optim::{Optimizer, RuleOptimizer};
    use steepest::train::{fit_game, Player, TrainConfig};
    let one = |v: f64| {
        let mut s = steepest::nn::ParamStore::new();
        s.insert("v", steepest::Tensor::scalar(v));
        s
    };
    let data = Dataset::<f64>::new(
        steepest::data::Features::Dense(steepest::Tensor::zeros(&[1, 1])),
        steepest::data::Targets::Values(vec![0.0]),
        vec![],
    )
    .unwrap();
    let sgd = |lr: f64| -> Box<dyn Optimizer<f64>> { Box::new(RuleOptimizer::new(Sgd::plain(lr)).unwrap()) };
    // One turn, hand-computed: a takes 2 steps at lr 0.2 (0 -> 0.2 -> 0.32), then b, seeing
    // a's new value, one step at lr 0.5: b = 0 - 0.5 (2 * 0 - 0.32) = 0.16.
    let mut game = Pair(vec![one(0.0), one(0.0)], 1.0);
    let mut players = [
        Player {
            optimizer: sgd(0.2),
            schedule: None,
            steps_per_batch: 2,
        },
        Player {
            optimizer: sgd(0.5),
            schedule: None,
            steps_per_batch: 1,
        },
    ];
    let cfg = TrainConfig {
        epochs: 5,
        max_steps: Some(1),
        ..TrainConfig::default()
    };
    let h = fit_game(&mut game, &data, &mut players, &cfg).unwrap();
    assert_eq!(h.len(), 1);
    let (a, b) = (
        game.0[0].require("v").unwrap().item().unwrap(),
        game.0[1].require("v").unwrap().item().unwrap(),
    );
    assert!((a - 0.32).abs() < 1e-15 && (b - 0.16).abs() < 1e-15, "{a} {b}");
    // A player whose steps blow up is named.
    let mut game = Pair(vec![one(0.0), one(0.0)], 1e300);
    let e = fit_game(&mut game, &data, &mut players, &TrainConfig::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("player 'a'") || e.contains("player 'b'"), "{e}");
}

#[test]
fn model_files_with_inconsistent_fields_are_refused() {
    let (train, _) = digits();
    let m = FittedModel::Linear(LinearParams::softmax_regression().check().unwrap().fit(&train).unwrap());
    let dir = tempfile::tempdir().unwrap();
    save_model(&m, dir.path()).unwrap();
    let j = dir.path().join("model.json");
    let good: serde_json::Value = serde_json::from_slice(&std::fs::read(&j).unwrap()).unwrap();
    let with = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = good.clone();
        edit(&mut v);
        std::fs::write(&j, serde_json::to_vec(&v).unwrap()).unwrap();
        load_model::<f32>(dir.path()).map(|_| ()).unwrap_err().to_string()
    };
    // Fewer class names than outputs: predict would index past them.
    let e = with(&|v| {
        v["class_names"].as_array_mut().unwrap().truncate(3);
    });
    assert!(e.contains("10 outputs for 3 class names"), "{e}");
    // A weights file outside the model folder, or not a regular file.
    let e = with(&|v| v["weights"]["file"] = "../../etc/passwd".into());
    assert!(e.contains("must be a file name inside the model folder"), "{e}");
    std::fs::create_dir(dir.path().join("adir")).unwrap();
    let e = with(&|v| v["weights"]["file"] = "adir".into());
    assert!(e.contains("not a regular file"), "{e}");
    // A zero scale would divide by zero.
    let e = with(&|v| v["scaler"]["scale"][0] = 0.0.into());
    assert!(e.contains("scaler column 0"), "{e}");
    std::fs::write(&j, serde_json::to_vec(&good).unwrap()).unwrap();
    assert!(load_model::<f32>(dir.path()).is_ok());
}
