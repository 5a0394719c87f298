//! A throwaway PostgreSQL cluster for scripts (`scripts/bench --database postgres`):
//! prints the URL of a fresh database on stdout, then runs until it is killed; the
//! cluster's watchdog stops it and deletes its files once this process is gone.

fn main() -> std::process::ExitCode {
    let cluster = match pg_throwaway::Cluster::start() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cluster: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match cluster.create_database() {
        Ok(url) => println!("{url}"),
        Err(e) => {
            eprintln!("cluster: {e}");
            return std::process::ExitCode::from(2);
        }
    }
    loop {
        std::thread::park();
    }
}
