//! Command-line interface (clap): modes, global options and subcommands.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "dim",
    version,
    about = "Data-in-Motion: intelligent data tiering across object stores, live in your terminal",
    long_about = "Data-in-Motion: ingests object-access events, predicts which objects will be hot, \
places each on the cheapest tier that meets its latency SLA and moves it there safely.\n\n\
With no subcommand, `dim` opens the dashboard on the embedded workload; `dim --daemon` runs the same engine headless."
)]
pub struct Cli {
    /// Run headless: log to stdout, stop cleanly on SIGINT/SIGTERM.
    #[arg(long)]
    pub daemon: bool,

    /// Configuration file layered over the embedded default (see config/default.toml).
    #[arg(short = 'c', long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Directory holding the store and the local tiers.
    #[arg(long, global = true, value_name = "DIR", default_value = "./dim-data")]
    pub data_dir: PathBuf,

    /// Stop after this many seconds (for scripts and tests).
    #[arg(long, global = true, value_name = "SECS")]
    pub duration: Option<u64>,

    /// Dashboard theme: a built-in name (default, light, high-contrast, gruvbox) or a theme file.
    #[arg(long, global = true, value_name = "NAME|FILE")]
    pub theme: Option<String>,

    /// Play a scenario: a shipped one by name (`dim scenario list`) or a scenario file. The
    /// dashboard plays `demo` when none is given; `--daemon` prints a report at the end and
    /// exits 1 if an expectation does not hold.
    #[arg(long, value_name = "NAME|FILE")]
    pub scenario: Option<String>,

    /// Dashboard: do not play the demo scenario.
    #[arg(long, conflicts_with = "scenario")]
    pub no_scenario: bool,

    /// Address of /metrics, /healthz and /readyz (overrides metrics.listen; "off" = none;
    /// port 0 picks a free port, logged at start).
    #[arg(long, global = true, value_name = "ADDR")]
    pub metrics_listen: Option<String>,

