//! Commands of API.md. Every command takes `--data-dir` and
//! `--database-url` (or `PLAUDIT_DATA_DIR` / `PLAUDIT_DATABASE_URL`), so the
//! command line and the server see the same database.

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use plaudit_app::orgs::NewOrg;
use plaudit_app::{App, Config};
use plaudit_domain::org::Plan;
use plaudit_domain::Error;
use plaudit_store::Store;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "plaudit", version, about = "Employee recognition and goals, self-hosted")]
struct Cli {
    #[command(flatten)]
    db: DbArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct DbArgs {
    /// Where Plaudit keeps its files (the SQLite database, generated keys).
    #[arg(long, global = true, env = "PLAUDIT_DATA_DIR", default_value = "./plaudit-data")]
    data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`; default: SQLite in the data dir.
    #[arg(long, global = true, env = "PLAUDIT_DATABASE_URL")]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Organisations (tenants).
    #[command(subcommand)]
    Org(OrgCommand),
    /// Import data.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Members.
    #[command(subcommand)]
    Member(MemberCommand),
    /// SCIM provisioning.
    #[command(subcommand)]
    Scim(ScimCommand),
    /// Copy the SQLite database consistently while the server runs.
    Backup { file: PathBuf },
    /// Check the points ledger: every cached balance equals the sum of its
    /// entries, nothing is negative, no allowance is overspent.
    Verify,
    /// Post today's work anniversaries and birthdays now (the server does it by itself).
    Celebrate,
    /// The Slack app.
    #[command(subcommand)]
    Slack(SlackCommand),
}

#[derive(Subcommand)]
enum SlackCommand {
    /// Link a Slack workspace to an organisation by hand (installs without the OAuth flow).
    Link {
        #[arg(long)]
        org: String,
        #[arg(long)]
        team_id: String,
        #[arg(long)]
        bot_token: String,
    },
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PLAUDIT_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// Create (once) a demo organisation and print how to sign in.
    #[arg(long)]
    demo: bool,
    /// Turn self-serve sign-up off.
    #[arg(long, env = "PLAUDIT_DISABLE_SIGNUP")]
    disable_signup: bool,
    /// The external base URL (links; `https://…` makes cookies Secure).
    #[arg(long, env = "PLAUDIT_PUBLIC_URL")]
    public_url: Option<String>,
    /// Let webhook endpoints be on this machine or a private network
    /// (on-premise receivers, tests). Off: only public addresses are called.
    #[arg(long, env = "PLAUDIT_WEBHOOKS_ALLOW_PRIVATE")]
    webhooks_allow_private: bool,
    /// The SMTP server for outgoing mail: `smtp://host:port` (plain),
    /// `smtp://host:587?tls=required` (STARTTLS), `smtps://user:pass@host:465`
    /// (implicit TLS). Without it no mail is sent.
    #[arg(long, env = "PLAUDIT_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// The sender of outgoing mail.
    #[arg(long, env = "PLAUDIT_SMTP_FROM", default_value = plaudit_app::mail::DEFAULT_FROM)]
    smtp_from: String,
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create an organisation and its owner.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        slug: String,
        #[arg(long)]
        admin_email: String,
        /// Without it the owner signs in after `plaudit member set-password`.
        #[arg(long)]
        admin_password: Option<String>,
        #[arg(long, default_value = "free")]
        plan: String,
        #[arg(long, default_value = "UTC")]
        timezone: String,
    },
    /// Switch an organisation's plan.
    SetPlan { slug: String, plan: String },
    /// List organisations.
    List,
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import or update members from an HR export (CSV).
    Members {
        #[arg(long)]
        org: String,
        file: PathBuf,
        /// Check everything and report, but write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum MemberCommand {
    /// Set a member's password (prompts when --password is not given).
    SetPassword {
        #[arg(long)]
        org: String,
        email: String,
        #[arg(long)]
        password: Option<String>,
    },
}

#[derive(Subcommand)]
enum ScimCommand {
    /// Create a SCIM token for an organisation (made as its owner); prints
    /// only the token, which is shown this once.
    CreateToken {
        #[arg(long)]
        org: String,
        #[arg(long, default_value = "SCIM")]
        name: String,
    },
}

impl DbArgs {
    fn url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("plaudit.db").display()))
    }

    /// Opens the database for a command that never reads or writes sealed
    /// secrets (a random key, so nothing is written to the data dir).
    fn open(&self, config: Config) -> Result<App, Error> {
        let store = Store::open(&self.url())?;
        store.migrate()?;
        Ok(App::new(store, config))
    }

    /// Opens the database with the secret key of `PLAUDIT_SECRET_KEY`, or
    /// the data dir's (generated once): the server seals gift-card codes
    /// and fulfilment notes with it.
    fn open_with_secrets(&self, mut config: Config) -> Result<App, Error> {
        let configured = std::env::var("PLAUDIT_SECRET_KEY").ok();
        config.secret_key = plaudit_app::secrets::SecretKey::load_or_create(configured.as_deref(), &self.data_dir)?;
        self.open(config)
    }
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PLAUDIT_LOG").unwrap_or_else(|_| "info,plaudit=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match execute(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", e.message);
            ExitCode::FAILURE
        }
    }
}

