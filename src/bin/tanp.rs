//! The `tanp` command line: train, evaluate and query TaNP models.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use burn::tensor::Device;
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};
use serde_json::json;

use tanp::bundle::Bundle;
use tanp::config::{DecoderHead, DecoderKind, EmbeddingSpec, Fidelity, ModelConfig, Objective};
use tanp::data::spec::DataSpec as DataArgs;
use tanp::data::{Dataset, Episodes};
use tanp::error::{Result, TanpError};
use tanp::eval::{Metrics, ZMode, swap_supports};
use tanp::negatives::Negatives;
use tanp::provenance::{RunOutcome, RunSource};
use tanp::recommend::{RankOptions, Recommendation, Recommender, block_on};
use tanp::train::{TrainConfig, read_state, train};

/// Whether stdout was closed by its reader (`tanp recommend | head`): the rest of the output
/// is dropped, and the command still finishes its work (a results file, say).
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `println!` that tolerates a closed stdout instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write;
        use std::sync::atomic::Ordering;
        if !STDOUT_CLOSED.load(Ordering::Relaxed) {
            if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    STDOUT_CLOSED.store(true, Ordering::Relaxed);
                } else {
                    eprintln!("warning: cannot write to stdout: {e}");
                }
            }
        }
    }};
}

#[derive(Parser)]
#[command(
    name = "tanp",
    version,
    about = "Task-adaptive Neural Process for user cold-start recommendation",
    args_override_self = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model; writes checkpoints to --out and resumes an interrupted run there.
    Train(Box<TrainArgs>),
    /// Evaluate a trained run on its test tasks (both metric definitions).
    Eval(EvalArgs),
    /// Score the whole catalog for a made-up user given as item:rating pairs.
    Recommend(RecommendArgs),
    /// Write a trained run as a model bundle the browser loads (manifest, catalog, weights).
    Export(ExportArgs),
    /// Serve a directory over HTTP on 127.0.0.1 (the demo page), with the right MIME types.
    Serve(ServeArgs),
    /// Time `recommend` natively: the median of repeated calls over the whole catalog.
    Bench(BenchArgs),
    /// Evaluate a baseline on the same test tasks: popularity, or MeLU (first-order MAML).
    Baseline(Box<BaselineArgs>),
    /// The catalog protocol (not in the paper): every catalog item ranked for held-out users
    /// from N_S = 3, 5, 10, 20 of their ratings; a trained run or a baseline tuned on validation.
    Catalog(CatalogArgs),
    /// Write a synthetic catalog as CSV files (power-law popularity and activity, users with
    /// tastes): your own data's format, at any size.
    Synth(SynthArgs),
}

#[derive(Args)]
struct SynthArgs {
    #[arg(long, default_value_t = 1000)]
    users: usize,
    #[arg(long, default_value_t = 500)]
    items: usize,
    #[arg(long, default_value_t = 8)]
    genres: usize,
    /// The median user's number of ratings.
    #[arg(long, default_value_t = 30)]
    ratings_per_user: usize,
    /// Give every item image and link URLs (example.com).
    #[arg(long)]
    urls: bool,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// The folder to write interactions.csv and items.csv into.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
struct CatalogArgs {
    /// A training run directory (TaNP); or give --method and the data options.
    #[arg(long)]
    model: Option<PathBuf>,
    /// A catalog baseline, tuned on the validation users.
    #[arg(long, value_enum)]
    method: Option<tanp::catalog::baselines::Method>,
    #[command(flatten)]
    data: CatalogDataArgs,
    /// Seed of the support sets drawn for each user.
    #[arg(long, default_value_t = 2020)]
    catalog_seed: u64,
    /// Give TaNP each test user's demographics (default: none, as a visitor of the demo).
    #[arg(long)]
    with_demographics: bool,
    /// Write a results JSON here.
    #[arg(long)]
    results: Option<PathBuf>,
    #[arg(long)]
    quiet: bool,
}

/// The data options of `tanp catalog --method` (a run directory records its own).
#[derive(Args)]
struct CatalogDataArgs {
    #[arg(long)]
    dataset: Option<String>,
    #[arg(long, default_value = "../shared/data")]
    data_dir: PathBuf,
    #[arg(long, default_value_t = 2020)]
    split_seed: u64,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Debug)]
enum BaselineMethod {
    /// Items ranked by their number of positive training interactions (the same for everyone).
    Popularity,
    /// MeLU (Lee et al., KDD 2019) on TaNP's embeddings, trained by first-order MAML.
    Melu,
    /// Query items in a random order (by --seed): each metric's floor under the protocol.
    Random,
}

