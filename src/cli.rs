//! The `shanhe` command line: `serve` (the default), `migrate`, `admin create`.

use std::io::Read;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::app;
use crate::config::Config;
use crate::db::DbUrl;

#[derive(Debug, Parser)]
#[command(
    name = "shanhe",
    version,
    about = "汕鹤优选 — Shantou orders, Hegang ships"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API server (the default)
    Serve(Box<Config>),
    /// Apply pending database migrations and exit
    Migrate(DbArgs),
    /// Manage platform admins
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Load the demo marketplace (Hegang and Shantou co-ops, products, stock, demo logins);
    /// running it again changes nothing
    Demo(DemoArgs),
    /// Benchmark order placement against a running server (see docs/performance.md)
    Bench(crate::tools::bench::BenchArgs),
}

#[derive(Debug, Args)]
pub struct DbArgs {
    /// `sqlite://PATH`, a plain path, or `postgres://…`
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/shanhe.db", value_parser = DbUrl::parse)]
    pub database_url: DbUrl,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Also top the catalogue up to this many products from generated co-ops (three SKUs
    /// each, Chinese names and descriptions), to measure catalogue pages at scale
    #[arg(long)]
    pub products: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin account (the password is read from stdin unless --password is given)
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: Option<String>,
        #[arg(long, default_value = "Administrator")]
        display_name: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// Logs to stderr: one line per finished request (its span, with the request id, route,
/// status and time), plus whatever happens inside it. Client errors are answered, not logged
/// as warnings; server errors are logged with their cause.
fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,actix_server=warn,tracing_actix_web::middleware=error")
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .try_init();
}

pub fn main() -> ExitCode {
    init_tracing();
    let cli = Cli::parse();
    let command = match cli.command {
        Some(c) => c,
        None => match Cli::try_parse_from(["shanhe", "serve"]) {
            Ok(Cli {
                command: Some(c), ..
            }) => c,
            Ok(_) => return ExitCode::FAILURE,
            Err(e) => e.exit(),
        },
    };
    let result = match command {
        Command::Serve(config) => serve(*config),
        Command::Migrate(args) => migrate(args),
        Command::Admin(AdminCommand::Create {
            email,
            password,
            display_name,
            db,
        }) => create_admin(db, &email, password, &display_name),
        Command::Demo(args) => demo(args),
        Command::Bench(args) => crate::tools::bench::main(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: Config) -> Result<(), String> {
    tracing::info!(?config, "starting");
    let bind = config.bind.clone();
    let shared = app::prepare(config)?;
    let listener =
        std::net::TcpListener::bind(&bind).map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    actix_web::rt::System::new().block_on(async move {
        let running = app::start(shared, listener).map_err(|e| e.to_string())?;
        println!("汕鹤优选 listening on http://{addr}");
        println!("  storefront: http://{addr}/");
        println!("  API reference: http://{addr}/docs/   health: http://{addr}/health/ready");
        running.server.await.map_err(|e| e.to_string())
    })
}

fn migrate(args: DbArgs) -> Result<(), String> {
    let config = Config::for_database(args.database_url);
    let pool = app::open_pool(&config)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let applied = app::migrate(&mut conn)?;
    println!("{} migration(s) applied", applied.len());
    for m in applied {
        println!("  {m}");
    }
    Ok(())
}

fn create_admin(
    args: DbArgs,
    email: &str,
    password: Option<String>,
    display_name: &str,
) -> Result<(), String> {
    let password = match password {
        Some(p) => p,
        None => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
            s.lines().next().unwrap_or_default().to_owned()
        }
    };
    let email = crate::auth::domain::Email::parse(email).map_err(|m| format!("email {m}"))?;
    let password = crate::auth::domain::Password::parse(&password, Some(email.as_str()))
        .map_err(|m| format!("password {m}"))?;
    let display_name = crate::http::validate::bounded_text(display_name, 64)
        .map_err(|m| format!("display name {m}"))?;
    let config = Config::for_database(args.database_url);
    let pool = app::open_pool(&config)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    app::migrate(&mut conn)?;
    let hash = crate::auth::password::hash(password.expose())?;
    let outcome = crate::auth::repo::ensure_admin(&mut conn, email.as_str(), &display_name, &hash)
        .map_err(|e| e.to_string())?;
    match outcome {
        crate::auth::repo::AdminOutcome::Created => println!("admin {} created", email.as_str()),
        crate::auth::repo::AdminOutcome::AlreadyExists => {
            println!("a user {} already exists; left unchanged", email.as_str())
        }
    }
    Ok(())
}

fn demo(args: DemoArgs) -> Result<(), String> {
    let config = Config::for_database(args.db.database_url);
    let pool = app::open_pool(&config)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    app::migrate(&mut conn)?;
    let loaded = crate::tools::demo::load(&mut conn).map_err(|e| e.to_string())?;
    if loaded.products_created == 0 {
        println!("the demo marketplace was already loaded; nothing changed");
    } else {
        println!(
            "loaded {} demo products with stock",
            loaded.products_created
        );
    }
    if let Some(target) = args.products {
        let started = std::time::Instant::now();
        let added = crate::tools::big_catalogue::top_up(&mut conn, target, |have| {
            eprint!("\r  {have} products");
        })
        .map_err(|e| e.to_string())?;
        if added > 0 {
            eprintln!();
        }
        println!(
            "added {added} generated products ({target} in the catalogue) in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    println!("demo logins:");
    for a in crate::tools::demo::ACCOUNTS {
        println!("  {:<26} {:<18} {}", a.email, a.password, a.what);
    }
    Ok(())
}