    /// Log format of the daemon.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// The built-in catalog of real storage classes a tier can name with `class = "…"`, with
    /// their prices and minimums, and the configured tiers as priced.
    Catalog {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Summarise the store in --data-dir (objects, bytes per tier, events, tasks).
    Status {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The objects in --data-dir's store: tier, size, p_hot, last access, age, planned tier and
    /// storage cost, sorted, the key last (for `dim explain KEY`). Read-only, safe beside a daemon.
    Ls {
        /// Only the objects on this tier.
        #[arg(long)]
        tier: Option<String>,
        /// What to sort by, largest (or oldest) first.
        #[arg(long, value_enum, default_value = "p-hot")]
        sort: crate::cmd::ls::SortBy,
        /// How many to show (0: all).
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Why an object is where it is: features, p_hot, cost per tier, constraints, tasks.
    Explain {
        key: String,
        #[arg(long)]
        json: bool,
    },
    /// The dashboard on a running engine (`dim --daemon` or another dashboard), through its
    /// control API: every pane and key works as locally; `q` leaves the engine running.
    Attach {
        #[command(flatten)]
        at: crate::cmd::ctl::EngineAddr,
    },
    /// Drive a running engine (`dim --daemon` or the dashboard) through its control API.
    /// Exit codes: 0 done, 1 refused, 2 no engine reachable.
    Ctl {
        #[command(flatten)]
        at: crate::cmd::ctl::EngineAddr,
        #[command(subcommand)]
        cmd: crate::cmd::ctl::CtlCmd,
    },
    /// Pin an object to its tier (the planner never moves it), or release it with --unpin.
    /// Safe while a daemon or the dashboard runs on the same --data-dir.
    Pin {
        key: String,
        #[arg(long)]
        unpin: bool,
    },
    /// Produce access events to Kafka from the workload generator (events name the objects found
    /// on the configured tiers, e.g. after `dim seed`).
    Simulate {
        /// Events to send.
        #[arg(long, default_value_t = 3000)]
        events: u64,
        /// Events per second; 0 = as fast as possible.
        #[arg(long, default_value_t = 5.0)]
        rate: f64,
        /// Zipf exponent of object popularity (higher = a few objects get most accesses).
        #[arg(long, default_value_t = 0.7)]
        skew: f64,
        /// Random seed: the same seed gives the same events.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Kafka brokers, comma-separated (default: events.brokers of the config).
        #[arg(long, value_delimiter = ',')]
        brokers: Option<Vec<String>>,
        /// Topic (default: events.topic of the config).
        #[arg(long)]
        topic: Option<String>,
    },
    /// Create demo objects (realistic sizes, random content) on a tier and register them.
    Seed {
        #[arg(long, default_value_t = 2000)]
        objects: usize,
        /// Total size cap, e.g. 200MB or 1GiB (default: events.embedded.seed_total_bytes).
        #[arg(long, value_parser = parse_size)]
        total_size: Option<u64>,
        /// Tier to create them on (default: the landing tier).
        #[arg(long)]
        tier: Option<String>,
    },
    /// Scenarios: list the shipped ones, check a file, list the figures expectations can use.
    Scenario {
        #[command(subcommand)]
        action: ScenarioAction,
    },
    /// Replay an access trace through dim's placement and the usual tiering rules, each charged
    /// by the same cost meter with the configured tier prices, against the offline optimum.
    /// No bytes move.
    Replay(ReplayArgs),
    /// Measure dim on this machine.
    Bench {
        #[command(subcommand)]
        target: BenchTarget,
    },
}

/// `dim replay` options.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The trace file.
    pub trace: PathBuf,
    /// clf (Common/Combined Log Format), s3-access-log (S3 server access logs), cloudfront
    /// (CloudFront standard logs), jsonl (dim's access events) or csv (ts,key,size,op; ts in
    /// seconds or ms since the epoch). Default: from the extension (.jsonl, .csv), else clf.
    /// A file ending in .gz is gunzipped.
    #[arg(long)]
    pub format: Option<crate::replay::trace::Format>,
    /// An S3 Inventory report (CSV, .csv.gz too; repeat for a report in several files): objects
    /// the trace never reads are stored, priced and placed from the trace's start (or their
    /// last-modified time), without a PUT on the bill.
    #[arg(long, value_name = "FILE")]
    pub inventory: Vec<PathBuf>,
    /// The inventory's columns, as its manifest.json's fileSchema says (e.g. "Bucket, Key,
    /// Size, LastModifiedDate, StorageClass"). Default: a header row, or the manifest.json beside
    /// the file.
    #[arg(long, value_name = "FIELDS")]
    pub inventory_schema: Option<String>,
    /// Multiply trace time by this, so day-based rules can act (720 turns 12 h into 360 days).
    /// Default: replay.time_scale of the config (1).
    #[arg(long, value_name = "X")]
    pub time_scale: Option<f64>,
    /// Policies, comma-separated, or "all": dim, heuristic-milp, s3-intelligent-tiering,
    /// fabricpool-auto, age-lifecycle, lru-hot-tier, all-hot, all-cold, oracle (always run).
    #[arg(long, default_value = "all", value_name = "LIST")]
    pub policies: String,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Also draw each policy's cumulative cost over trace time to this PNG.
    #[arg(long, value_name = "FILE.png")]
    pub chart: Option<PathBuf>,
    /// Price every policy as if the tiers had no capacity (for traces larger than the
    /// configured tiers); otherwise a rule that overflows a tier never counts as the best rule.
    #[arg(long)]
    pub ignore_capacity: bool,
    /// Dollars per read served slower than the SLA, for every policy and both oracles
    /// (default: sla.miss_cost of the config, 0.0001).
    #[arg(long, value_name = "DOLLARS", value_parser = parse_miss_cost)]
    pub sla_miss_cost: Option<f64>,
}

/// Where `dim bench ingest` takes its events from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IngestSource {
    /// Payloads generated in process.
    Memory,
    /// A fresh topic on the configured (or given) brokers.
    Kafka,
}

/// The kind of tier `dim bench migrate` moves between: `config::Backend` as the command line
/// spells it (Backend itself cannot derive clap's ValueEnum: the engine's tree carries no clap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TierKind {
    Local,
    S3,
}

impl From<TierKind> for crate::config::Backend {
    fn from(k: TierKind) -> Self {
        match k {
            TierKind::Local => crate::config::Backend::Local,
            TierKind::S3 => crate::config::Backend::S3,
        }
    }
}

/// A price per slow read: a number of dollars, 0 or more.
pub fn parse_miss_cost(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!(
            "{s:?} is not a price: give dollars per slow read, 0 or more (e.g. 0.0001)"
        )),
    }
}

#[derive(Debug, Subcommand)]
pub enum ScenarioAction {
    /// The shipped scenarios and what each shows.
    List,
    /// Validate a scenario (name or file) against the configuration, without running it.
    Check {
        #[arg(value_name = "NAME|FILE")]
        scenario: String,
    },
    /// The figures expectations can compare, and the step kinds.
    Figures,
}