#[derive(Args)]
struct BaselineArgs {
    #[command(flatten)]
    data: DataArgs,
    #[arg(long, value_enum)]
    method: BaselineMethod,
    /// Embedding sizes, as for `train` (MeLU only).
    #[arg(long, value_enum, default_value = "paper")]
    sizes: Sizes,
    #[arg(long, default_value_t = 40)]
    epochs: usize,
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// MeLU's local (per-task) gradient steps on the support set and their step size.
    #[arg(long, default_value_t = 1)]
    local_steps: usize,
    #[arg(long, default_value_t = 5e-4)]
    local_lr: f64,
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    #[arg(long, default_value_t = 2020)]
    seed: u64,
    /// Negatives of the training tasks (implicit data): `resample` draws them again on every
    /// visit (items the user never liked, uniformly); `fixed` keeps the dataset's own.
    /// Validation and test tasks always keep their own.
    #[arg(long, value_enum, default_value = "resample")]
    negatives: Negatives,
    /// Write a results JSON (command, commit, seed, data identity, metrics, wall time) here.
    #[arg(long)]
    results: Option<PathBuf>,
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
struct BenchArgs {
    /// A bundle directory (or a run directory).
    #[arg(long, default_value = "www/model")]
    model: PathBuf,
    #[arg(long, default_value = "../shared/data")]
    data_dir: PathBuf,
    #[arg(long, default_value_t = 101, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    runs: u64,
    /// Ratings of the first N catalog items.
    #[arg(long, default_value_t = 5)]
    ratings: usize,
}

#[derive(Args)]
struct ExportArgs {
    /// The run directory written by `tanp train`.
    #[arg(long)]
    model: PathBuf,
    #[arg(long, default_value = "../shared/data")]
    data_dir: PathBuf,
    /// The bundle directory to write.
    #[arg(long)]
    out: PathBuf,
    /// Training tasks whose soft assignments the bundle carries (Figure 4).
    #[arg(long, default_value_t = 10)]
    sample_tasks: usize,
    #[arg(long, default_value_t = 4)]
    seed: u64,
    /// Skip evaluating the test users (faster; the bundle then carries no metrics).
    #[arg(long)]
    no_metrics: bool,
    /// How the weights are stored: q8 keeps the embedding tables in 8 bits with a scale per
    /// row and the rest in f16; q8-all every matrix (tables and layer weights) in 8 bits and
    /// the vectors in f16; f16 stores everything in half precision. The model still computes
    /// in f32; the metrics are those of the stored weights.
    #[arg(long, value_enum, default_value = "q8")]
    weights: tanp::export::WeightFormat,
}

#[derive(Args)]
struct ServeArgs {
    #[arg(long, default_value = "www")]
    dir: PathBuf,
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Let pages of any origin fetch these files (Access-Control-Allow-Origin: *): serve the
    /// widget, the package and a model for a site on another origin, as a CDN would.
    #[arg(long)]
    cors: bool,
    /// The Content-Security-Policy sent with every response ("none": no policy). Default: the
    /// strict policy the demo pages and the widget are written for.
    #[arg(long, default_value = tanp::serve::STRICT_CSP)]
    csp: String,
}

#[derive(Clone, Copy, ValueEnum, Serialize, Deserialize, PartialEq, Debug)]
#[serde(rename_all = "kebab-case")]
enum Sizes {
    /// The paper's sizes: embeddings of 32, hidden layers of 64.
    Paper,
    /// The official code's train.sh sizes (embeddings 32/16, hidden 32/16, task 16).
    Official,
}

#[derive(Args)]
struct TrainArgs {
    /// A named recipe (tanp::recipe::PRESETS): paper, official-code, experiments-lastfm,
    /// experiments-ml-1m, experiments-gowalla, lastfm-clusters, catalog, catalog-dot. It stands
    /// for its flags; flags after it override them.
    #[arg(long, value_name = "NAME")]
    preset: Option<String>,
    #[command(flatten)]
    data: DataArgs,
    /// Run directory for checkpoints and logs.
    #[arg(long)]
    out: PathBuf,
    #[arg(long, value_enum, default_value = "gating-film")]
    decoder: DecoderKind,
    /// Where the item meets the user: `mlp` (the paper: v_j is part of the decoder's input)
    /// or `dot` (not in the paper: the modulated layers see [u | z], and each item's
    /// embedding gives an output vector and bias; see `DecoderHead`).
    #[arg(long, value_enum, default_value = "mlp")]
    decoder_head: DecoderHead,
    /// `paper` follows the paper's equations; `official-code` reproduces the official code.
    #[arg(long, value_enum, default_value = "paper")]
    fidelity: Fidelity,
    #[arg(long, value_enum, default_value = "paper")]
    sizes: Sizes,
    /// Width H of every hidden layer (the paper selects it from {8, 16, 32, 64, 128} on
    /// validation): encoder and task network H, H; r and s H; decoder H, H, H/2.
    #[arg(long)]
    hidden: Option<usize>,
    /// The decoder's hidden sizes, comma-separated (after --hidden; default: the paper's).
    #[arg(long, value_delimiter = ',')]
    decoder_hidden: Option<Vec<usize>>,
    /// Width of the task embeddings t_i and o_i (Eq. 10-12) that generate the FiLM parameters.
    #[arg(long)]
    t_dim: Option<usize>,
    /// Width of the latent variable z (Eq. 9).
    #[arg(long)]
    z_dim: Option<usize>,
    /// Width of each item content field's embedding (Eq. 5; the paper: 32).
    #[arg(long)]
    item_dim: Option<usize>,
    #[arg(long)]
    epochs: Option<usize>,
    #[arg(long)]
    lr: Option<f64>,
    /// `constant` (the paper) or `cosine` (decay from --lr towards 0 over the epochs).
    #[arg(long, value_enum, default_value = "constant")]
    lr_schedule: tanp::recipe::LrSchedule,
    /// Decoupled weight decay (AdamW); 0 (the default) keeps the paper's Adam.
    #[arg(long, default_value_t = 0.0)]
    weight_decay: f64,
    /// How the global pool A starts: `random` (the paper) or `kmeans` (DEC: k-means over the
    /// training tasks' t_i after the first epoch).
    #[arg(long, value_enum, default_value = "random")]
    pool_init: tanp::recipe::PoolInit,
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    #[arg(long, default_value_t = 2020)]
    seed: u64,
    #[arg(long)]
    k: Option<usize>,
    #[arg(long)]
    lambda: Option<f64>,
    #[arg(long, default_value_t = 1.0)]
    alpha: f64,
    /// Probability of hiding each user field during training (MovieLens demographics).
    #[arg(long, default_value_t = 0.0)]
    user_dropout: f64,
    #[arg(long, value_enum, default_value = "mean")]
    z: ZMode,
    /// Negatives of the training tasks (implicit data): `resample` draws them again on every
    /// visit (items the user never liked, uniformly); `fixed` keeps the dataset's own.
    /// Default: `resample`, `fixed` with `--fidelity official-code`. Validation and test
    /// tasks always keep their own.
    #[arg(long, value_enum)]
    negatives: Option<Negatives>,
    /// What the decoder learns: `rating` (the paper: the query items' ratings) or `catalog`
    /// (not in the paper: a softmax over the whole catalog, the liked query items as targets;
    /// selected on the validation users' catalog NDCG@10).
    #[arg(long, value_enum, default_value = "rating")]
    objective: Objective,
    /// The catalog objective's smallest support set per training visit (the largest: --n-s).
    #[arg(long, default_value_t = 3)]
    support_min: usize,
    /// The catalog objective: the z that decodes training tasks: `sample` of q(z | tau)
    /// (Algorithm 1), `posterior-mean`, or `prior-mean` (q(z | S)'s mean, as at test time).
    #[arg(long, value_enum, default_value = "sample")]
    catalog_z: tanp::config::CatalogZ,
    /// The catalog objective's softmax in training: `full` (every item for every task), a
    /// number N (the batch's liked items and N items drawn from smoothed popularity,
    /// logQ-corrected), or `auto`: full up to 50,000 items, 8,192 sampled beyond.
    /// Validation and test rank the whole catalog either way.
    #[arg(long, default_value = "auto")]
    catalog_softmax: tanp::recipe::CatalogSoftmax,
    /// Write a results JSON (command, commit, seed, data identity, metrics, wall time) here.
    #[arg(long)]
    results: Option<PathBuf>,
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
struct EvalArgs {
    /// The run directory written by `tanp train`.
    #[arg(long)]
    model: PathBuf,
    #[arg(long, default_value = "../shared/data")]
    data_dir: PathBuf,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Write one JSON line per test user: query items, true labels, scores.
    #[arg(long)]
    dump_rankings: Option<PathBuf>,
    #[arg(long, value_enum)]
    z: Option<ZMode>,
    /// Hide all user features (a visitor who gives no demographics).
    #[arg(long)]
    without_demographics: bool,
    /// Evaluate the last epoch's weights instead of the best validation epoch's.
    #[arg(long)]
    last: bool,
    /// The support-set ablation: give each test user the support set of another test user
    /// (the next one). Unchanged metrics mean the model's scores ignore the support set.
    #[arg(long)]
    swap_support: bool,
}

#[derive(Args)]
struct RecommendArgs {
    #[arg(long)]
    model: PathBuf,
    #[arg(long, default_value = "../shared/data")]
    data_dir: PathBuf,
    /// The support set: item:rating pairs, comma separated (dataset item ids).
    #[arg(long)]
    ratings: String,
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Include the rated items in the ranking.
    #[arg(long)]
    include_rated: bool,
    /// The user's side information: one value index per user field, comma separated, 0 = not
    /// given (the indices of the bundle's `profile_fields` labels plus one). Default: all unknown.
    #[arg(long, value_delimiter = ',')]
    profile: Option<Vec<u32>>,
    /// Only items that at least this many training users rated (the bundle's catalog counts).
    #[arg(long, default_value_t = 0)]
    min_ratings: u32,
    #[arg(long)]
    json: bool,
}

fn load_data(args: &DataArgs) -> Result<(Dataset, Episodes)> {
    args.load()
}

fn model_config(args: &TrainArgs, data: &Dataset) -> ModelConfig {
    let mut c = tanp::recipe::sized_config(data, args.sizes == Sizes::Official);
    c.fidelity = args.fidelity;
    c.decoder = args.decoder;
    if let Some(h) = args.hidden {
        c.encoder_hidden = vec![h, h];
        c.r_dim = h;
        c.s_dim = h;
        c.task_hidden = vec![h, h];
        c.decoder_hidden = vec![h, h, (h / 2).max(1)];
    }
    if let Some(d) = &args.decoder_hidden {
        c.decoder_hidden = d.clone();
    }
    c.t_dim = args.t_dim.unwrap_or(c.t_dim);
    c.z_dim = args.z_dim.unwrap_or(c.z_dim);
    if let (Some(d), EmbeddingSpec::Content { dim, .. }) = (args.item_dim, &mut c.item) {
        *dim = d;
    }
    c.k = args.k.unwrap_or(c.k);
    c.lambda = args.lambda.unwrap_or(c.lambda);
    c.objective = args.objective;
    c.head = args.decoder_head;
    c.alpha = args.alpha;
    c
}

fn cmd_train(args: TrainArgs) -> Result<()> {
    let started = Instant::now();
    // The code that runs is the code at the start: later edits to the tree do not change it.
    let commit = tanp::provenance::git_commit();
    let (data, episodes) = load_data(&args.data)?;
    let config = model_config(&args, &data);
    let tc = train_config(&args);
    if !args.quiet {
        describe_data(&data, &episodes, args.data.item_clusters);
    }
    let command: Vec<String> = std::env::args().collect();
    std::fs::create_dir_all(&args.out).map_err(|e| TanpError::io(&args.out, e))?;
    let info = tanp::train::RunInfo {
        data: args.data.clone(),
        command: command.clone(),
    };
    tanp::provenance::write_file(
        &args.out.join("run.json"),
        &serde_json::to_string_pretty(&info).expect("json"),
    )?;
    let (model, state) = train(&data, &episodes, &config, &tc, &args.out, args.quiet)?;
    let train_seconds = started.elapsed().as_secs_f64();
    let (_, metrics) =
        tanp::eval::evaluate(&model, &config, &data, &episodes.test, tc.z_mode, false);
    let swapped = swap_supports(&episodes.test);
    let (_, swapped) = tanp::eval::evaluate(&model, &config, &data, &swapped, tc.z_mode, false);
    let eval_seconds = started.elapsed().as_secs_f64() - train_seconds;
    let outcome = RunOutcome {
        model: json!(config),
        train: json!(tc),
        best_epoch: state.best_epoch,
        curve: Some(json!(state.log)),
        metrics: &metrics,
        swapped_support: &swapped,
        seconds: (train_seconds, eval_seconds),
    };
    source(commit, args.seed, &args.data, &data, &episodes)
        .report(&outcome, args.results.as_deref())
}

/// The training settings `args` ask for (the defaults of `--sizes`).
fn train_config(args: &TrainArgs) -> TrainConfig {
    let base = TrainConfig::starting_point(args.sizes == Sizes::Official, args.fidelity);
    TrainConfig {
        epochs: args.epochs.unwrap_or(base.epochs),
        batch_size: args.batch_size,
        lr: args.lr.unwrap_or(base.lr),
        seed: args.seed,
        n_s: args.data.n_s,
        context_min: args.data.n_s,
        user_feature_dropout: args.user_dropout,
        drop_last: base.drop_last,
        z_mode: args.z,
        negatives: args.negatives.unwrap_or(base.negatives),
        support_min: args.support_min,
        catalog_z: args.catalog_z,
        lr_schedule: args.lr_schedule,
        weight_decay: args.weight_decay,
        pool_init: args.pool_init,
        catalog_softmax: args.catalog_softmax,
    }
}

/// The data and split a run trains on, for the terminal.
fn describe_data(data: &Dataset, episodes: &Episodes, item_clusters: Option<usize>) {
    eprintln!(
        "{}: {} users, {} items, {} interactions; tasks train {} / valid {} / test {}",
        data.name,
        data.users.len(),
        data.items.len(),
        data.interactions(),
        episodes.train.len(),
        episodes.valid.len(),
        episodes.test.len()
    );
    let read = data.identity.get("read").cloned();
    if let Some(Ok(report)) = read.map(serde_json::from_value::<tanp::data::generic::ReadReport>) {
        eprintln!("read: {}", report.describe());
    }
    if let Some(k) = item_clusters {
        let field = data.items.fields.last().expect("the cluster field");
        let known = (0..field.len()).filter(|&i| field.get(i) != [0]).count();
        eprintln!(
            "item clusters (not in the paper): {k} clusters of the training users' positives; \
             {known} of {} items in one, the rest unknown",
            data.items.len()
        );
    }
}

/// What a run of `tanp train` or `tanp baseline` ran: this command line, `commit` (taken at
/// the start), the seed and the data.
fn source<'a>(
    commit: Option<String>,
    seed: u64,
    data: &'a DataArgs,
    dataset: &'a Dataset,
    episodes: &'a Episodes,
) -> RunSource<'a> {
    RunSource {
        command: std::env::args().collect(),
        commit,
        seed,
        data,
        dataset,
        episodes,
    }
}