fn execute(cli: Cli) -> Result<ExitCode, Error> {
    match cli.command {
        Command::Serve(args) => serve(&cli.db, args),
        Command::Migrate => {
            let store = Store::open(&cli.db.url())?;
            let applied = store.migrate()?;
            if applied.is_empty() {
                println!("the database is up to date");
            }
            for v in applied {
                println!("applied {v}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Org(cmd) => {
            let app = cli.db.open(Config::default())?;
            match cmd {
                OrgCommand::Create { name, slug, admin_email, admin_password, plan, timezone } => {
                    let (org, owner) = app.create_org(NewOrg {
                        name,
                        slug,
                        timezone,
                        plan: Plan::parse(&plan)?,
                        owner_email: admin_email,
                        owner_name: String::new(),
                        owner_password: admin_password,
                    })?;
                    println!(
                        "created organisation {} ({}, {} plan) with owner {}",
                        org.slug,
                        org.name,
                        org.plan.as_str(),
                        owner.profile.email
                    );
                }
                OrgCommand::SetPlan { slug, plan } => {
                    let org = app.set_plan(&slug, Plan::parse(&plan)?)?;
                    println!("{} is now on the {} plan", org.slug, org.plan.as_str());
                }
                OrgCommand::List => {
                    for org in app.list_orgs()? {
                        println!("{}\t{}\t{}\t{}", org.slug, org.plan.as_str(), org.timezone, org.name);
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(ImportCommand::Members { org, file, dry_run, json }) => {
            let app = cli.db.open(Config::default())?;
            import_members(&app, &org, file, dry_run, json)
        }
        Command::Member(MemberCommand::SetPassword { org, email, password }) => {
            let app = cli.db.open(Config::default())?;
            let password = match password {
                Some(p) => p,
                None => prompt_password()?,
            };
            let m = app.set_password(&org, &email, &password)?;
            println!("password set for {}; their other sessions were ended", m.profile.email);
            Ok(ExitCode::SUCCESS)
        }
        Command::Scim(ScimCommand::CreateToken { org, name }) => {
            let app = cli.db.open(Config::default())?;
            let (raw, token) = app.operator_scim_token(&org, &name)?;
            eprintln!("created SCIM token {} for {org}; it is shown only now", token.id);
            println!("{raw}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify => {
            let app = cli.db.open(Config::default())?;
            let problems = app.verify_ledger()?;
            if problems.is_empty() {
                println!("ledger verified: every balance matches its entries");
                return Ok(ExitCode::SUCCESS);
            }
            for p in &problems {
                println!("{p}");
            }
            println!("{} problem(s) found", problems.len());
            Ok(ExitCode::from(2))
        }
        Command::Celebrate => {
            let app = cli.db.open(Config::default())?;
            println!("{} celebration(s) posted", app.run_celebrations()?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Slack(SlackCommand::Link { org, team_id, bot_token }) => {
            // The bot token is sealed with the server's key, so open with it.
            let app = cli.db.open_with_secrets(Config::default())?;
            let install = app.slack_link(&org, &team_id, &bot_token)?;
            println!(
                "linked Slack workspace {} to {org}; choose the channel for posts on /admin/integrations/slack",
                install.team_id
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { file } => {
            let store = Store::open(&cli.db.url())?;
            if file.exists() {
                return Err(Error::invalid("file", format!("{} exists already", file.display())));
            }
            store.backup(&file)?;
            println!("backed up to {}", file.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn prompt_password() -> Result<String, Error> {
    use std::io::BufRead;
    eprint!("new password: ");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| Error::invalid("password", e.to_string()))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn import_members(app: &App, org: &str, file: PathBuf, dry_run: bool, json: bool) -> Result<ExitCode, Error> {
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{spinner} importing [{bar:40}] {pos}/{len} rows ({per_sec}, {eta} left)")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Some(bar)
    } else {
        None
    };
    let progress = |done: u64, total: u64| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    };
    let report = app.import_members(org, None, &file, dry_run, &progress)?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
        return Ok(ExitCode::SUCCESS);
    }
    let prefix = if dry_run { "dry run, nothing written: " } else { "" };
    println!(
        "{prefix}{} {}: {} created, {} updated ({} deactivated, {} reactivated), {} unchanged, {} skipped",
        report.rows,
        if report.rows == 1 { "row" } else { "rows" },
        report.created,
        report.updated,
        report.deactivated,
        report.reactivated,
        report.unchanged,
        report.skipped.len()
    );
    if report.no_changes() && report.skipped.is_empty() {
        println!("no changes: the directory already matches the file");
    } else if report.no_changes() {
        println!("nothing was written: every row either matches the directory or was skipped");
    }
    for s in &report.skipped {
        println!("  line {}: {} {} ({})", s.line, s.email, s.reason, s.code);
    }
    Ok(ExitCode::SUCCESS)
}

fn serve(db: &DbArgs, args: ServeArgs) -> Result<ExitCode, Error> {
    let started = std::time::Instant::now();
    let public_url = args.public_url.clone().unwrap_or_else(|| format!("http://{}", args.bind));
    let public_url = public_url.trim_end_matches('/').to_string();
    let mail = plaudit_app::mail::MailConfig::from_settings(args.smtp_url.as_deref(), Some(&args.smtp_from))?;
    match &mail.smtp {
        Some(s) => tracing::info!(host = %s.host, port = s.port, tls = s.tls.describe(), "mail goes out over SMTP"),
        None => tracing::info!("PLAUDIT_SMTP_URL is not set: no mail is sent"),
    }
    let config = Config {
        signup_enabled: !args.disable_signup,
        public_url: public_url.clone(),
        webhooks_allow_private: args.webhooks_allow_private,
        slack: slack_config(),
        mail,
        ..Config::default()
    };
    let app = db.open_with_secrets(config)?;
    let demo = if args.demo { Some(app.ensure_demo()?) } else { None };
    let options = plaudit_web::WebOptions { secure_cookies: public_url.starts_with("https://"), public_url };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.bind)
            .await
            .map_err(|e| Error::invalid("bind", format!("cannot listen on {}: {e}", args.bind)))?;
        let addr = listener.local_addr().map_err(|e| Error::internal(e.to_string()))?;
        println!("Plaudit is ready at http://{addr} (started in {} ms)", started.elapsed().as_millis());
        if let Some(d) = demo {
            let what = if d.created { "created" } else { "already there" };
            println!("Demo organisation {what}. Sign in at {}/signin with", options.public_url);
            println!("  organisation: {}", d.org_slug);
            println!("  admin:        {}  password: {}", d.owner_email, d.password);
            println!("  member:       {}  password: {}", d.member_email, d.password);
        }
        tokio::spawn(run_jobs(app.clone()));
        let router = plaudit_web::router(app, options);
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(|e| Error::internal(format!("server error: {e}")))
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The Slack app's settings from `PLAUDIT_SLACK_*`.
fn slack_config() -> plaudit_app::slack::SlackConfig {
    let var = |name: &str| std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let defaults = plaudit_app::slack::SlackConfig::default();
    plaudit_app::slack::SlackConfig {
        signing_secret: var("PLAUDIT_SLACK_SIGNING_SECRET"),
        client_id: var("PLAUDIT_SLACK_CLIENT_ID"),
        client_secret: var("PLAUDIT_SLACK_CLIENT_SECRET"),
        api_url: var("PLAUDIT_SLACK_API_URL").map(|u| u.trim_end_matches('/').to_string()).unwrap_or(defaults.api_url),
        authorize_url: var("PLAUDIT_SLACK_AUTHORIZE_URL").unwrap_or(defaults.authorize_url),
    }
}

/// Background work: today's celebrations every 15 minutes (each is posted
/// once, however many instances run this), the weekly mails checked every
/// minute (each week's are queued once), and the job queue (events,
/// deliveries, e-mail) every `PLAUDIT_JOBS_INTERVAL_MS` (default 2 s).
async fn run_jobs(app: App) {
    let queue = app.clone();
    tokio::spawn(async move {
        let every = std::env::var("PLAUDIT_JOBS_INTERVAL_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000u64);
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(every.max(50)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let app = queue.clone();
            if let Ok(Err(e)) = tokio::task::spawn_blocking(move || app.run_due_jobs()).await {
                tracing::warn!(error = %e, "running jobs failed");
            }
        }
    });
    let weekly = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let app = weekly.clone();
            match tokio::task::spawn_blocking(move || app.schedule_periodic_mail()).await {
                Ok(Ok(n)) if n > 0 => tracing::info!(queued = n, "weekly mails queued"),
                Ok(Err(e)) => tracing::warn!(error = %e, "scheduling weekly mails failed"),
                _ => {}
            }
        }
    });
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(15 * 60));
    loop {
        tick.tick().await;
        let app = app.clone();
        match tokio::task::spawn_blocking(move || app.run_celebrations()).await {
            Ok(Ok(n)) if n > 0 => tracing::info!(posted = n, "celebrations posted"),
            Ok(Err(e)) => tracing::warn!(error = %e, "celebrations failed"),
            _ => {}
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