#[derive(Debug, Subcommand)]
pub enum BenchTarget {
    /// Placement of N synthetic objects on the configured tiers: solve time, optimality gap, memory.
    Optimize {
        #[arg(long, default_value_t = 100_000)]
        objects: usize,
        /// Skip the LP relaxation (the bound the gap is measured against): at millions of
        /// objects it takes longer than planning; the Lagrangian solver's own bound remains.
        #[arg(long)]
        no_bound: bool,
        #[arg(long)]
        json: bool,
    },
    /// The hotness model: training time on N samples, scoring time for M objects, and ingest
    /// throughput while training runs back to back (against ingest alone).
    Model {
        #[arg(long, default_value_t = 200_000)]
        samples: usize,
        #[arg(long, default_value_t = 1_000_000)]
        objects: usize,
        /// Events per ingest run (two runs: idle and while training).
        #[arg(long, default_value_t = 500_000)]
        events: u64,
        #[arg(long)]
        json: bool,
    },
    /// One node with N objects in its store, stage by stage: registering them, ingest into a
    /// store that size, `dim status`, a planning cycle, start-up and restart to a first snapshot,
    /// snapshot builds and dashboard frames, disk per object, peak memory.
    Scale {
        #[arg(long, default_value_t = 1_000_000)]
        objects: usize,
        /// Events ingested into the populated store (the access histories).
        #[arg(long, default_value_t = 1_000_000)]
        events: u64,
        #[arg(long)]
        json: bool,
    },
    /// The dashboard with N objects in the store: snapshot build and frame render times (p50/p99).
    Tui {
        #[arg(long, default_value_t = 1_000_000)]
        objects: usize,
        /// Also serve the control API and attach a client to its snapshot stream (as `dim
        /// attach` does): frames are drawn from the snapshots it receives.
        #[arg(long)]
        attached: bool,
        #[arg(long)]
        json: bool,
    },
    /// Events per second from JSON payloads into the SQLite store, through the real ingest path.
    /// With --source kafka: produce to a fresh topic, then compare the engine's consumption into
    /// SQLite with a bare rskafka consumer reading the same topic.
    Ingest {
        /// Where events come from: memory (payloads generated in process) or kafka.
        #[arg(long, value_enum, default_value_t = IngestSource::Memory)]
        source: IngestSource,
        /// Kafka brokers for --source kafka, comma-separated (default: events.brokers of the config).
        #[arg(long, value_delimiter = ',')]
        brokers: Option<Vec<String>>,
        /// Events to ingest.
        #[arg(long, default_value_t = 1_000_000)]
        events: u64,
        /// Distinct objects the events touch.
        #[arg(long, default_value_t = 100_000)]
        objects: usize,
        /// With --source kafka: consume with this many engine nodes sharing one PostgreSQL store
        /// (store.url; each round in a new database there), e.g. 1,2,3.
        #[arg(long, value_delimiter = ',')]
        nodes: Option<Vec<usize>>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Replay speed: N generated events through every policy (`dim replay --policies all`).
    Replay {
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        /// Distinct objects the events touch.
        #[arg(long, default_value_t = 20_000)]
        objects: usize,
        /// Engine days the events are spread over.
        #[arg(long, default_value_t = 60.0)]
        days: f64,
        /// Price every policy as if the tiers had no capacity.
        #[arg(long)]
        ignore_capacity: bool,
        /// Dollars per read served slower than the SLA (default: sla.miss_cost).
        #[arg(long, value_name = "DOLLARS", value_parser = parse_miss_cost)]
        sla_miss_cost: Option<f64>,
        /// Share of new objects that follow the object-store shape: written, read within their
        /// first hours, then never again; large; some deleted (default:
        /// events.embedded.object_store_share).
        #[arg(long, value_name = "SHARE")]
        object_store_share: Option<f64>,
        #[arg(long)]
        json: bool,
    },
    /// Objects/s and MiB/s of the real migrator (copy, verify, switch, delete) between two tiers.
    Migrate {
        /// Objects to move.
        #[arg(long, default_value_t = 200)]
        objects: usize,
        /// Size of each object, bytes.
        #[arg(long, default_value_t = 1_048_576)]
        size: u64,
        /// S3 endpoint; two fresh buckets are created there (credentials from AWS_ACCESS_KEY_ID and
        /// AWS_SECRET_ACCESS_KEY). Without it, two local directories are used.
        #[arg(long)]
        endpoint: Option<String>,
        #[arg(long, default_value = "us-east-1")]
        region: String,
        /// Source tier kind: local or s3 (default: s3 with --endpoint, else local).
        #[arg(long, value_enum)]
        src: Option<TierKind>,
        /// Destination tier kind: local or s3 (default: s3 with --endpoint, else local).
        #[arg(long, value_enum)]
        dst: Option<TierKind>,
        /// Also copy the same objects between two buckets with rclone (--transfers = workers) and compare.
        #[arg(long, requires = "endpoint")]
        compare_rclone: bool,
        #[arg(long)]
        json: bool,
    },
}

/// A size such as `200MB`, `1.5GiB` or `1048576`.
fn parse_size(s: &str) -> Result<u64, String> {
    s.trim()
        .parse::<bytesize::ByteSize>()
        .map(|b| b.as_u64())
        .map_err(|e| format!("{e} (examples: 200MB, 1GiB, 1048576)"))
}