fn cmd_baseline(args: BaselineArgs) -> Result<()> {
    let started = Instant::now();
    let commit = tanp::provenance::git_commit();
    let (data, episodes) = load_data(&args.data)?;
    let swapped = swap_supports(&episodes.test);
    let (model, train, best_epoch, rankings, swapped_rankings, train_seconds) = match args.method {
        BaselineMethod::Popularity => {
            let rankings = tanp::baselines::popularity(&data, &episodes, &episodes.test);
            let swapped_rankings = tanp::baselines::popularity(&data, &episodes, &swapped);
            let model = json!({"method": "popularity", "score": "positive training interactions (rating >= 4 / label 1), ties by interactions"});
            (model, json!(null), None, rankings, swapped_rankings, 0.0)
        }
        BaselineMethod::Random => {
            let rankings = tanp::baselines::random(&episodes.test, args.seed);
            let swapped_rankings = tanp::baselines::random(&swapped, args.seed);
            let model = json!({"method": "random", "score": "uniform random, seeded by --seed"});
            (model, json!(null), None, rankings, swapped_rankings, 0.0)
        }
        BaselineMethod::Melu => {
            // TaNP's embeddings, and a decision network as wide as TaNP's decoder.
            let embeddings = tanp::recipe::sized_config(&data, args.sizes == Sizes::Official);
            let config = tanp::baselines::MeluConfig {
                hidden: embeddings.decoder_hidden.clone(),
                local_steps: args.local_steps,
                local_lr: args.local_lr,
                epochs: args.epochs,
                batch_size: args.batch_size,
                lr: args.lr,
                seed: args.seed,
                n_s: args.data.n_s,
                negatives: args.negatives,
            };
            let run =
                tanp::baselines::train_melu(&data, &episodes, &embeddings, &config, args.quiet)?;
            let train_seconds = started.elapsed().as_secs_f64();
            let rank = |tasks| {
                tanp::baselines::melu_rankings(&run.model, &config, &data, tasks, &run.device)
            };
            let (rankings, swapped_rankings) = (rank(&episodes.test), rank(&swapped));
            let model = json!({
                "method": "melu",
                "training": "first-order MAML: local SGD on the decision layers, global Adam",
                "user": embeddings.user,
                "item": embeddings.item,
                "hidden": config.hidden,
            });
            (
                model,
                json!(config),
                Some(run.best_epoch),
                rankings,
                swapped_rankings,
                train_seconds,
            )
        }
    };
    let metrics = Metrics::from_rankings(&rankings, data.feedback);
    let swapped = Metrics::from_rankings(&swapped_rankings, data.feedback);
    let eval_seconds = started.elapsed().as_secs_f64() - train_seconds;
    let outcome = RunOutcome {
        model,
        train,
        best_epoch,
        curve: None,
        metrics: &metrics,
        swapped_support: &swapped,
        seconds: (train_seconds, eval_seconds),
    };
    source(commit, args.seed, &args.data, &data, &episodes)
        .report(&outcome, args.results.as_deref())
}

