// The app's nested `view!` types are laid out here too (see lib.rs).
#![recursion_limit = "512"]

// mimalloc returns freed memory to the system far better than glibc's per-thread arenas
// under many concurrent requests (see memory.rs).
#[cfg(feature = "ssr")]
#[global_allocator]
static GLOBAL: autonexus::memory::Allocator = autonexus::memory::Allocator {};

#[cfg(feature = "ssr")]
fn main() {
    autonexus::memory::return_freed_memory_at_once();
    // SQLite (C) allocates through glibc's malloc, which gives each of the read pool's
    // threads its own arena and keeps what a search freed: two arenas bound that. In WAL
    // mode a read connection drops its whole page cache whenever another has written, and
    // glibc handed those pages back to the system at once only to fault them in again on
    // the next read: free memory up to 16 MB stays in the arena.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: called before any other thread exists; mallopt only tunes the allocator.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 16 << 20);
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts")
        .block_on(run());
}

#[cfg(feature = "ssr")]
async fn run() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info,sqlx=warn"));
    // LOG_FORMAT=json: one JSON object per line (with the request id), for log collectors.
    if std::env::var("LOG_FORMAT").is_ok_and(|f| f == "json") {
        tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    } else {
        // Logs go to stderr; stdout carries only the "listening on" line.
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    let config = match autonexus::config::Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(2);
        }
    };
    let problems = config.deploy_problems();
    if std::env::args().nth(1).as_deref() == Some("check-deploy") {
        for problem in &problems {
            println!("- {problem}");
        }
        println!("{} problem(s) found.", problems.len());
        std::process::exit(if problems.is_empty() { 0 } else { 1 });
    }
    if std::env::args().nth(1).as_deref() == Some("backup") {
        let Some(target) = std::env::args().nth(2) else {
            eprintln!("usage: autonexus backup PATH   (PATH: a new directory for the copy)");
            std::process::exit(2);
        };
        match autonexus::backup::run(&config, std::path::Path::new(&target)).await {
            Ok(manifest) => {
                println!(
                    "backup in {target}: {} listings, {} photo files ({} missing from the store)",
                    manifest.listings,
                    manifest.files.len(),
                    manifest.missing.len()
                );
                std::process::exit(0);
            }
            Err(error) => {
                eprintln!("backup failed: {error}");
                std::process::exit(1);
            }
        }
    }
    if config.production && !problems.is_empty() {
        eprintln!("refusing to start in production (AUTONEXUS_ENV=production) with an insecure configuration:");
        for problem in &problems {
            eprintln!("- {problem}");
        }
        std::process::exit(2);
    }
    if let Err(error) = autonexus::routes::serve(config).await {
        eprintln!("autonexus failed to start: {error}");
        std::process::exit(1);
    }
}

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // The browser entry point is `hydrate` in lib.rs.
}