fn cmd_eval(args: EvalArgs) -> Result<()> {
    let (info, config, model, data, episodes, z) =
        tanp::train::load_run(&args.model, &args.data_dir, args.last)?;
    let z = args.z.map_or(z, ZMode::from);
    let tasks = if args.swap_support {
        swap_supports(&episodes.test)
    } else {
        episodes.test.clone()
    };
    let (rankings, metrics) =
        tanp::eval::evaluate(&model, &config, &data, &tasks, z, args.without_demographics);
    if let Some(path) = &args.dump_rankings {
        let mut text = String::new();
        for r in &rankings {
            let items: Vec<&str> = r
                .items
                .iter()
                .map(|&i| data.catalog[i as usize].id.as_str())
                .collect();
            let user = &data.user_ids[r.user as usize];
            text.push_str(
                &json!({"user": user, "items": items, "labels": r.truth, "scores": r.scores})
                    .to_string(),
            );
            text.push('\n');
        }
        tanp::provenance::write_file(path, &text)?;
    }
    if args.json {
        let command: Vec<String> = std::env::args().collect();
        let out = json!({
            "command": command.join(" "),
            "commit": tanp::provenance::git_commit(),
            "model": {"run": args.model, "config": config, "command": info.command.join(" ")},
            "data": data.identity,
            "z": z,
            "without_demographics": args.without_demographics,
            "swap_support": args.swap_support,
            "metrics": metrics.to_json(),
        });
        out!("{}", serde_json::to_string_pretty(&out).expect("json"));
    } else {
        print!("{}", metrics.table());
    }
    Ok(())
}

/// A recommender from a bundle directory (holding manifest.json) or a training run directory.
fn load_recommender(model_dir: &Path, data_dir: &Path) -> Result<Recommender> {
    let device = Device::flex();
    if model_dir.join(tanp::bundle::MANIFEST).exists() {
        return Ok(Bundle::read(model_dir)?.into_recommender(&device)?.1);
    }
    let (_, config, model, data, episodes, _) = tanp::train::load_run(model_dir, data_dir, false)?;
    let catalog = tanp::catalog::catalog_with_counts(&data, &episodes);
    let recommender = Recommender::new(model, config, catalog, &data.items, &device)?;
    Ok(if read_state(model_dir)?.train.hides_user_fields() {
        recommender.refuse_profiles()
    } else {
        recommender
    })
}

fn parse_ratings(text: &str) -> Result<Vec<(String, f64)>> {
    let mut support = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (id, r) = pair
            .split_once(':')
            .ok_or_else(|| TanpError::Config(format!("expected ITEM:RATING, found {pair:?}")))?;
        let rating: f64 = r.trim().parse().map_err(|_| {
            TanpError::Config(format!("expected a number as rating of {id}, found {r:?}"))
        })?;
        support.push((id.trim().to_string(), rating));
    }
    Ok(support)
}

fn cmd_recommend(args: RecommendArgs) -> Result<()> {
    let recommender = load_recommender(&args.model, &args.data_dir)?;
    let support = parse_ratings(&args.ratings)?;
    let options = RankOptions {
        top: args.top,
        exclude_rated: !args.include_rated,
        min_ratings: args.min_ratings,
    };
    let rec: Recommendation =
        block_on(recommender.recommend(&support, args.profile.as_deref(), &options))?;
    if args.json {
        out!("{}", serde_json::to_string_pretty(&rec).expect("json"));
    } else {
        for (i, item) in rec.items.iter().enumerate() {
            out!(
                "{:>3}. {:.4} ± {:.4}  {} ({})",
                i + 1,
                item.score,
                item.std,
                item.title,
                item.id
            );
        }
        let c: Vec<String> = rec.clusters.iter().map(|c| format!("{c:.3}")).collect();
        out!("soft cluster assignment: [{}]", c.join(", "));
    }
    Ok(())
}

fn cmd_bench(args: BenchArgs) -> Result<()> {
    let started = Instant::now();
    let recommender = load_recommender(&args.model, &args.data_dir)?;
    let load = started.elapsed();
    let support: Vec<(String, f64)> = recommender
        .catalog
        .iter()
        .take(args.ratings)
        .enumerate()
        .map(|(i, c)| (c.id.clone(), 1.0 + ((i * 2) % 5) as f64))
        .collect();
    let mut times = Vec::new();
    for _ in 0..=args.runs {
        let t = Instant::now();
        block_on(recommender.recommend(&support, None, &RankOptions::default()))?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.remove(0); // warm-up
    times.sort_by(f64::total_cmp);
    out!(
        "native recommend over {} items, {} ratings: median {:.2} ms (min {:.2}, max {:.2}, {} runs); load {:.0} ms",
        recommender.catalog.len(),
        support.len(),
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        times.len(),
        load.as_secs_f64() * 1e3
    );
    Ok(())
}

/// The test metrics of the model as shipped: without demographics (as visitors give none), and
/// with them unless the model never saw them (`blind`).
fn cmd_export(args: ExportArgs) -> Result<()> {
    let options = tanp::export::ExportOptions {
        weights: args.weights,
        metrics: !args.no_metrics,
        sample_tasks: args.sample_tasks,
        seed: args.seed,
    };
    let bundle = tanp::export::export_run(&args.model, &args.data_dir, &options)?;
    bundle.write(&args.out)?;
    for (name, bytes) in bundle.files()? {
        out!("{}/{name}: {} bytes", args.out.display(), bytes.len());
    }
    Ok(())
}

/// What a catalog evaluation produced, for the table and the results file.
fn cmd_catalog(args: CatalogArgs) -> Result<()> {
    let started = Instant::now();
    let command: Vec<String> = std::env::args().collect();
    let protocol = tanp::catalog::CatalogProtocol {
        seed: args.catalog_seed,
        ..Default::default()
    };
    let run = match (&args.model, args.method) {
        (Some(dir), None) => tanp::catalog::run::of_model(
            dir,
            &args.data.data_dir,
            &protocol,
            args.with_demographics,
        )?,
        (None, Some(method)) => tanp::catalog::run::of_baseline(
            method,
            &baseline_data(&args.data)?,
            &protocol,
            args.quiet,
        )?,
        _ => {
            return Err(TanpError::Config(
                "give either --model RUN_DIR (TaNP) or --method (a baseline)".into(),
            ));
        }
    };
    if let Some(clusters) = &run.clusters {
        out!("Figure 4, test users at N_S = 10: {}", clusters.describe());
    }
    out!(
        "{} on {} (catalog protocol, test users)",
        run.method,
        run.data.name
    );
    out!("{}", run.report.table().trim_end());
    if let Some(path) = &args.results {
        let json = run.to_json(&command, args.catalog_seed, started.elapsed().as_secs_f64());
        tanp::provenance::write_file(path, &serde_json::to_string_pretty(&json).expect("json"))?;
    }
    Ok(())
}

/// The data a baseline is fitted and judged on: the dataset's own split by `--split-seed`.
fn baseline_data(args: &CatalogDataArgs) -> Result<DataArgs> {
    let dataset = args.dataset.clone().ok_or_else(|| {
        TanpError::Config("--method needs --dataset (ml-1m, lastfm, gowalla)".into())
    })?;
    Ok(DataArgs {
        dataset,
        data_dir: args.data_dir.clone(),
        protocol: tanp::data::spec::Protocol::Auto,
        split_seed: args.split_seed,
        n_s: 20,
        min_len: None,
        max_len: None,
        support_order: Default::default(),
        query_size: None,
        item_clusters: None,
        item_id_field: false,
        drop_item_fields: Vec::new(),
        interactions: None,
        items: None,
        users: None,
        columns: None,
    })
}

fn main() -> ExitCode {
    let args = match tanp::recipe::expand_presets(std::env::args().collect()) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let cli = Cli::parse_from(args);
    let result = match cli.command {
        Command::Train(a) => cmd_train(*a),
        Command::Eval(a) => cmd_eval(a),
        Command::Recommend(a) => cmd_recommend(a),
        Command::Export(a) => cmd_export(a),
        Command::Baseline(a) => cmd_baseline(*a),
        Command::Serve(a) => tanp::serve::serve(
            &a.dir,
            a.port,
            tanp::serve::ServeOptions {
                cors: a.cors,
                csp: (a.csp != "none").then_some(a.csp),
                ..Default::default()
            },
        ),
        Command::Bench(a) => cmd_bench(a),
        Command::Catalog(a) => cmd_catalog(a),
        Command::Synth(a) => {
            let config = tanp::data::synthetic::SynthConfig {
                users: a.users,
                items: a.items,
                genres: a.genres,
                ratings_per_user: a.ratings_per_user,
                urls: a.urls,
                seed: a.seed,
                ..Default::default()
            };
            tanp::data::synthetic::write(&a.out, &config).map(|n| {
                eprintln!(
                    "{n} interactions of {} users with {} items in {}",
                    a.users,
                    a.items,
                    a.out.display()
                )
            })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn train_args(line: &[&str]) -> TrainArgs {
        let args = tanp::recipe::expand_presets(line.iter().map(|s| s.to_string()).collect());
        match Cli::parse_from(args.unwrap()).command {
            Command::Train(t) => *t,
            _ => panic!("not train"),
        }
    }

    #[test]
    fn a_preset_stands_for_its_flags_and_later_flags_override_it() {
        let base = ["tanp", "train", "--dataset", "ml-1m", "--out", "x"];
        let t = train_args(&[&base[..], &["--preset", "catalog-dot", "--epochs", "2"]].concat());
        assert_eq!(t.epochs, Some(2));
        assert_eq!(t.lr, Some(3e-3));
        assert_eq!(t.hidden, Some(256));
        assert!(t.objective == Objective::Catalog && t.decoder_head == DecoderHead::Dot);
        assert!(t.data.item_id_field);
        let t = train_args(&[&base[..], &["--preset", "catalog-mlp"]].concat());
        assert!(t.objective == Objective::Catalog && t.decoder_head == DecoderHead::Mlp);
        assert_eq!(t.hidden, None);
        // The shipped recipe, and its flags repeated after it (as results files record them).
        let t = train_args(&[&base[..], &["--preset", "catalog-ml-1m"]].concat());
        assert_eq!((t.hidden, t.z_dim), (Some(192), Some(128)));
        assert_eq!(t.data.drop_item_fields, ["actor"]);
        let again = train_args(
            &[
                &base[..],
                &[
                    "--preset",
                    "catalog-ml-1m",
                    "--hidden",
                    "192",
                    "--drop-item-field",
                    "actor",
                ],
            ]
            .concat(),
        );
        assert_eq!(train_config(&again), train_config(&t));
        // Flags before the preset are overridden by it; repeatable flags still accumulate.
        let t = train_args(
            &[
                &base[..],
                &[
                    "--lr",
                    "1",
                    "--preset=official-code",
                    "--drop-item-field",
                    "a",
                ],
                &["--drop-item-field", "b"],
            ]
            .concat(),
        );
        assert_eq!(t.lr, Some(1e-4));
        assert_eq!(t.epochs, Some(100));
        assert_eq!(t.data.drop_item_fields, ["a", "b"]);
        // Your own data trains the catalog recipe unless a preset is named.
        let own = [
            "tanp",
            "train",
            "--dataset",
            "csv",
            "--interactions",
            "i.csv",
            "--out",
            "x",
        ];
        let t = train_args(&own);
        assert!(t.objective == Objective::Catalog && t.decoder_head == DecoderHead::Dot);
        let t = train_args(&[&own[..], &["--preset", "paper"]].concat());
        assert!(t.objective == Objective::Rating);
        // The official code's preset and its sizes' starting point agree (one home: recipe.rs).
        let official = train_config(&train_args(
            &[&base[..], &["--preset", "official-code"]].concat(),
        ));
        let sizes = ["--fidelity", "official-code", "--sizes", "official"];
        assert_eq!(
            official,
            train_config(&train_args(&[&base[..], &sizes].concat()))
        );
        // The default recipe is the paper preset.
        let paper = train_config(&train_args(&[&base[..], &["--preset", "paper"]].concat()));
        assert_eq!(paper, train_config(&train_args(&base)));
    }
}
